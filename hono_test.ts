import assert from "node:assert/strict";
import { assertAppHeadersKept, failingStore } from "./_test_helpers.ts";
import { Hono } from "npm:hono@^4.6.0";
import { setCookie } from "npm:hono@^4.6.0/cookie";
import { sessionMiddleware } from "./hono.ts";
import { SessionManager } from "./manager.ts";

Deno.test("sessionMiddleware() keeps the headers the handler set, and adds its own", async () => {
  using sessions = new SessionManager<{ theme: string }>();
  const app = new Hono().use(sessionMiddleware(sessions)).get("/", (c) => {
    c.var.session.put("theme", "dark"); // typed: only "theme" is a key
    setCookie(c, "lang", "en");
    c.header("vary", "Accept-Encoding");
    c.header("cache-control", "private");
    return c.text("ok");
  });
  const response = await app.request("/");
  await assertAppHeadersKept(response);
});

Deno.test("sessionMiddleware() answers with onError when the store fails", async () => {
  for (const failing of ["find", "commit"] as const) {
    const store = failingStore(failing);
    using sessions = new SessionManager<{ n: number }>({
      store,
      onError: () => new Response("later", { status: 503 }),
    });
    const app = new Hono().use(sessionMiddleware(sessions)).get("/", (c) => {
      c.var.session.put("n", 1);
      return c.text("ok");
    });
    const response = await app.request("/", {
      headers: { cookie: `session=${"A".repeat(43)}` },
    });
    assert.equal(response.status, 503, failing);
    assert.equal(await response.text(), "later");
    assert.equal(response.headers.get("vary"), "Cookie");
  }
});

Deno.test("sessionMiddleware() saves nothing when a handler throws", async () => {
  using sessions = new SessionManager<{ paid: boolean; n: number }>();
  const app = new Hono().use(sessionMiddleware(sessions))
    .get("/start", (c) => {
      c.var.session.put("n", 1);
      return c.text("ok");
    })
    .get("/pay", (c) => {
      c.var.session.put("paid", true);
      throw new Error("the payment failed");
    })
    .get("/paid", (c) => c.text(String(c.var.session.get("paid") ?? false)))
    .onError((_error, c) => c.text("failed", 500));
  const start = await app.request("/start");
  const cookie = start.headers.get("set-cookie")!.split(";")[0]!;
  const failed = await app.request("/pay", { headers: { cookie } });
  assert.equal(failed.status, 500);
  assert.equal(failed.headers.get("set-cookie"), null);
  await failed.body?.cancel();
  const paid = await app.request("/paid", { headers: { cookie } });
  assert.equal(await paid.text(), "false");
  const fresh = await app.request("/pay");
  assert.equal(fresh.headers.get("set-cookie"), null, "no session is made");
  await fresh.body?.cancel();
});

Deno.test("sessionMiddleware() binds sessions to users, with the address Deno.serve gives as c.env", async () => {
  using sessions = new SessionManager<{ user: string }>({
    users: { key: "user", address: true },
  });
  const app = new Hono().use(sessionMiddleware(sessions))
    .get("/login", (c) => {
      c.var.session.renewToken();
      c.var.session.put("user", "ada");
      return c.text("ok");
    })
    .get("/devices", async (c) => {
      const user = c.var.session.get("user")!;
      return c.json(await sessions.users.list(user, c.var.session));
    })
    .get("/others", async (c) => {
      const user = c.var.session.get("user")!;
      const { session } = c.var;
      return c.json(await sessions.users.revokeAll(user, { except: session }));
    });
  const from = (hostname: string) => ({
    remoteAddr: { transport: "tcp", hostname, port: 40000 },
  });
  const login = async (hostname: string) =>
    (await app.fetch(new Request("http://localhost/login"), from(hostname)))
      .headers.get("set-cookie")!.split(";")[0]!;
  const laptop = await login("198.51.100.4");
  const phone = await login("203.0.113.9");
  const get = (path: string, cookie: string) =>
    app.fetch(
      new Request(`http://localhost${path}`, { headers: { cookie } }),
      from("198.51.100.4"),
    );
  const listed = await (await get("/devices", laptop)).json();
  assert.deepEqual(
    listed.map((d: { address: string }) => d.address).sort(),
    ["198.51.100.4", "203.0.113.9"],
  );
  assert.equal(await (await get("/others", laptop)).json(), 1);
  const left = await (await get("/devices", laptop)).json();
  assert.deepEqual(left.map((d: { current: boolean }) => d.current), [true]);
  assert.equal(
    (await sessions.load(phone.split("=")[1]!)).get("user"),
    undefined,
  );
});
