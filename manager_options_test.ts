import assert from "node:assert/strict";
import {
  app,
  fakeTime,
  setup,
  TestStore,
  tokenOf,
  url,
} from "./_test_helpers.ts";
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
      /lifetime must be a number > 0 \(Infinity for no limit\), received -1/,
    );
    bad(
      { lifetime: 0 },
      "RangeError",
      /lifetime must be a number > 0 \(Infinity for no limit\), received 0/,
    );
    bad({ lifetime: NaN }, "RangeError", /lifetime/);
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

Deno.test("new SessionManager() refuses at start-up what would fail on every request", () => {
  const bad = (cookie: CookieOptions, message: RegExp) =>
    assert.throws(() => new SessionManager({ cookie }), {
      name: "TypeError",
      message,
    });
  bad({ path: "/a<b" }, /cookie.path must start with \/ .*, received "\/a<b"/);
  bad(
    { name: "__Host-session" },
    /a cookie.name starting with "__Host-" needs secure: true/,
  );
  bad(
    { name: "__Secure-session" },
    /a cookie.name starting with "__Secure-" needs secure: true/,
  );
  bad(
    { name: "__Host-session", secure: true, path: "/app" },
    /"__Host-" needs path "\/" and no domain/,
  );
  bad(
    { name: "__Host-session", secure: true, domain: "example.com" },
    /"__Host-" needs path "\/" and no domain/,
  );
  using _host = new SessionManager({
    cookie: { name: "__Host-session", secure: true },
  });
  using _secure = new SessionManager({
    cookie: { name: "__Secure-session", secure: true, path: "/app" },
  });
  assert.throws(() => new SessionManager({ storeTimeout: 0 }), RangeError);
  assert.throws(
    () => new SessionManager({ storeTimeout: "5s" as unknown as number }),
    TypeError,
  );
  using _forever = new SessionManager({ storeTimeout: Infinity });
});

Deno.test("SessionManager with a lifetime past the year 9999 keeps sessions until then", async () => {
  for (const idleTimeout of [0, 60_000]) {
    using _clock = fakeTime();
    using s = setup({ lifetime: Number.MAX_SAFE_INTEGER, idleTimeout });
    const handler = s.sessions.loadAndSave((_request, session) => {
      session.put("user", "ada");
      return new Response("ok");
    });
    const response = await handler(new Request(url("/")));
    assert.equal(response.status, 200, `idle ${idleTimeout}`);
    const cookie = response.headers.get("set-cookie")!;
    if (idleTimeout === 0) {
      assert.match(cookie, /Expires=Fri, 31 Dec 9999 23:59:59 GMT/);
    }
    const session = await s.sessions.load(tokenOf(cookie.split(";")[0])!);
    assert.equal(session.get("user"), "ada");
    assert.equal(session.deadline.toISOString(), "9999-12-31T23:59:59.000Z");
  }
});

Deno.test("Session.setDeadline() refuses a date no cookie can carry, and nothing is stored", async () => {
  using s = setup();
  const handler = s.sessions.loadAndSave((_request, session) => {
    session.put("user", "ada");
    session.setDeadline(new Date("+010000-01-01T00:00:00Z"));
    return new Response("ok");
  });
  await assert.rejects(handler(new Request(url("/"))), {
    name: "RangeError",
    message:
      "Cannot set deadline: it must be at most 9999-12-31T23:59:59.000Z (the last date a cookie can carry), received +010000-01-01T00:00:00.000Z",
  });
  assert.equal(s.store.size, 0);
});

Deno.test("SessionManager with lifetime: Infinity keeps a session until the last date a cookie can carry", async () => {
  for (const capabilities of ["plain", "versioned", "in-memory"] as const) {
    using store = new TestStore({ capabilities });
    using sessions = new SessionManager<{ n: number }>({
      store,
      lifetime: Infinity,
    });
    const handler = sessions.loadAndSave((request, session) => {
      if (new URL(request.url).pathname === "/out") session.destroy();
      else session.put("n", 1);
      return new Response("ok");
    });
    const first = await handler(new Request("http://localhost/"));
    const set = first.headers.get("set-cookie")!;
    assert.match(set, /Expires=Fri, 31 Dec 9999 23:59:59 GMT/, capabilities);
    const cookie = set.split(";")[0]!;
    const out = await handler(
      new Request("http://localhost/out", { headers: { cookie } }),
    );
    assert.equal(out.status, 200, capabilities);
    assert.match(out.headers.get("set-cookie")!, /Max-Age=0/);
  }
});
