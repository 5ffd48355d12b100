import assert from "node:assert/strict";
import { fc } from "./_test_helpers.ts";
import { base64url, hashToken, isToken, newToken } from "./_token.ts";

Deno.test("newToken() gives 32 random bytes as unpadded base64url", () => {
  const tokens = new Set(Array.from({ length: 1000 }, newToken));
  assert.equal(tokens.size, 1000);
  for (const token of tokens) {
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(
      Uint8Array.fromBase64(token, { alphabet: "base64url" }).length,
      32,
    );
  }
});

Deno.test("base64url() agrees with the platform's encoder, for every length", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
      assert.equal(
        base64url(bytes),
        bytes.toBase64({ alphabet: "base64url", omitPadding: true }),
      );
    }),
  );
});

Deno.test("isToken() accepts only the shape of a token", () => {
  assert.ok(isToken(newToken()));
  for (
    const bad of [
      "",
      "short",
      "a".repeat(42),
      "a".repeat(44),
      "a".repeat(42) + "=",
      "a".repeat(42) + "+",
      "a".repeat(42) + "/",
      "a".repeat(42) + "\u00e9",
      " " + "a".repeat(42),
      "a".repeat(43) + "\n",
    ]
  ) {
    assert.equal(isToken(bad), false, JSON.stringify(bad));
  }
});

Deno.test("hashToken() is base64url(SHA-256(token))", async () => {
  // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
  assert.equal(
    await hashToken("abc"),
    "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0",
  );
  const token = newToken();
  assert.ok(isToken(await hashToken(token)));
  assert.notEqual(await hashToken(token), token);
});
