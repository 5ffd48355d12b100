import assert from "node:assert/strict";

Deno.test("examples/store.ts commits, finds, expires and sweeps", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", import.meta.resolve("./store.ts")],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.equal(
    new TextDecoder().decode(stdout),
    [
      'long-lived: {"user":"ada"}',
      "sessions held: 2",
      "short-lived after it expired: undefined",
      "sessions held after the sweep: 1",
      'live sessions: [ "long-lived" ]',
      "",
    ].join("\n"),
  );
});
