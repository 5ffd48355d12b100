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
