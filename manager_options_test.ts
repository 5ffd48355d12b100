import assert from "node:assert/strict";
import { app, fakeTime, setup, url } from "./_test_helpers.ts";
import { SessionManager } from "./manager.ts";
import type { CookieOptions, SessionManagerOptions } from "./options.ts";

const everyAttribute: CookieOptions = {
  name: "__Secure-sid",
  path: "/app",
  domain: "example.com",
  sameSite: "None",
  secure: true,
  partitioned: true,
  httpOnly: false,
};

Deno.test("new SessionManager() checks its options", async (t) => {
  const bad = (options: unknown, name: string, message: RegExp) =>
    assert.throws(() => new SessionManager(options as SessionManagerOptions), {
      name,
      message,
    });
  await t.step("types and ranges", () => {
    bad(
      null,
      "TypeError",
      /^Cannot create SessionManager: options must be an object, received null$/,
    );
    bad(
      { lifetime: -1 },
      "RangeError",
      /lifetime must be a finite number > 0, received -1/,
    );
    bad(
      { lifetime: 0 },
      "RangeError",
      /lifetime must be a finite number > 0, received 0/,
    );
    bad({ lifetime: Infinity }, "RangeError", /lifetime/);
    bad(
      { lifetime: "1h" },
      "TypeError",
      /lifetime must be a number of milliseconds, received "1h"/,
    );
    bad(
      { idleTimeout: -5 },
      "RangeError",
      /idleTimeout must be a finite number >= 0, received -5/,
    );
    bad({ idleTimeout: NaN }, "RangeError", /idleTimeout/);
    bad(
      { hashTokenInStore: "yes" },
      "TypeError",
      /hashTokenInStore must be a boolean/,
    );
    bad(
      { codec: {} },
      "TypeError",
      /codec must have encode and decode methods/,
    );
    bad({ onError: "oops" }, "TypeError", /onError must be a function/);
    bad({ onDropped: 1 }, "TypeError", /onDropped must be a function/);
    bad(
      { store: new Map() },
      "TypeError",
      /store must have find, commit and delete methods, received a Map/,
    );
  });
  await t.step("cookies", () => {
    bad(
      { cookie: { sameSite: "Sometimes" } },
      "TypeError",
      /cookie.sameSite must be "Strict", "Lax" or "None", received "Sometimes"/,
    );
    bad(
      { cookie: { sameSite: "None" } },
      "TypeError",
      /sameSite "None" needs secure: true/,
    );
    bad(
      { cookie: { partitioned: true } },
      "TypeError",
      /partitioned needs secure: true/,
    );
    for (const name of ["", "a b", "a;b", "a=b", "sess\u00e9", 'a"b', "a,b"]) {
      bad(
        { cookie: { name } },
        "TypeError",
        /cookie.name must be a cookie name/,
      );
    }
    for (const path of ["", "relative", "/a;b", "/a\nb", "/\u00e9"]) {
      bad({ cookie: { path } }, "TypeError", /cookie.path must start with \//);
    }
    bad(
      { cookie: { domain: "bad domain" } },
      "TypeError",
      /cookie.domain must be a domain name/,
    );
    bad(
      { cookie: { httpOnly: "no" } },
      "TypeError",
      /cookie.httpOnly must be a boolean, received "no"/,
    );
    bad({ cookie: "session" }, "TypeError", /cookie must be an object/);
  });
  await t.step("good options are accepted", () => {
    using _a = new SessionManager({
      cookie: { ...everyAttribute, persist: false },
    });
    using _b = new SessionManager({
      cookie: { sameSite: "strict" } as unknown as CookieOptions,
    });
  });
});

Deno.test("SessionManager writes every cookie attribute it is given", async () => {
  using _clock = fakeTime();
  using s = setup({ cookie: everyAttribute });
  const response = await s.sessions.loadAndSave(app)(new Request(url("/put")));
  const set = response.headers.get("set-cookie")!;
  assert.match(
    set,
    /^__Secure-sid=[A-Za-z0-9_-]{43}; Max-Age=86400; Domain=example.com; Path=\/app; Expires=.*; Secure; Partitioned; SameSite=None$/,
  );
  assert.doesNotMatch(set, /HttpOnly/);
});
