import assert from "node:assert/strict";
import {
  app,
  client,
  fakeTime,
  setup,
  TOKEN,
  tokenOf,
} from "./_test_helpers.ts";

Deno.test("SessionManager with hashTokenInStore keeps no token in the store", async () => {
  using _clock = fakeTime();
  using s = setup({ hashTokenInStore: true });
  const browser = client(s.sessions.loadAndSave(app));
  await browser.get("/put");
  const token = tokenOf(browser.cookie)!;
  const keys = [...(await s.store.all()).keys()];
  assert.equal(keys.length, 1);
  assert.notEqual(keys[0], token);
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(token),
  );
  assert.equal(
    keys[0],
    new Uint8Array(digest).toBase64({
      alphabet: "base64url",
      omitPadding: true,
    }),
  );
  assert.equal(
    await (await browser.get("/get")).text(),
    "Hello from a session!",
  );
  // A key from the store, sent as a cookie, opens nothing.
  const thief = client(s.sessions.loadAndSave(app));
  thief.cookie = `session=${keys[0]}`;
  assert.equal(await (await thief.get("/get")).text(), "");

  // iterate() still works, and destroy() in it deletes that session.
  let seen = 0;
  await s.sessions.iterate((session) => {
    seen++;
    assert.equal(session.get("message"), "Hello from a session!");
    session.destroy();
  });
  assert.equal(seen, 1);
  assert.equal(s.store.size, 0);
  assert.equal(await (await browser.get("/get")).text(), "");
});

Deno.test("SessionManager with hashTokenInStore leaves no token in a heap snapshot", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      new URL("./testdata/hashed_sessions.ts", import.meta.url).pathname,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const tokens = new TextDecoder().decode(stderr).trim().split("\n");
  assert.equal(code, 0, tokens.join("\n"));
  assert.equal(tokens.length, 50);
  const heap = new TextDecoder().decode(stdout);
  for (const token of tokens) {
    assert.match(token, TOKEN);
    assert.ok(!heap.includes(token), `token ${token} is in the heap`);
  }
  // The snapshot does hold the store's keys: the hashes of the tokens.
  const hash = new Uint8Array(
    await crypto.subtle.digest(
      "SHA-256",
      new TextEncoder().encode(tokens[0]),
    ),
  ).toBase64({ alphabet: "base64url", omitPadding: true });
  assert.ok(heap.includes(hash), "the hashed key is in the heap");
});
