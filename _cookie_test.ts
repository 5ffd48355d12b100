import assert from "node:assert/strict";
import { fakeTime } from "./_fake_time.ts";
import {
  deleteToken,
  readToken,
  sessionCookie,
  writeToken,
} from "./_cookie.ts";

const token = "A".repeat(43);

Deno.test("sessionCookie() fills in SCS's defaults", () => {
  assert.deepEqual(sessionCookie(), {
    name: "session",
    path: "/",
    domain: undefined,
    httpOnly: true,
    secure: false,
    sameSite: "lax",
    partitioned: false,
    persist: true,
  });
});

Deno.test("readToken() finds the first well-formed token of the named cookie", () => {
  assert.equal(readToken(`session=${token}`, "session"), token);
  assert.equal(readToken(`a=1; session=${token}; b=2`, "session"), token);
  assert.equal(readToken(`session=bad; session=${token}`, "session"), token);
  assert.equal(readToken(`sid=${token}`, "session"), undefined);
  assert.equal(readToken(`session=${token}x`, "session"), undefined);
  assert.equal(readToken(`session="${token}"`, "session"), undefined);
  assert.equal(readToken("", "session"), undefined);
  assert.equal(readToken("session", "session"), undefined);
});

Deno.test("writeToken() writes a persistent or a browser-session cookie", () => {
  using _clock = fakeTime(1_000_000);
  const cookie = sessionCookie();
  assert.equal(
    writeToken(cookie, token, 1_000_000 + 90_500),
    `session=${token}; Max-Age=91; Path=/; Expires=Thu, 01 Jan 1970 00:18:11 GMT; HttpOnly; SameSite=Lax`,
  );
  assert.equal(
    writeToken(cookie, token, undefined),
    `session=${token}; Path=/; HttpOnly; SameSite=Lax`,
  );
  assert.match(writeToken(cookie, token, 0), /Max-Age=0/);
});

Deno.test("deleteToken() expires the cookie at once", () => {
  assert.equal(
    deleteToken(sessionCookie({ domain: "example.com", secure: true })),
    "session=; Max-Age=0; Domain=example.com; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax",
  );
});
