import assert from "node:assert/strict";
import { type DenoProcess, freePort, startDeno } from "../_test_helpers.ts";

/** Starts examples/server.ts on `port`; resolves once it is listening. */
function start(port: number): Promise<DenoProcess> {
  return startDeno([
    "run",
    "--allow-net",
    "--allow-env",
    import.meta.resolve("./server.ts"),
  ], { env: { PORT: String(port) }, ready: "Listening", stream: "stderr" });
}

Deno.test("examples/server.ts serves /put and /get on $PORT", async () => {
  const port = freePort();
  await using _server = await start(port);
  const base = `http://localhost:${port}`;
  const usage = await (await fetch(`${base}/`)).text();
  assert.match(usage, new RegExp(`curl -c jar -b jar ${base}/put`));
  const empty = await fetch(`${base}/get`);
  assert.equal(await empty.text(), "");
  const put = await fetch(`${base}/put`);
  await put.body?.cancel();
  const cookie = put.headers.get("set-cookie")!.split(";")[0]!;
  const got = await fetch(`${base}/get`, { headers: { cookie } });
  assert.equal(await got.text(), "Hello from a session!");
  const missing = await fetch(`${base}/nowhere`);
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
});

Deno.test("examples/server.ts says in one line how to pick another port when its own is taken", async () => {
  const port = freePort();
  await using _server = await start(port);
  const second = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      import.meta.resolve("./server.ts"),
    ],
    env: { PORT: String(port) },
  }).output();
  assert.equal(second.code, 1);
  assert.equal(
    new TextDecoder().decode(second.stderr),
    `Port ${port} is in use (another demo?). Pick another: PORT=${
      port + 1
    } deno task demo\n`,
  );
});
