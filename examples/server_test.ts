import assert from "node:assert/strict";

/** Starts examples/server.ts on `port`; resolves once it is listening. */
async function start(port: number) {
  const server = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      import.meta.resolve("./server.ts"),
    ],
    env: { PORT: String(port) },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Wait for the "Listening" line rather than for a time.
  const reader = server.stderr.pipeThrough(new TextDecoderStream())
    .getReader();
  for (let text = ""; !text.includes("Listening");) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`server exited: ${text}`);
    text += value;
  }
  reader.releaseLock();
  return {
    async [Symbol.asyncDispose]() {
      server.kill();
      await server.status;
      await server.stdout.cancel();
      await server.stderr.cancel().catch(() => {});
    },
  };
}

function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
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
