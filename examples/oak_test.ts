import assert from "node:assert/strict";
import { SessionManager } from "../mod.ts";
import {
  type Browser,
  browser,
  freePort,
  startDeno,
} from "../_test_helpers.ts";
import { createApp } from "./oak.ts";

type Values = { visits: number; user: string; flash: string };

async function walkThrough(b: Browser) {
  const visit = async () => {
    const response = await b.send("/");
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("vary"), "Cookie");
    return await response.json();
  };
  assert.deepEqual(await visit(), { visits: 1, user: null, flash: null });
  assert.deepEqual(await visit(), { visits: 2, user: null, flash: null });
  const before = b.cookie;
  const login = await b.post("/login", { user: "ada" });
  assert.equal(login.status, 303);
  await login.body?.cancel();
  assert.notEqual(b.cookie, before, "a new token at sign-in");
  assert.deepEqual(await visit(), {
    visits: 3,
    user: "ada",
    flash: "Welcome, ada!",
  });
  assert.deepEqual(await visit(), { visits: 4, user: "ada", flash: null });
  const forged = await b.send("/logout", {
    method: "POST",
    headers: { origin: "https://evil.example" },
  });
  assert.equal(forged.status, 403, "a post from another site is refused");
  await forged.body?.cancel();
  const refused = await b.post("/login", { user: "<script>" });
  assert.equal(refused.status, 400);
  await refused.body?.cancel();
  const logout = await b.post("/logout");
  assert.equal(logout.status, 303);
  await logout.body?.cancel();
  assert.equal(b.cookie, undefined, "the cookie is cleared at sign-out");
  assert.deepEqual(await visit(), { visits: 1, user: null, flash: null });
}

Deno.test("examples/oak.ts counts visits, signs in and out, and shows a flash once", async () => {
  using sessions = new SessionManager<Values>();
  const app = createApp(sessions);
  // Oak's types name undici's Request and Response: the same at run time.
  const handle = async (request: Request) =>
    (await app.handle(request as never)) as unknown as Response;
  await walkThrough(browser(handle, "http://localhost"));
});

Deno.test("examples/oak.ts works over real HTTP", async () => {
  const port = freePort();
  await using _server = await startDeno([
    "run",
    "--allow-net",
    "--allow-env",
    `--lock=${new URL("../test.lock", import.meta.url).pathname}`,
    import.meta.resolve("./oak.ts"),
  ], {
    env: { PORT: String(port) },
    ready: "listening",
    stream: "stdout",
    port,
  });
  await walkThrough(browser(fetch, `http://127.0.0.1:${port}`));
});

Deno.test("examples/oak.ts says in one line how to pick another port when its own is taken", async () => {
  const port = freePort();
  using _taken = Deno.listen({ port });
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      `--lock=${new URL("../test.lock", import.meta.url).pathname}`,
      import.meta.resolve("./oak.ts"),
    ],
    env: { PORT: String(port) },
  }).output();
  assert.equal(output.code, 1);
  const lines = new TextDecoder().decode(output.stderr).trimEnd().split("\n")
    // Oak's own line when it loads (see docs/frameworks.md).
    .filter((line) => line !== "oak send() does not work under Node.js.");
  assert.deepEqual(lines, [
    `Port ${port} is in use (another demo?). Pick another: PORT=${
      port + 1
    } deno task demo:oak`,
  ]);
});
