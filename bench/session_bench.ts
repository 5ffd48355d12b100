// Microbenchmarks of the request path, each beside a baseline, so that a
// regression in one piece shows: deno bench bench/session_bench.ts

import { parseCookie } from "cookie";
import { SessionCookie } from "../_cookie.ts";
import { managerConfig } from "../_manager_options.ts";
import { isToken, newToken } from "../_token.ts";
import { jsonCodec } from "../codec.ts";
import { MemStore } from "../memstore.ts";
import { SessionManager } from "../manager.ts";

const token = newToken();
const header = `_ga=GA1.1.123456789.1700000000; theme=dark; session=${token}`;

Deno.bench("Cookie header: find a name with indexOf", {
  group: "cookie",
  baseline: true,
}, () => {
  const at = header.indexOf("session=");
  header.slice(at + 8, at + 8 + 43);
});
Deno.bench("Cookie header: cookie's parseCookie", { group: "cookie" }, () => {
  parseCookie(header);
});
const sessionCookie = new SessionCookie(managerConfig().cookie, true);
Deno.bench("Cookie header: SessionCookie.read (its own scan + token check)", {
  group: "cookie",
}, () => {
  sessionCookie.read(header);
});

Deno.bench(
  "token: string length check",
  { group: "token", baseline: true },
  () => {
    void (token.length === 43);
  },
);
Deno.bench("token: isToken", { group: "token" }, () => {
  isToken(token);
});

const data = {
  deadline: new Date(Date.now() + 86_400_000),
  values: { message: "Hello from a session!" },
};
const bytes = jsonCodec.encode(data);
const text = new TextDecoder().decode(bytes);
Deno.bench("codec: JSON.parse of the same text", {
  group: "decode",
  baseline: true,
}, () => {
  JSON.parse(text);
});
Deno.bench("codec: jsonCodec.decode", { group: "decode" }, () => {
  jsonCodec.decode(bytes);
});
Deno.bench("codec: JSON.stringify of the same record", {
  group: "encode",
  baseline: true,
}, () => {
  JSON.stringify({ deadline: 0, values: data.values });
});
Deno.bench("codec: jsonCodec.encode", { group: "encode" }, () => {
  jsonCodec.encode(data);
});

const store = new MemStore({ cleanupInterval: 0 });
const sessions = new SessionManager<{ message: string }>({ store });
const seed = await sessions.load("");
seed.put("message", "Hello from a session!");
const { token: live } = await sessions.commit(seed);

Deno.bench("load + commit: MemStore find + commit of the bytes", {
  group: "load+commit",
  baseline: true,
}, async () => {
  const found = await store.find(live);
  await store.commit(live, found!, new Date(Date.now() + 60_000));
});
Deno.bench("load + commit: SessionManager load, put, commit", {
  group: "load+commit",
}, async () => {
  const session = await sessions.load(live);
  session.put("message", "Hello from a session!");
  await sessions.commit(session);
});

const cookie = `session=${live}`;
const bare = (request: Request) => {
  const path = new URL(request.url).pathname;
  return new Response(path === "/get" ? "Hello from a session!" : null);
};
const app = sessions.loadAndSave((request, session) => {
  if (new URL(request.url).pathname === "/put") {
    session.put("message", "Hello from a session!");
    return new Response(null);
  }
  return new Response(session.get("message") ?? "");
});
const getRequest = () =>
  new Request("http://localhost/get", { headers: { cookie } });
const putRequest = () =>
  new Request("http://localhost/put", { headers: { cookie } });

Deno.bench(
  "request: bare handler, /get",
  { group: "request", baseline: true },
  () => {
    bare(getRequest());
  },
);
Deno.bench("request: loadAndSave, /get with a live session", {
  group: "request",
}, async () => {
  await app(getRequest());
});
Deno.bench("request: loadAndSave, /put with a live session", {
  group: "request",
}, async () => {
  await app(putRequest());
});
