import assert from "node:assert/strict";

Deno.test("examples/server.ts serves /put and /get on $PORT", async () => {
  const port = 40_000 + Math.floor(Math.random() * 20_000);
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
  try {
    // Wait for the "Listening" line rather than for a time.
    const reader = server.stderr.pipeThrough(new TextDecoderStream())
      .getReader();
    for (let text = ""; !text.includes("Listening");) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`server exited: ${text}`);
      text += value;
    }
    reader.releaseLock();
    const base = `http://localhost:${port}`;
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
  } finally {
    server.kill();
    await server.status;
    await server.stdout.cancel();
    await server.stderr.cancel().catch(() => {});
  }
});
