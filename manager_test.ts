import assert from "node:assert/strict";
import {
  app,
  client,
  fakeTime,
  parseSetCookie,
  setup,
  TestStore,
  TOKEN,
  tokenOf,
  url,
  type Values,
} from "./_test_helpers.ts";
import { jsonCodec } from "./codec.ts";
import { SessionManager } from "./manager.ts";
import { MemStore } from "./memstore.ts";

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
    assert.deepEqual(s.store.calls, { ...before, read: before.read + 1 });
  });
});

Deno.test("SessionManager.loadAndSave() touches no store for a request without a cookie", async () => {
  using s = setup();
  const response = await s.sessions.loadAndSave(app)(new Request(url("/get")));
  assert.equal(await response.text(), "");
  assert.deepEqual(s.store.calls, { read: 0, write: 0, delete: 0, all: 0 });
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
    assert.equal(s.store.calls.read, 0);
    const token = parseSetCookie(response.headers.get("set-cookie")!).value!;
    assert.match(token, TOKEN);
  });
  await t.step("an unknown well-formed token: a new token", async () => {
    const planted = "A".repeat(43);
    const response = await handler(
      new Request(url("/put"), { headers: { cookie: `session=${planted}` } }),
    );
    assert.equal(s.store.calls.read, 1);
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
        const commits = s.store.calls.write;
        const response = await browser.get("/get");
        assert.equal(await response.text(), "Hello from a session!");
        assert.equal(s.store.calls.write, commits + 1);
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
      // The browser holds the persistent cookie: nothing to send again.
      const later = await browser.get("/");
      assert.equal(later.headers.get("set-cookie"), null);
      const session = await s.sessions.load(tokenOf(browser.cookie)!);
      assert.equal(session.keys().length, 1);
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

Deno.test("SessionManager never puts a cookie on a response the handler can return again", async (t) => {
  await t.step("a shared 204 returned to two visitors", async () => {
    using s = setup();
    const noContent = new Response(null, { status: 204 });
    const handler = s.sessions.loadAndSave((request, session) => {
      if (request.url.endsWith("/login")) session.put("user", "ada");
      return noContent;
    });
    const ada = await handler(new Request(url("/login")));
    const adaCookie = ada.headers.get("set-cookie");
    assert.match(adaCookie!, /^session=/);
    assert.equal(noContent.headers.get("set-cookie"), null, "not changed");
    const other = await handler(new Request(url("/")));
    assert.equal(other.status, 204);
    assert.equal(other.headers.get("set-cookie"), null);
  });
  await t.step(
    "with an idle timeout, a cached asset for a signed-in user",
    async () => {
      using s = setup({ idleTimeout: 60_000, touchAfter: 0 });
      const asset = new Response(null, { status: 304 });
      const login = client(s.sessions.loadAndSave(app));
      await login.get("/put");
      const handler = s.sessions.loadAndSave(() => asset);
      const signedIn = await handler(
        new Request(url("/logo.png"), { headers: { cookie: login.cookie! } }),
      );
      assert.match(signedIn.headers.get("set-cookie")!, /^session=/);
      const stranger = await handler(new Request(url("/logo.png")));
      assert.equal(stranger.headers.get("set-cookie"), null);
      assert.equal(asset.headers.get("set-cookie"), null);
      assert.equal(stranger.headers.get("vary"), "Cookie");
    },
  );
  await t.step("a cached redirect the app built itself", async () => {
    using s = setup();
    const home = new Response(null, {
      status: 303,
      headers: { location: "/" },
    });
    const handler = s.sessions.loadAndSave((_request, session) => {
      session.put("count", 1);
      return home;
    });
    const first = await handler(new Request(url("/a")));
    const second = await handler(new Request(url("/b")));
    const a = first.headers.getSetCookie();
    const b = second.headers.getSetCookie();
    assert.equal(a.length, 1);
    assert.equal(b.length, 1);
    assert.notEqual(a[0], b[0]);
    assert.equal(second.headers.get("location"), "/");
    assert.deepEqual(home.headers.getSetCookie(), []);
  });
});

Deno.test("SessionManager with an idle timeout saves an unchanged session only once touchAfter of it has passed", async () => {
  using clock = fakeTime();
  using s = setup({ idleTimeout: 60_000 }); // touchAfter 0.1: every 6 s
  const browser = client(s.sessions.loadAndSave(app));
  await browser.get("/put");
  const writes = () => s.store.calls.write;
  const before = writes();
  clock.tick(5_999);
  const quiet = await browser.get("/get");
  assert.equal(await quiet.text(), "Hello from a session!");
  assert.equal(quiet.headers.get("set-cookie"), null, "no cookie");
  assert.equal(writes(), before, "no write");
  clock.tick(1);
  const touched = await browser.get("/get");
  assert.match(touched.headers.get("set-cookie")!, /Max-Age=60;/);
  assert.equal(writes(), before + 1);
  // The session lives on: 59 s after the last save, not after the first.
  clock.tick(59_999);
  assert.equal(
    await (await browser.get("/get")).text(),
    "Hello from a session!",
  );

  // A plain store says nothing of expiry: every request saves.
  using plain = new TestStore({ capabilities: "plain" });
  using sessions = new SessionManager<Values>({
    store: plain,
    idleTimeout: 60_000,
  });
  const other = client(sessions.loadAndSave(app));
  await other.get("/put");
  const plainBefore = plain.calls.write;
  await other.get("/get");
  assert.equal(plain.calls.write, plainBefore + 1);
});

Deno.test("SessionManager makes no store call beyond the load, and sends no cookie, when a put changed nothing", async () => {
  using _clock = fakeTime();
  for (const capabilities of ["plain", "versioned", "in-memory"] as const) {
    using store = new TestStore({ capabilities });
    using sessions = new SessionManager<Values>({ store });
    const browser = client(sessions.loadAndSave(app));
    await browser.get("/put");
    const before = { ...store.calls };
    const again = await browser.get("/put"); // the same message again
    assert.equal(again.headers.get("set-cookie"), null, capabilities);
    assert.equal(again.headers.get("vary"), "Cookie");
    assert.deepEqual(store.calls, { ...before, read: before.read + 1 });
    assert.equal(
      await (await browser.get("/get")).text(),
      "Hello from a session!",
    );
  }
});

Deno.test("SessionManager writes a changed value without sending the cookie again", async () => {
  using clock = fakeTime();
  for (const capabilities of ["plain", "versioned", "in-memory"] as const) {
    using store = new TestStore({ capabilities });
    using sessions = new SessionManager<Values>({ store });
    const browser = client(sessions.loadAndSave(app));
    await browser.get("/put");
    const token = tokenOf(browser.cookie)!;
    const deadline = (await sessions.load(token)).deadline.getTime();
    clock.tick(60_000);
    const before = { ...store.calls };
    const changed = await browser.get("/count");
    assert.equal(changed.headers.get("set-cookie"), null, capabilities);
    assert.equal(store.calls.write, before.write + 1, "one write");
    assert.equal(await (await browser.get("/count")).text(), "2");
    assert.equal(
      (await sessions.load(token)).deadline.getTime(),
      deadline,
      "the deadline the cookie carries did not move",
    );
  }
});

Deno.test("SessionManager sends the cookie again only when what the browser holds must change", async (t) => {
  await t.step(
    "with an idle timeout: a change within touchAfter keeps the expiry, one past it moves both",
    async () => {
      using clock = fakeTime();
      using s = setup({ idleTimeout: 60_000 }); // touchAfter: 6 s
      const browser = client(s.sessions.loadAndSave(app));
      const first = await browser.get("/count");
      assert.equal(parseSetCookie(first.headers.get("set-cookie")!).maxAge, 60);
      clock.tick(5_000);
      const within = await browser.get("/count");
      assert.equal(within.headers.get("set-cookie"), null, "within touchAfter");
      clock.tick(56_000); // 61 s after the cookie: the store kept its expiry
      assert.equal(await (await browser.get("/count")).text(), "1", "expired");
      clock.tick(7_000);
      const past = await browser.get("/count");
      assert.equal(parseSetCookie(past.headers.get("set-cookie")!).maxAge, 60);
    },
  );
  await t.step(
    "setDeadline() moves the expiry the cookie carries",
    async () => {
      using _clock = fakeTime();
      using s = setup();
      const handler = s.sessions.loadAndSave((request, session) => {
        if (request.url.endsWith("/short")) {
          session.setDeadline(new Date(Date.now() + 60_000));
        } else session.put("count", 1);
        return new Response("ok");
      });
      const browser = client(handler);
      await browser.get("/");
      const short = await browser.get("/short");
      assert.equal(parseSetCookie(short.headers.get("set-cookie")!).maxAge, 60);
    },
  );
  await t.step("a renewed token and a destroyed session", async () => {
    using s = setup();
    const browser = client(s.sessions.loadAndSave(app));
    await browser.get("/put");
    const old = browser.cookie;
    const renewed = await browser.get("/renew");
    assert.notEqual(
      parseSetCookie(renewed.headers.get("set-cookie")!).value,
      old,
    );
    const destroyed = await browser.get("/destroy");
    assert.equal(
      parseSetCookie(destroyed.headers.get("set-cookie")!).maxAge,
      0,
    );
  });
});

Deno.test("SessionManager.loadAndSave() sets the cookie on a WebSocket upgrade", async () => {
  using sessions = new SessionManager<{ socket: boolean }>();
  const opened = Promise.withResolvers<void>();
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    sessions.loadAndSave((request, session) => {
      session.put("socket", true);
      const { socket, response } = Deno.upgradeWebSocket(request);
      socket.onopen = () => {
        socket.close();
        opened.resolve();
      };
      return response;
    }),
  );
  using connection = await Deno.connect({
    hostname: "127.0.0.1",
    port: server.addr.port,
  });
  await connection.write(new TextEncoder().encode(
    "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n" +
      "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
  ));
  let head = "";
  const buffer = new Uint8Array(4096);
  while (!head.includes("\r\n\r\n")) {
    const n = await connection.read(buffer);
    if (n === null) break;
    head += new TextDecoder().decode(buffer.subarray(0, n));
  }
  await opened.promise;
  assert.match(head, /^HTTP\/1\.1 101 /);
  assert.match(head, /\r\nset-cookie: session=[\w-]{43};/i);
  assert.match(head, /\r\nvary: Cookie\r\n/i);
});
