import assert from "node:assert/strict";
import { assertAppHeadersKept, failingStore } from "./_test_helpers.ts";
import { Application } from "npm:@oakserver/oak@^14.1.0";
import { sessionMiddleware, type SessionState } from "./oak.ts";
import { SessionManager } from "./manager.ts";

type Values = { theme: string; n: number };

/** `app.handle`, typed with the web's Request and Response. */
const handler = (app: Application<SessionState<Values>>) =>
async (
  request: Request,
): Promise<Response> =>
  (await app.handle(request as never))! as unknown as Response;

Deno.test("oak sessionMiddleware() keeps the headers the app set, and adds its own", async () => {
  using sessions = new SessionManager<Values>();
  const app = new Application<SessionState<Values>>()
    .use(sessionMiddleware(sessions))
    .use(async (ctx) => {
      ctx.state.session.put("theme", "dark");
      await ctx.cookies.set("lang", "en");
      ctx.response.headers.set("vary", "Accept-Encoding");
      ctx.response.headers.set("cache-control", "private");
      ctx.response.body = "ok";
    });
  const response = await handler(app)(new Request("http://localhost/"));
  await assertAppHeadersKept(response);
});

Deno.test("oak sessionMiddleware() reads the session cookie the browser sends", async () => {
  using sessions = new SessionManager<Values>();
  const app = new Application<SessionState<Values>>()
    .use(sessionMiddleware(sessions))
    .use((ctx) => {
      const n = (ctx.state.session.get("n") ?? 0) + 1;
      ctx.state.session.put("n", n);
      ctx.response.body = String(n);
    });
  const handle = handler(app);
  const first = await handle(new Request("http://localhost/"));
  const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
  await first.body?.cancel();
  const second = await handle(
    new Request("http://localhost/", { headers: { cookie } }),
  );
  assert.equal(await second.text(), "2");
  const stranger = await handle(
    new Request("http://localhost/", { headers: { cookie: "session=%ff;" } }),
  );
  assert.equal(await stranger.text(), "1", "a bad cookie is a new session");
});

Deno.test("oak sessionMiddleware() answers with onError when the store fails", async () => {
  for (const failing of ["find", "commit"] as const) {
    const store = failingStore(failing);
    const seen: string[] = [];
    using sessions = new SessionManager<Values>({
      store,
      onError: (_error, request) => {
        seen.push(`${request.method} ${new URL(request.url).pathname}`);
        return new Response("later", { status: 503 });
      },
    });
    const app = new Application<SessionState<Values>>()
      .use(sessionMiddleware(sessions))
      .use((ctx) => {
        ctx.state.session.put("n", 1);
        ctx.response.body = "ok";
      });
    const response = await handler(app)(
      new Request("http://localhost/x", {
        method: "POST",
        headers: { cookie: `session=${"A".repeat(43)}` },
      }),
    );
    assert.equal(response.status, 503, failing);
    assert.equal(await response.text(), "later");
    assert.equal(response.headers.get("vary"), "Cookie");
    assert.equal(response.headers.get("set-cookie"), null);
    assert.deepEqual(seen, ["POST /x"]);
  }
});

Deno.test("oak sessionMiddleware() closes a file given as the body when the save fails", async () => {
  using sessions = new SessionManager<Values>({
    store: failingStore("commit"),
    onError: () => new Response("later", { status: 503 }),
  });
  const path = await Deno.makeTempFile();
  let file: Deno.FsFile | undefined;
  const app = new Application<SessionState<Values>>()
    .use(sessionMiddleware(sessions))
    .use(async (ctx) => {
      ctx.state.session.put("n", 1);
      file = await Deno.open(path);
      ctx.response.body = file;
    });
  try {
    const response = await handler(app)(new Request("http://localhost/"));
    assert.equal(response.status, 503);
    await response.body?.cancel();
    assert.throws(() => file!.statSync(), Deno.errors.BadResource);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("oak sessionMiddleware() binds sessions to users, with ctx.request.ip as the address", async () => {
  using sessions = new SessionManager<{ user: string }>({
    users: { key: "user", address: true },
  });
  const app = new Application<SessionState<{ user: string }>>()
    .use(sessionMiddleware(sessions))
    .use(async (ctx) => {
      const { session } = ctx.state;
      if (ctx.request.url.pathname === "/login") {
        session.renewToken();
        session.put("user", "ada");
        ctx.response.body = "ok";
      } else {
        ctx.response.body = await sessions.users.list("ada", session);
      }
    });
  const addr = { transport: "tcp" as const, hostname: "192.0.2.44", port: 4 };
  const handle = async (request: Request) =>
    (await app.handle(request as never, addr as never))! as unknown as Response;
  const login = await handle(new Request("http://localhost/login"));
  const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
  await login.body?.cancel();
  const listed = await (await handle(
    new Request("http://localhost/devices", { headers: { cookie } }),
  )).json();
  assert.equal(listed.length, 1);
  assert.equal(listed[0].address, "192.0.2.44");
  assert.equal(listed[0].current, true);
});
