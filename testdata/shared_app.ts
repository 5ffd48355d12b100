// A server for the multi-process tests: the store of
// examples/store_from_env.ts, and routes that let a test overlap requests
// across processes. PORT says where to listen; LIFETIME (ms) how long a
// session lasts.
//
//   GET /set?key=k&value=v   puts k  (POST /set?key=k: the body is the value)
//   GET /all                 the session's values, as JSON
//   GET /slow?gate=g&key=k   loads the session, waits for /release?gate=g, puts k
//   GET /loaded?gate=g       answers once /slow?gate=g has loaded its session
//   GET /release?gate=g      lets /slow?gate=g finish
//   GET /login?user=u        renews the token and puts user=u (ada by default)
//   GET /logout              destroys the session
//   GET /devices             the signed-in user's sessions, as JSON
//   GET /others              signs out the user's other sessions

import { SessionManager } from "../mod.ts";
import { storeFromEnv } from "../examples/store_from_env.ts";

const { store } = await storeFromEnv();
const lifetime = Deno.env.get("LIFETIME");
const sessions = new SessionManager<Record<string, string>>({
  store,
  onDropped: () => {},
  users: { key: "user" },
  ...(lifetime ? { lifetime: Number(lifetime) } : {}),
});

const gates = new Map<
  string,
  { loaded: PromiseWithResolvers<void>; release: PromiseWithResolvers<void> }
>();
function gate(name: string) {
  let found = gates.get(name);
  if (found === undefined) {
    found = {
      loaded: Promise.withResolvers(),
      release: Promise.withResolvers(),
    };
    gates.set(name, found);
  }
  return found;
}

const handler = sessions.loadAndSave(async (request, session) => {
  const url = new URL(request.url);
  const param = (name: string) => url.searchParams.get(name) ?? "";
  switch (url.pathname) {
    case "/set":
      session.put(
        param("key"),
        request.method === "POST" ? await request.text() : param("value"),
      );
      return new Response("ok");
    case "/all":
      return Response.json(
        Object.fromEntries(session.keys().map((k) => [k, session.get(k)])),
      );
    case "/slow": {
      const { loaded, release } = gate(param("gate"));
      loaded.resolve();
      await release.promise;
      session.put(param("key"), "late");
      return new Response("ok");
    }
    case "/loaded":
      await gate(param("gate")).loaded.promise;
      return new Response("ok");
    case "/release":
      gate(param("gate")).release.resolve();
      return new Response("ok");
    case "/login":
      session.renewToken();
      session.put("user", param("user") || "ada");
      return new Response("ok");
    case "/logout":
      session.destroy();
      return new Response("ok");
    case "/devices":
      return Response.json(
        await sessions.users.list(session.get("user")!, session),
      );
    case "/others":
      return Response.json(
        await sessions.users.revokeAll(session.get("user")!, {
          except: session,
        }),
      );
  }
  return new Response("Not Found", { status: 404 });
});

Deno.serve({ port: Number(Deno.env.get("PORT")) }, handler);
