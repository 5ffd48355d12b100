import assert from "node:assert/strict";
import { fakeTime, fc, parseCookie } from "./_test_helpers.ts";
import { isToken } from "./_token.ts";
import { LAST_COOKIE_TIME, SessionCookie } from "./_cookie.ts";
import { managerConfig } from "./_manager_options.ts";

const token = "A".repeat(43);
const cookie = (options = {}) =>
  new SessionCookie(managerConfig({ cookie: options }).cookie, true);

Deno.test("SessionCookie.read() finds the first well-formed token of its cookie", () => {
  const session = cookie();
  assert.equal(session.read(`session=${token}`), token);
  assert.equal(session.read(`a=1; session=${token}; b=2`), token);
  assert.equal(session.read(`session=bad; session=${token}`), token);
  assert.equal(session.read(`sid=${token}`), undefined);
  assert.equal(session.read(`session=${token}x`), undefined);
  assert.equal(session.read(`session="${token}"`), undefined);
  assert.equal(session.read(""), undefined);
  assert.equal(session.read("session"), undefined);
  assert.equal(session.read(` \tsession \t= ${token}\t ;x=1`), token);
  assert.equal(session.read(`x; session=${token}`), token);
});

Deno.test('SessionCookie.read() reads a header of many pairs without "=" in one pass', () => {
  // Read pair by pair, each looking ahead for "=", this would take about
  // 5 * 10^11 steps: the test would not end.
  const header = ";".repeat(1_000_000) + `session=${token}`;
  assert.equal(cookie().read(header), token);
});

Deno.test("SessionCookie.read() splits a header as the cookie package does", () => {
  const session = cookie();
  const decode = (value: string) => isToken(value) ? value : undefined;
  // Headers made of the pieces that matter: names, separators, spaces, tokens.
  const piece = fc.constantFrom(
    "session",
    "sessio",
    "xsession",
    "=",
    ";",
    " ",
    "\t",
    '"',
    token,
    "B".repeat(43),
    "a",
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
      const header = pieces.join("");
      assert.equal(
        session.read(header),
        parseCookie(header, { decode }).session,
        JSON.stringify(header),
      );
    }),
    { numRuns: 5_000 },
  );
});

Deno.test("SessionCookie.write() writes a persistent or a browser-session cookie", () => {
  using _clock = fakeTime(1_000_000);
  const session = cookie();
  assert.equal(
    session.write(token, 1_000_000 + 90_500),
    `session=${token}; Max-Age=91; Path=/; Expires=Thu, 01 Jan 1970 00:18:11 GMT; HttpOnly; SameSite=Lax`,
  );
  assert.equal(
    session.write(token, undefined),
    `session=${token}; Path=/; HttpOnly; SameSite=Lax`,
  );
  assert.match(session.write(token, 0), /Max-Age=0/);
});

Deno.test("SessionCookie.write() never writes an Expires past the year 9999", () => {
  using _clock = fakeTime(1_000_000);
  for (const expiry of [LAST_COOKIE_TIME, LAST_COOKIE_TIME + 1, 8.64e15]) {
    assert.match(
      cookie().write(token, expiry),
      /; Expires=Fri, 31 Dec 9999 23:59:59 GMT;/,
    );
  }
});

Deno.test("SessionCookie.clear expires the cookie immediately", () => {
  assert.equal(
    cookie({ domain: "example.com", secure: true }).clear,
    "session=; Max-Age=0; Domain=example.com; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax",
  );
});
