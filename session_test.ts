import assert from "node:assert/strict";
import { parseSetCookie } from "cookie";
import fc from "fast-check";
import { fakeTime } from "./_fake_time.ts";
import { jsonCodec } from "./codec.ts";
import { MemStore } from "./memstore.ts";
import {
  type CookieOptions,
  type Session,
  SessionManager,
  type SessionManagerOptions,
} from "./session.ts";
import type { IterableStore, Store } from "./store.ts";

type Values = { message: string; count: number; user: string };
type Handler = (
  request: Request,
  session: Session<Values>,
) => Response | Promise<Response>;

const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const url = (path: string) => `http://localhost${path}`;

/** A MemStore that counts the calls made to it. */
class SpyStore extends MemStore {
  calls = { find: 0, commit: 0, delete: 0, all: 0 };
  override find(token: string) {
    this.calls.find++;
    return super.find(token);
  }
  override commit(token: string, data: Uint8Array, expiry: Date) {
    this.calls.commit++;
    return super.commit(token, data, expiry);
  }
  override delete(token: string) {
    this.calls.delete++;
    return super.delete(token);
  }
  override all() {
    this.calls.all++;
    return super.all();
  }
}

/** A manager over a spy store, both disposed together. */
function setup(options: SessionManagerOptions = {}) {
  const store = new SpyStore({ cleanupInterval: 0 });
  const sessions = new SessionManager<Values>({ store, ...options });
  return {
    store,
    sessions,
    [Symbol.dispose]() {
      sessions[Symbol.dispose]();
      store[Symbol.dispose]();
    },
  };
}

/** The default app: /put, /get, /destroy, /renew, /count. */
const app: Handler = (request, session) => {
  switch (new URL(request.url).pathname) {
    case "/put":
      session.put("message", "Hello from a session!");
      return new Response(null);
    case "/get":
      return new Response(session.get("message") ?? "");
    case "/destroy":
      session.destroy();
      return new Response("bye");
    case "/renew":
      session.renewToken();
      return new Response("renewed");
    case "/count": {
      const count = (session.get("count") ?? 0) + 1;
      session.put("count", count);
      return new Response(String(count));
    }
  }
  return new Response("Not Found", { status: 404 });
};

/** A client with a one-cookie jar, as a browser keeps it. */
function client(handler: (request: Request) => Promise<Response>) {
  let cookie: string | undefined;
  return {
    get cookie() {
      return cookie;
    },
    set cookie(value: string | undefined) {
      cookie = value;
    },
    async get(path: string, init: RequestInit = {}) {
      const headers = new Headers(init.headers);
      if (cookie !== undefined) headers.set("cookie", cookie);
      const response = await handler(
        new Request(url(path), { ...init, headers }),
      );
      const set = response.headers.get("set-cookie");
      if (set !== null) {
        const parsed = parseSetCookie(set);
        cookie = parsed.maxAge === 0
          ? undefined
          : `${parsed.name}=${parsed.value}`;
      }
      return response;
    },
  };
}

const tokenOf = (cookie: string | undefined) => cookie?.split("=")[1];

Deno.test("SessionManager issues 32-byte base64url tokens in a session cookie", async () => {
  using _clock = fakeTime();
  using s = setup();
  const handler = s.sessions.loadAndSave(app);
  const response = await handler(new Request(url("/put")));
  const cookie = parseSetCookie(response.headers.get("set-cookie")!);
  assert.equal(cookie.name, "session");
  assert.match(cookie.value!, TOKEN);
  assert.equal(
    Uint8Array.fromBase64(cookie.value!, { alphabet: "base64url" }).length,
    32,
  );
  assert.equal(cookie.path, "/");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, "lax");
  assert.equal(cookie.secure, undefined);
  assert.equal(cookie.partitioned, undefined);
  assert.equal(cookie.maxAge, 86_400);
  assert.equal(cookie.expires!.getTime(), Date.now() + 86_400_000);
  const other = await handler(new Request(url("/put")));
  assert.notEqual(
    parseSetCookie(other.headers.get("set-cookie")!).value,
    cookie.value,
  );
});

Deno.test("SessionManager.loadAndSave() saves a modified session before responding", async (t) => {
  using _clock = fakeTime();
  using s = setup();
  const browser = client(s.sessions.loadAndSave(app));

  await t.step(
    "put: committed, with Set-Cookie, Vary and Cache-Control",
    async () => {
      const response = await browser.get("/put");
      assert.equal(response.status, 200);
      assert.equal(s.store.size, 1, "committed before the response");
      const stored = await s.store.find(tokenOf(browser.cookie)!);
      assert.deepEqual(jsonCodec.decode(stored!).values, {
        message: "Hello from a session!",
      });
      assert.equal(response.headers.get("vary"), "Cookie");
      assert.equal(
        response.headers.get("cache-control"),
        'no-cache="Set-Cookie"',
      );
    },
  );
  await t.step("get: the value, no cookie, no store write", async () => {
    const before = { ...s.store.calls };
    const response = await browser.get("/get");
    assert.equal(await response.text(), "Hello from a session!");
    assert.equal(response.headers.get("set-cookie"), null);
    assert.equal(response.headers.get("cache-control"), null);
    assert.equal(response.headers.get("vary"), "Cookie");
    assert.deepEqual(s.store.calls, { ...before, find: before.find + 1 });
  });
});

Deno.test("SessionManager.loadAndSave() touches no store for a request without a cookie", async () => {
  using s = setup();
  const response = await s.sessions.loadAndSave(app)(new Request(url("/get")));
  assert.equal(await response.text(), "");
  assert.deepEqual(s.store.calls, { find: 0, commit: 0, delete: 0, all: 0 });
  assert.equal(response.headers.get("set-cookie"), null);
  assert.equal(response.headers.get("vary"), "Cookie");
});

Deno.test("SessionManager.loadAndSave() clears the cookie of a destroyed session", async () => {
  using _clock = fakeTime();
  using s = setup();
  const browser = client(s.sessions.loadAndSave(app));
  await browser.get("/put");
  const token = tokenOf(browser.cookie)!;
  const response = await browser.get("/destroy");
  const cookie = parseSetCookie(response.headers.get("set-cookie")!);
  assert.equal(cookie.value, "");
  assert.equal(cookie.maxAge, 0);
  assert.equal(cookie.expires!.getTime(), 0);
  assert.match(
    response.headers.get("set-cookie")!,
    /Expires=Thu, 01 Jan 1970 00:00:00 GMT/,
  );
  assert.equal(await s.store.find(token), undefined);
  assert.equal(s.store.size, 0);
  assert.equal(await (await browser.get("/get")).text(), "");
});

Deno.test("SessionManager.loadAndSave() keeps the handler's Vary and Cache-Control", async () => {
  using s = setup();
  const handler = s.sessions.loadAndSave((_request, session) => {
    session.put("message", "x");
    return new Response("ok", {
      headers: {
        "vary": "Accept-Encoding",
        "cache-control": "private, max-age=60",
        "set-cookie": "theme=dark; Path=/",
      },
    });
  });
  const response = await handler(new Request(url("/")));
  assert.equal(response.headers.get("vary"), "Accept-Encoding, Cookie");
  assert.equal(
    response.headers.get("cache-control"),
    'private, max-age=60, no-cache="Set-Cookie"',
  );
  const cookies = response.headers.getSetCookie();
  assert.equal(cookies.length, 2);
  assert.equal(cookies[0], "theme=dark; Path=/");
  assert.match(cookies[1]!, /^session=/);

  const already = s.sessions.loadAndSave(() =>
    new Response("ok", { headers: { vary: "cookie, Origin" } })
  );
  assert.equal(
    (await already(new Request(url("/")))).headers.get("vary"),
    "cookie, Origin",
  );
});

Deno.test("SessionManager.loadAndSave() sets the cookie on responses with immutable headers", async (t) => {
  using s = setup();
  await t.step("Response.redirect()", async () => {
    const handler = s.sessions.loadAndSave((_request, session) => {
      session.put("user", "ada");
      return Response.redirect(url("/"), 303);
    });
    const response = await handler(
      new Request(url("/login"), { method: "POST" }),
    );
    assert.equal(response.status, 303);
    assert.equal(response.headers.get("location"), url("/"));
    assert.match(
      response.headers.get("set-cookie")!,
      /^session=[A-Za-z0-9_-]{43};/,
    );
    assert.equal(response.headers.get("vary"), "Cookie");
  });
  await t.step("a fetch() response", async () => {
    await using upstream = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen() {} },
      () => new Response("from upstream", { headers: { "x-upstream": "1" } }),
    );
    const handler = s.sessions.loadAndSave(async (_request, session) => {
      session.put("message", "proxied");
      return await fetch(`http://127.0.0.1:${upstream.addr.port}/`);
    });
    const response = await handler(new Request(url("/")));
    assert.equal(await response.text(), "from upstream");
    assert.equal(response.headers.get("x-upstream"), "1");
    assert.match(response.headers.get("set-cookie")!, /^session=/);
  });
});

Deno.test("SessionManager never adopts a token it did not issue", async (t) => {
  using clock = fakeTime();
  using s = setup();
  const handler = s.sessions.loadAndSave(app);

  await t.step("a malformed token: no store lookup, a new token", async () => {
    const response = await handler(
      new Request(url("/put"), {
        headers: { cookie: "session=attacker-chosen" },
      }),
    );
    assert.equal(s.store.calls.find, 0);
    const token = parseSetCookie(response.headers.get("set-cookie")!).value!;
    assert.match(token, TOKEN);
  });
  await t.step("an unknown well-formed token: a new token", async () => {
    const planted = "A".repeat(43);
    const response = await handler(
      new Request(url("/put"), { headers: { cookie: `session=${planted}` } }),
    );
    assert.equal(s.store.calls.find, 1);
    const token = parseSetCookie(response.headers.get("set-cookie")!).value!;
    assert.notEqual(token, planted);
    assert.equal(await s.store.find(planted), undefined);
  });
  await t.step("an expired session: empty, and a new token", async () => {
    const browser = client(handler);
    await browser.get("/put");
    const old = browser.cookie;
    clock.tick(86_400_000);
    assert.equal(await (await browser.get("/get")).text(), "");
    await browser.get("/count");
    assert.notEqual(browser.cookie, old);
  });
});

Deno.test("Session.renewToken() issues a new token, deletes the old session and keeps the data", async () => {
  using clock = fakeTime();
  using s = setup();
  const browser = client(s.sessions.loadAndSave(app));
  await browser.get("/put");
  const old = tokenOf(browser.cookie)!;
  clock.tick(60_000);
  const response = await browser.get("/renew");
  const renewed = parseSetCookie(response.headers.get("set-cookie")!);
  assert.notEqual(renewed.value, old);
  assert.match(renewed.value!, TOKEN);
  assert.equal(await s.store.find(old), undefined);
  assert.equal(s.store.size, 1);
  assert.equal(
    renewed.expires!.getTime(),
    Date.now() + 86_400_000,
    "deadline reset",
  );
  assert.equal(
    await (await browser.get("/get")).text(),
    "Hello from a session!",
  );
  // The old token now gives an empty session.
  const stale = await s.sessions.loadAndSave(app)(
    new Request(url("/get"), { headers: { cookie: `session=${old}` } }),
  );
  assert.equal(await stale.text(), "");
});

Deno.test("SessionManager with an idle timeout", async (t) => {
  await t.step(
    "re-commits on every request and expires after idleTimeout",
    async () => {
      using clock = fakeTime();
      using s = setup({ idleTimeout: 60_000 });
      const browser = client(s.sessions.loadAndSave(app));
      await browser.get("/put");
      for (let i = 0; i < 5; i++) {
        clock.tick(59_000);
        const commits = s.store.calls.commit;
        const response = await browser.get("/get");
        assert.equal(await response.text(), "Hello from a session!");
        assert.equal(s.store.calls.commit, commits + 1);
        assert.equal(
          parseSetCookie(response.headers.get("set-cookie")!).maxAge,
          60,
        );
      }
      clock.tick(60_000);
      assert.equal(await (await browser.get("/get")).text(), "");
    },
  );
  await t.step("never outlives the lifetime", async () => {
    using clock = fakeTime();
    using s = setup({ idleTimeout: 3_000, lifetime: 10_000 });
    const browser = client(s.sessions.loadAndSave(app));
    await browser.get("/put");
    for (let elapsed = 2_000; elapsed < 10_000; elapsed += 2_000) {
      clock.tick(2_000);
      assert.equal(
        await (await browser.get("/get")).text(),
        "Hello from a session!",
        `at ${elapsed} ms`,
      );
    }
    clock.tick(2_000);
    assert.equal(await (await browser.get("/get")).text(), "");
  });
});

Deno.test("SessionManager with persist: false", async (t) => {
  using _clock = fakeTime();
  using s = setup({ cookie: { persist: false } });
  const handler = s.sessions.loadAndSave((request, session) => {
    if (request.url.endsWith("/remember")) session.rememberMe(true);
    if (request.url.endsWith("/forget")) session.rememberMe(false);
    session.put("count", 1);
    return new Response("ok");
  });
  const browser = client(handler);
  await t.step("gives a browser-session cookie", async () => {
    const set = (await browser.get("/")).headers.get("set-cookie")!;
    assert.doesNotMatch(set, /Expires|Max-Age/);
  });
  await t.step(
    "unless rememberMe(true) was called, which later requests keep",
    async () => {
      assert.match(
        (await browser.get("/remember")).headers.get("set-cookie")!,
        /Max-Age=86400; Path=\/; Expires=/,
      );
      assert.match(
        (await browser.get("/")).headers.get("set-cookie")!,
        /Max-Age=86400/,
      );
    },
  );
  await t.step(
    "and rememberMe(false) makes it a browser-session cookie again",
    async () => {
      assert.doesNotMatch(
        (await browser.get("/forget")).headers.get("set-cookie")!,
        /Expires|Max-Age/,
      );
    },
  );
});

Deno.test("SessionManager treats bad cookies as no session", async (t) => {
  using _clock = fakeTime();
  using s = setup();
  const handler = s.sessions.loadAndSave(app);
  const browser = client(handler);
  await browser.get("/put");
  const good = browser.cookie!;
  const token = tokenOf(good)!;
  const withCookie = async (cookie: string) =>
    await (await handler(new Request(url("/get"), { headers: { cookie } })))
      .text();

  await t.step("malformed headers never throw", async () => {
    for (
      const cookie of [
        "",
        ";;;",
        "=",
        "session",
        "session=",
        "session==",
        '"session"="x"',
        "session=%zz",
        "\tsession=\u0001\u007f",
        "a=1; session; b",
        "session=" + "A".repeat(100_000),
        "x=" + "y".repeat(200_000) + "; " + good,
      ]
    ) {
      const response = await handler(
        new Request(url("/get"), { headers: { cookie } }),
      );
      assert.equal(response.status, 200);
    }
  });
  await t.step("duplicates: the first well-formed one counts", async () => {
    assert.equal(
      await withCookie(`session=junk; ${good}`),
      "Hello from a session!",
    );
    assert.equal(
      await withCookie(`${good}; session=${"B".repeat(43)}`),
      "Hello from a session!",
    );
    assert.equal(await withCookie(`other=${token}`), "");
    assert.equal(await withCookie(`  ${good}  ; x=1`), "Hello from a session!");
  });
});

Deno.test("SessionManager ignores stored bytes it cannot decode, and reports them", async () => {
  using _clock = fakeTime();
  using s = setup();
  const token = "C".repeat(43);
  await s.store.commit(
    token,
    new Uint8Array([0xff, 0x00, 0x7b]),
    new Date(Date.now() + 60_000),
  );
  const warn = console.warn;
  const reports: unknown[][] = [];
  console.warn = (...args: unknown[]) => void reports.push(args);
  try {
    const response = await s.sessions.loadAndSave(app)(
      new Request(url("/count"), { headers: { cookie: `session=${token}` } }),
    );
    assert.equal(await response.text(), "1");
    assert.notEqual(
      parseSetCookie(response.headers.get("set-cookie")!).value,
      token,
    );
  } finally {
    console.warn = warn;
  }
  assert.equal(reports.length, 1);
  assert.ok(reports[0]![1] instanceof SyntaxError);
});

Deno.test("SessionManager sends store failures to onError", async (t) => {
  class FailingStore implements Store {
    constructor(readonly failing: "find" | "commit") {}
    find = () =>
      this.failing === "find"
        ? Promise.reject(new Error("find failed"))
        : Promise.resolve(undefined);
    commit = () =>
      this.failing === "commit"
        ? Promise.reject(new Error("commit failed"))
        : Promise.resolve();
    delete = () => Promise.resolve();
  }
  const request = () =>
    new Request(url("/put"), {
      headers: { cookie: `session=${"D".repeat(43)}` },
    });

  await t.step("by default: logged, and a 500", async () => {
    const error = console.error;
    const logged: unknown[][] = [];
    console.error = (...args: unknown[]) => void logged.push(args);
    try {
      for (const failing of ["find", "commit"] as const) {
        using sessions = new SessionManager<Values>({
          store: new FailingStore(failing),
        });
        const response = await sessions.loadAndSave(app)(request());
        assert.equal(response.status, 500);
        assert.equal(await response.text(), "Internal Server Error");
        assert.equal(response.headers.get("set-cookie"), null);
        assert.equal(response.headers.get("vary"), "Cookie");
      }
    } finally {
      console.error = error;
    }
    assert.equal(logged.length, 2);
    assert.equal((logged[0]![1] as Error).message, "find failed");
    assert.equal((logged[1]![1] as Error).message, "commit failed");
  });
  await t.step("or the response onError makes", async () => {
    const seen: [unknown, Request][] = [];
    using sessions = new SessionManager<Values>({
      store: new FailingStore("commit"),
      onError: (error, request) => {
        seen.push([error, request]);
        return new Response("try again", { status: 503 });
      },
    });
    const req = request();
    const response = await sessions.loadAndSave(app)(req);
    assert.equal(response.status, 503);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]![1], req);
  });
});

Deno.test("Session.put() throws a TypeError for a value the codec cannot encode", async () => {
  using s = setup();
  const session = await s.sessions.load("");
  const bad = new Date() as unknown as string;
  assert.throws(() => session.put("message", bad), {
    name: "TypeError",
    message: /^Cannot put "message": Cannot encode a Date as JSON/,
  });
  assert.throws(
    () => session.put("message", undefined as unknown as string),
    TypeError,
  );
  assert.equal(session.status, "unmodified");
  assert.equal(session.has("message"), false);

  // A codec without check() is tried with encode().
  using t = setup({
    codec: {
      encode: (data) => jsonCodec.encode(data),
      decode: (bytes) => jsonCodec.decode(bytes),
    },
  });
  const other = await t.sessions.load("");
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => other.put("message", cyclic as unknown as string), {
    name: "TypeError",
    message: /^Cannot put "message": /,
  });
});

Deno.test("Session's values: get, put, pop, remove, has, keys, clear", async () => {
  using _clock = fakeTime();
  using s = setup();
  const session = await s.sessions.load("");
  assert.equal(session.token, "");
  assert.equal(session.status, "unmodified");
  assert.equal(session.deadline.getTime(), Date.now() + 86_400_000);
  assert.equal(session.get("user"), undefined);

  session.remove("user");
  session.clear();
  assert.equal(session.pop("user"), undefined);
  assert.equal(
    session.status,
    "unmodified",
    "removing nothing changes nothing",
  );

  session.put("user", "ada");
  session.put("message", "hi");
  session.put("count", 2);
  assert.equal(session.status, "modified");
  assert.deepEqual(session.keys(), ["count", "message", "user"]);
  assert.equal(session.has("user"), true);
  assert.equal(session.pop("message"), "hi");
  assert.equal(session.has("message"), false);
  session.remove("count");
  assert.deepEqual(session.keys(), ["user"]);

  const { token } = await s.sessions.commit(session);
  assert.equal(session.token, token);
  const loaded = await s.sessions.load(token);
  assert.equal(loaded.get("user"), "ada");
  assert.equal(loaded.status, "unmodified");
  loaded.clear();
  assert.deepEqual(loaded.keys(), []);
  assert.equal(loaded.status, "modified");
});

Deno.test("Session keys cannot reach Object.prototype", async () => {
  using store = new MemStore({ cleanupInterval: 0 });
  using sessions = new SessionManager({ store });
  const session = await sessions.load("");
  assert.equal(session.has("toString"), false);
  assert.equal(session.get("constructor"), undefined);
  session.put("__proto__", { polluted: true });
  const { token } = await sessions.commit(session);
  const loaded = await sessions.load(token);
  assert.deepEqual(loaded.get("__proto__"), { polluted: true });
  assert.deepEqual(loaded.keys(), ["__proto__"]);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("Session.setDeadline() moves the deadline and the cookie's expiry", async () => {
  using clock = fakeTime();
  using s = setup();
  const session = await s.sessions.load("");
  session.setDeadline(new Date(Date.now() + 5_000));
  assert.equal(session.status, "modified");
  const { token, expiry } = await s.sessions.commit(session);
  assert.equal(expiry.getTime(), Date.now() + 5_000);
  assert.throws(() => session.setDeadline(new Date(NaN)), {
    name: "TypeError",
    message: /an Invalid Date/,
  });
  clock.tick(5_000);
  assert.equal((await s.sessions.load(token)).token, "");
});

const everyAttribute: CookieOptions = {
  name: "__Host-sid",
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
    /^__Host-sid=[A-Za-z0-9_-]{43}; Max-Age=86400; Domain=example.com; Path=\/app; Expires=.*; Secure; Partitioned; SameSite=None$/,
  );
  assert.doesNotMatch(set, /HttpOnly/);
});

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

Deno.test("SessionManager.iterate() visits live sessions and saves their changes", async () => {
  using clock = fakeTime();
  using s = setup();
  const tokens: string[] = [];
  for (
    const [user, lifetime] of [["a", 10_000], ["b", 60_000], [
      "c",
      60_000,
    ]] as const
  ) {
    const session = await s.sessions.load("");
    session.put("user", user);
    session.setDeadline(new Date(Date.now() + lifetime));
    tokens.push((await s.sessions.commit(session)).token);
  }
  clock.tick(10_000); // "a" has expired
  const visited: string[] = [];
  await s.sessions.iterate(async (session) => {
    visited.push(session.get("user")!);
    if (session.get("user") === "b") session.put("message", "changed");
    if (session.get("user") === "c") session.destroy();
    await Promise.resolve();
  });
  assert.deepEqual(visited.sort(), ["b", "c"]);
  assert.equal((await s.sessions.load(tokens[1]!)).get("message"), "changed");
  assert.equal(await s.store.find(tokens[2]!), undefined);

  const plain: Store = {
    find: () => Promise.resolve(undefined),
    commit: () => Promise.resolve(),
    delete: () => Promise.resolve(),
  };
  using sessions = new SessionManager({ store: plain });
  await assert.rejects(sessions.iterate(() => {}), {
    name: "TypeError",
    message: /^Cannot iterate sessions: the store has no all\(\) method/,
  });
});

Deno.test("SessionManager.load() and commit() work outside HTTP", async () => {
  using _clock = fakeTime();
  using s = setup({ idleTimeout: 1_000 });
  const session = await s.sessions.load("not a token");
  session.put("user", "job");
  const { token, expiry } = await s.sessions.commit(session);
  assert.match(token, TOKEN);
  assert.equal(expiry.getTime(), Date.now() + 1_000);
  assert.equal((await s.sessions.load(token)).get("user"), "job");
  await assert.rejects(s.sessions.load(7 as unknown as string), {
    name: "TypeError",
    message: /received 7/,
  });
  await assert.rejects(s.sessions.commit({} as Session<Values>), {
    name: "TypeError",
    message: /expected a Session from a SessionManager, received an Object/,
  });
  session.destroy();
  assert.deepEqual(await s.sessions.commit(session), {
    token: "",
    expiry: new Date(0),
  });
  assert.equal(await s.store.find(token), undefined);
});

Deno.test("SessionManager disposes the store it created, never one it was given", async () => {
  using clock = fakeTime();
  {
    using _sessions = new SessionManager();
    assert.equal(clock.countTimers(), 1, "its own MemStore sweeps");
  }
  assert.equal(clock.countTimers(), 0);
  using given = new MemStore();
  {
    using _sessions = new SessionManager({ store: given });
    assert.equal(clock.countTimers(), 1, "no second store was made");
  }
  assert.equal(clock.countTimers(), 1);
  await given.commit("still", new Uint8Array([1]), new Date(Date.now() + 1000));
});

Deno.test("SessionManager.loadAndSave() rejects a handler that returns no Response", async () => {
  using s = setup();
  const handler = s.sessions.loadAndSave(() => "text" as unknown as Response);
  await assert.rejects(handler(new Request(url("/"))), {
    name: "TypeError",
    message:
      'Cannot send the response: the handler returned "text", not a Response',
  });
});

Deno.test("SessionManager with Deno.serve and fetch, following the cookie", async () => {
  using s = setup();
  await using server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    s.sessions.loadAndSave((request, session, info) => {
      if (new URL(request.url).pathname === "/ip") {
        return new Response(info.remoteAddr.hostname);
      }
      return app(request, session);
    }),
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  let cookie = "";
  const get = async (path: string) => {
    const response = await fetch(base + path, {
      headers: cookie ? { cookie } : {},
    });
    const set = response.headers.get("set-cookie");
    if (set) {
      const parsed = parseSetCookie(set);
      cookie = parsed.maxAge === 0 ? "" : `${parsed.name}=${parsed.value}`;
    }
    return {
      status: response.status,
      text: await response.text(),
      set,
      vary: response.headers.get("vary"),
    };
  };
  assert.equal((await get("/ip")).text, "127.0.0.1");
  const put = await get("/put");
  assert.equal(put.status, 200);
  assert.match(
    put.set!,
    /^session=[A-Za-z0-9_-]{43}; Max-Age=86400; Path=\/; Expires=.+; HttpOnly; SameSite=Lax$/,
  );
  const got = await get("/get");
  assert.deepEqual([got.text, got.set, got.vary], [
    "Hello from a session!",
    null,
    "Cookie",
  ]);
  assert.equal((await get("/count")).text, "1");
  assert.equal((await get("/count")).text, "2");
  await get("/destroy");
  assert.equal(cookie, "");
  assert.equal((await get("/get")).text, "");
});

Deno.test("SessionManager passes SCS's manager cases", async (t) => {
  await t.step("enable: put, then get with the cookie", async () => {
    using s = setup();
    const browser = client(s.sessions.loadAndSave(app));
    const put = await browser.get("/put");
    assert.match(put.headers.get("set-cookie")!, /^session=/);
    assert.equal(
      await (await browser.get("/get")).text(),
      "Hello from a session!",
    );
  });
  await t.step(
    "lifetime: the session ends at its deadline, whatever the activity",
    async () => {
      using clock = fakeTime();
      using s = setup({ lifetime: 500 });
      const browser = client(s.sessions.loadAndSave(app));
      await browser.get("/put");
      clock.tick(250);
      assert.equal(
        await (await browser.get("/get")).text(),
        "Hello from a session!",
      );
      clock.tick(250);
      assert.equal(await (await browser.get("/get")).text(), "");
    },
  );
  await t.step(
    "idle timeout: activity extends the session, idleness ends it",
    async () => {
      using clock = fakeTime();
      using s = setup({ idleTimeout: 200, lifetime: 60_000 });
      const browser = client(s.sessions.loadAndSave(app));
      await browser.get("/put");
      clock.tick(100);
      await browser.get("/get");
      clock.tick(150);
      assert.equal(
        await (await browser.get("/get")).text(),
        "Hello from a session!",
      );
      clock.tick(200);
      assert.equal(await (await browser.get("/get")).text(), "");
    },
  );
  await t.step("destroy: the cookie is deleted, the data is gone", async () => {
    using s = setup();
    const browser = client(s.sessions.loadAndSave(app));
    await browser.get("/put");
    const cookie = browser.cookie!;
    const response = await browser.get("/destroy");
    assert.match(response.headers.get("set-cookie")!, /^session=; Max-Age=0;/);
    browser.cookie = cookie; // a client that ignores the deletion
    assert.equal(await (await browser.get("/get")).text(), "");
  });
  await t.step("renew token: a new token, the same data", async () => {
    using s = setup();
    const browser = client(s.sessions.loadAndSave(app));
    await browser.get("/put");
    const before = browser.cookie;
    await browser.get("/renew");
    assert.notEqual(browser.cookie, before);
    assert.equal(
      await (await browser.get("/get")).text(),
      "Hello from a session!",
    );
  });
  await t.step("remember me: persistent only when asked", async () => {
    using s = setup({ cookie: { persist: false } });
    const plain = s.sessions.loadAndSave((_r, session) => {
      session.put("user", "a");
      return new Response();
    });
    const remembered = s.sessions.loadAndSave((_r, session) => {
      session.put("user", "a");
      session.rememberMe(true);
      return new Response();
    });
    assert.doesNotMatch(
      (await plain(new Request(url("/")))).headers.get("set-cookie")!,
      /Max-Age/,
    );
    assert.match(
      (await remembered(new Request(url("/")))).headers.get("set-cookie")!,
      /Max-Age=86400/,
    );
  });
  await t.step("iterate: every session, changes saved", async () => {
    using s = setup();
    for (let i = 0; i < 3; i++) {
      const session = await s.sessions.load("");
      session.put("count", i);
      await s.sessions.commit(session);
    }
    await s.sessions.iterate((session) =>
      session.put("count", session.get("count")! + 10)
    );
    const counts: number[] = [];
    await s.sessions.iterate((session) =>
      void counts.push(session.get("count")!)
    );
    assert.deepEqual(counts.sort(), [10, 11, 12]);
  });
});

// The interface is what `iterate` needs; MemStore is one.
const _iterable: IterableStore = new MemStore({ cleanupInterval: 0 });

Deno.test("SessionManager over a plain MemStore reads without decoding, and shares nothing", async (t) => {
  type Shape = { n: number; list: number[] };
  using store = new MemStore({ cleanupInterval: 0 });
  using sessions = new SessionManager<{ name: string; shape: Shape }>({
    store,
  });
  const handler = sessions.loadAndSave((request, session) => {
    const path = new URL(request.url).pathname;
    if (path === "/put") {
      session.put("name", "ada");
      session.put("shape", { n: 1, list: [1] });
    }
    if (path === "/mutate") {
      // Changes a value in place, without put(): nothing is saved.
      const shape = session.get("shape")!;
      shape.n = 99;
      shape.list.push(2);
    }
    if (path === "/rename") session.put("name", "grace");
    return new Response(
      JSON.stringify([session.get("name"), session.get("shape")]),
    );
  });
  const browser = client(handler);
  await browser.get("/put");

  await t.step("a value changed in place is not saved", async () => {
    assert.equal(
      await (await browser.get("/mutate")).text(),
      '["ada",{"n":99,"list":[1,2]}]',
    );
    assert.equal(
      await (await browser.get("/get")).text(),
      '["ada",{"n":1,"list":[1]}]',
    );
  });
  await t.step(
    "overlapping requests do not see each other's unsaved values",
    async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const seen: unknown[] = [];
      using flatStore = new MemStore({ cleanupInterval: 0 });
      using flat = new SessionManager<{ name: string }>({ store: flatStore });
      const slow = flat.loadAndSave(async (_request, session) => {
        await gate;
        seen.push(session.get("name"));
        return new Response(null);
      });
      const fast = flat.loadAndSave((request, session) => {
        if (request.url.endsWith("/put")) session.put("name", "ada");
        else session.put("name", "changed");
        return new Response(null);
      });
      const first = client(fast);
      await first.get("/put");
      const cookie = first.cookie!;
      const waiting = slow(new Request(url("/"), { headers: { cookie } }));
      await fast(new Request(url("/change"), { headers: { cookie } }));
      release();
      await waiting;
      assert.deepEqual(
        seen,
        ["ada"],
        "the slow request kept the values it loaded",
      );
    },
  );
});

Deno.test("SessionManager gives the same answers over a plain MemStore and a subclassed one", async () => {
  type Op =
    | {
      op: "put";
      key: "a" | "b";
      value: string | number | boolean | null | { n: number };
    }
    | { op: "touch"; key: "a" | "b" }
    | { op: "remove" | "pop"; key: "a" | "b" }
    | { op: "clear" | "destroy" | "renew" | "remember" | "get" }
    | { op: "tick"; ms: number };
  const key = fc.constantFrom("a" as const, "b" as const);
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      op: fc.constant("put" as const),
      key,
      value: fc.oneof(
        fc.string(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.record({ n: fc.integer() }),
      ),
    }),
    fc.record({ op: fc.constantFrom("touch" as const), key }),
    fc.record({ op: fc.constantFrom("remove" as const, "pop" as const), key }),
    fc.record({
      op: fc.constantFrom(
        "clear" as const,
        "destroy" as const,
        "renew" as const,
        "remember" as const,
        "get" as const,
      ),
    }),
    fc.record({
      op: fc.constant("tick" as const),
      ms: fc.integer({ min: 0, max: 40_000 }),
    }),
  );
  const handle = (
    session: Session<Record<string, unknown>>,
    step: Op,
  ): unknown => {
    switch (step.op) {
      case "put":
        session.put(step.key, step.value);
        break;
      case "touch": {
        const value = session.get(step.key);
        if (typeof value === "object" && value !== null) {
          (value as { n: number }).n++;
        }
        break;
      }
      case "remove":
        session.remove(step.key);
        break;
      case "pop":
        return session.pop(step.key) ?? "none";
      case "clear":
        session.clear();
        break;
      case "destroy":
        session.destroy();
        break;
      case "renew":
        session.renewToken();
        break;
      case "remember":
        session.rememberMe(true);
        break;
    }
    return session.keys().map((k) => [k, session.get(k)]);
  };
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 30 }), async (steps) => {
      using clock = fakeTime();
      using plain = new MemStore({ cleanupInterval: 0 });
      using subclassed = new SpyStore({ cleanupInterval: 0 });
      const options = {
        idleTimeout: 30_000,
        lifetime: 100_000,
        cookie: { persist: false },
      };
      using fast = new SessionManager({ store: plain, ...options });
      using slow = new SessionManager({ store: subclassed, ...options });
      let current: Op = { op: "get" };
      const app: (
        request: Request,
        session: Session<Record<string, unknown>>,
      ) => Response = (_request, session) =>
        new Response(JSON.stringify(handle(session, current)));
      const browsers = [
        client(fast.loadAndSave(app)),
        client(slow.loadAndSave(app)),
      ];
      for (const step of steps) {
        if (step.op === "tick") {
          clock.tick(step.ms);
          continue;
        }
        current = step;
        const answers = [];
        for (const browser of browsers) {
          const response = await browser.get("/");
          const set = response.headers.get("set-cookie");
          answers.push([
            await response.text(),
            set === null ? "none" : set.replace(/^session=[^;]*/, ""),
          ]);
        }
        assert.deepEqual(answers[0], answers[1]);
      }
    }),
    { numRuns: 150 },
  );
});

Deno.test("SessionManager saves an unchanged session again without losing it", async () => {
  using clock = fakeTime();
  using store = new MemStore({ cleanupInterval: 0 });
  using sessions = new SessionManager<Values>({ store, idleTimeout: 10_000 });
  const browser = client(sessions.loadAndSave(app));
  await browser.get("/put");
  for (let i = 0; i < 3; i++) {
    clock.tick(9_000);
    const again = await browser.get("/put"); // the same value: still saved
    assert.match(again.headers.get("set-cookie")!, /Max-Age=10;/);
    clock.tick(9_000);
    assert.equal(
      await (await browser.get("/get")).text(),
      "Hello from a session!",
    );
  }
  const stored = await store.find(tokenOf(browser.cookie)!);
  assert.deepEqual(jsonCodec.decode(stored!).values, {
    message: "Hello from a session!",
  });
  clock.tick(10_000);
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
