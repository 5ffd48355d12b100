// The seed example's requests and the Hono example (examples/hono.ts, built
// against the package), over real HTTP, on the runtime that runs this file:
//
//   node check.mjs        (Node 20+, serving with @hono/node-server)
//   bun check.mjs         (Bun 1.x, serving with Bun.serve)
//
// Ends with "ok | N passed | N failed", like `deno test`.

import assert from "node:assert/strict";
import { MemStore, SessionManager } from "@sessions/memstore";
import { createApp } from "./examples/hono.js";

const runtime = typeof Bun === "undefined"
  ? `Node ${process.versions.node}`
  : `Bun ${Bun.version}`;

/** Serves `fetch` on a free port; its base URL and a way to stop it. */
async function serve(fetch) {
  if (typeof Bun !== "undefined") {
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch });
    return {
      base: `http://127.0.0.1:${server.port}`,
      close: () => server.stop(true),
    };
  }
  const { serve } = await import("@hono/node-server");
  return await new Promise((resolve) => {
    const server = serve(
      { fetch, port: 0, hostname: "127.0.0.1" },
      (info) =>
        resolve({
          base: `http://127.0.0.1:${info.port}`,
          close: () =>
            new Promise((done) => {
              server.closeAllConnections?.();
              server.close(done);
            }),
        }),
    );
  });
}

/** A browser: one cookie, sent with every request. */
function browser(base) {
  let cookie;
  return {
    get cookie() {
      return cookie;
    },
    async send(path, init = {}) {
      const headers = new Headers(init.headers);
      if (cookie) headers.set("cookie", cookie);
      const response = await fetch(base + path, {
        ...init,
        headers,
        redirect: "manual",
      });
      const set = response.headers.get("set-cookie");
      if (set !== null) {
        cookie = /Max-Age=0/.test(set) ? undefined : set.split(";")[0];
      }
      return response;
    },
  };
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test("no Deno global", () => {
  assert.equal(typeof globalThis.Deno, "undefined");
});

test("the seed example: /put stores a message, /get reads it back", async () => {
  // Node 20 has Symbol.dispose but not `using`: dispose by hand.
  const sessions = new SessionManager({
    store: new MemStore({ cleanupInterval: 0 }),
  });
  const handler = sessions.loadAndSave((request, session) => {
    const url = new URL(request.url);
    if (url.pathname === "/put") {
      session.put("message", "Hello from a session!");
      return new Response("stored\n");
    }
    if (url.pathname === "/get") {
      return new Response(session.get("message") ?? "");
    }
    return new Response("Not Found", { status: 404 });
  });
  const server = await serve(handler);
  try {
    const b = browser(server.base);
    const empty = await b.send("/get");
    assert.equal(await empty.text(), "");
    assert.equal(empty.headers.get("vary"), "Cookie");
    const put = await b.send("/put");
    await put.arrayBuffer();
    const set = put.headers.get("set-cookie");
    assert.match(set, /^session=[A-Za-z0-9_-]{43}; Max-Age=86400; Path=\/; /);
    assert.match(set, /; HttpOnly; SameSite=Lax$/);
    assert.equal(put.headers.get("cache-control"), 'no-cache="Set-Cookie"');
    const got = await b.send("/get");
    assert.equal(await got.text(), "Hello from a session!");
    assert.equal(got.headers.get("set-cookie"), null);
    const stranger = await fetch(`${server.base}/get`, {
      headers: { cookie: "session=%zz; session=" + "A".repeat(43) },
    });
    assert.equal(await stranger.text(), "", "an unknown token is no session");
  } finally {
    await server.close();
    sessions[Symbol.dispose]();
  }
});

test("the Hono example: visits, sign-in with a flash, sign-out", async () => {
  const sessions = new SessionManager();
  const server = await serve(createApp(sessions).fetch);
  try {
    const b = browser(server.base);
    const visit = async () => (await b.send("/")).json();
    const post = (path, form = {}) =>
      b.send(path, {
        method: "POST",
        body: new URLSearchParams(form),
        headers: { origin: server.base },
      });
    assert.deepEqual(await visit(), { visits: 1, user: null, flash: null });
    assert.deepEqual(await visit(), { visits: 2, user: null, flash: null });
    const before = b.cookie;
    const login = await post("/login", { user: "ada" });
    assert.equal(login.status, 303);
    await login.arrayBuffer();
    assert.notEqual(b.cookie, before, "a new token at sign-in");
    assert.deepEqual(await visit(), {
      visits: 3,
      user: "ada",
      flash: "Welcome, ada!",
    });
    assert.deepEqual(await visit(), { visits: 4, user: "ada", flash: null });
    const forged = await b.send("/logout", {
      method: "POST",
      body: new URLSearchParams(),
      headers: { origin: "https://evil.example" },
    });
    assert.equal(forged.status, 403, "csrf() refuses another site's post");
    await forged.arrayBuffer();
    const logout = await post("/logout");
    assert.equal(logout.status, 303);
    await logout.arrayBuffer();
    assert.equal(b.cookie, undefined, "the cookie is cleared at sign-out");
    assert.deepEqual(await visit(), { visits: 1, user: null, flash: null });
  } finally {
    await server.close();
    sessions[Symbol.dispose]();
  }
});

let passed = 0;
let failed = 0;
for (const { name, fn } of tests) {
  try {
    await fn();
    passed++;
    console.log(`${runtime}: ${name} ... ok`);
  } catch (error) {
    failed++;
    console.log(`${runtime}: ${name} ... FAILED`);
    console.log(error);
  }
}
console.log(
  `${failed === 0 ? "ok" : "FAILED"} | ${passed} passed | ${failed} failed`,
);
process.exitCode = failed === 0 ? 0 : 1;
