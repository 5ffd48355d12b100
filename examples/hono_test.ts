import assert from "node:assert/strict";
import { SessionManager } from "../mod.ts";
import { type Browser, browser } from "../_test_helpers.ts";
import { createApp } from "./hono.ts";

type Values = { visits: number; user: string; flash: string };

async function visit(b: Browser) {
  const response = await b.send("/");
  assert.equal(response.headers.get("vary"), "Cookie");
  return await response.json();
}

Deno.test("examples/hono.ts counts visits, signs in and out, and shows a flash once", async () => {
  using sessions = new SessionManager<Values>();
  const app = createApp(sessions);
  const b = browser((request) => app.fetch(request), "http://localhost");
  assert.deepEqual(await visit(b), { visits: 1, user: null, flash: null });
  assert.deepEqual(await visit(b), { visits: 2, user: null, flash: null });
  const before = b.cookie;
  const login = await b.post("/login", { user: "ada" });
  assert.equal(login.status, 303);
  assert.notEqual(b.cookie, before, "a new token at sign-in");
  assert.deepEqual(await visit(b), {
    visits: 3,
    user: "ada",
    flash: "Welcome, ada!",
  });
  assert.deepEqual(await visit(b), { visits: 4, user: "ada", flash: null });
  const logout = await b.post("/logout");
  assert.match(logout.headers.get("set-cookie")!, /^session=; Max-Age=0/);
  assert.deepEqual(await visit(b), { visits: 1, user: null, flash: null });
  assert.equal((await b.post("/login", { user: "not a name!" })).status, 400);
});

Deno.test("examples/hono.ts refuses a sign-in posted from another site", async () => {
  using sessions = new SessionManager<Values>();
  const app = createApp(sessions);
  const response = await app.request("/login", {
    method: "POST",
    body: new URLSearchParams({ user: "mallory" }),
    headers: { origin: "https://evil.example" },
  });
  assert.equal(response.status, 403);
  assert.equal(response.headers.get("set-cookie"), null);
});

Deno.test("examples/hono.ts over real HTTP", async () => {
  using sessions = new SessionManager<Values>();
  const app = createApp(sessions);
  await using server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    app.fetch,
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  const b = browser(fetch, base);
  assert.equal((await visit(b)).visits, 1);
  const login = await b.post("/login", { user: "ada" });
  await login.body?.cancel();
  assert.deepEqual(await visit(b), {
    visits: 2,
    user: "ada",
    flash: "Welcome, ada!",
  });
});
