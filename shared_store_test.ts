// Several server processes on one shared store, through real HTTP: a
// session is shared, overlapping requests on different processes are
// merged, and a sign-in or sign-out on one process ends the old token
// everywhere, even for a request still running on another.
import assert from "node:assert/strict";
import {
  freePort,
  parseSetCookie,
  type SetCookie,
  startDeno,
  startPostgres,
  startRedis,
} from "./_test_helpers.ts";

/** What the servers of these tests run with: the test lockfile, KV, I/O. */
const FLAGS = [
  "--lock=test.lock",
  "--unstable-kv",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-read",
];

/** A KV file of the test's own, removed when disposed. */
async function kvFile() {
  const dir = await Deno.makeTempDir();
  return {
    env: { SESSION_STORE: "kv", KV_PATH: `${dir}/sessions.kv` },
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** The shared stores the tests run over: each gives the servers' environment. */
const STORES: Record<
  string,
  () => Promise<{ env: Record<string, string> } & AsyncDisposable>
> = {
  Redis: async () => {
    const server = await startRedis();
    return {
      env: { SESSION_STORE: "redis", REDIS_URL: server.url },
      [Symbol.asyncDispose]: () => server.stop(),
    };
  },
  "one Deno KV file": kvFile,
  PostgreSQL: async () => {
    const server = await startPostgres();
    return {
      env: { SESSION_STORE: "postgres", DATABASE_URL: server.url },
      [Symbol.asyncDispose]: () => server[Symbol.asyncDispose](),
    };
  },
};

/** A server process of `testdata/shared_app.ts`, stopped when disposed. */
async function startApp(env: Record<string, string>, lifetime?: number) {
  const port = freePort();
  const app = await startDeno([
    "run",
    ...FLAGS,
    new URL("./testdata/shared_app.ts", import.meta.url).pathname,
  ], {
    env: {
      ...env,
      PORT: String(port),
      ...(lifetime ? { LIFETIME: String(lifetime) } : {}),
    },
    ready: "Listening",
    stream: "stderr",
  });
  return {
    base: `http://127.0.0.1:${port}`,
    [Symbol.asyncDispose]: () => app[Symbol.asyncDispose](),
  };
}

/** GET `path` with `cookie`; the body, and the cookie set, if any. */
async function get(
  base: string,
  path: string,
  cookie?: string,
  agent = "a test",
) {
  const response = await fetch(base + path, {
    headers: {
      "user-agent": agent,
      ...(cookie === undefined ? {} : { cookie }),
    },
  });
  const text = await response.text();
  const set = response.headers.get("set-cookie");
  const cookieSet = set === null ? undefined : parseSetCookie(set);
  return { status: response.status, text, cookieSet };
}

/** The `name=value` of a Set-Cookie. */
function jar(cookieSet: SetCookie | undefined): string {
  assert.ok(cookieSet?.value, "a cookie was set");
  return `${cookieSet.name}=${cookieSet.value}`;
}

for (const [name, startStore] of Object.entries(STORES)) {
  Deno.test(`Two processes on ${name} share a session and merge overlapping requests`, async () => {
    await using store = await startStore();
    await using a = await startApp(store.env);
    await using b = await startApp(store.env);
    const cookie = jar((await get(a.base, "/set?key=start&value=a")).cookieSet);
    assert.equal((await get(b.base, "/all", cookie)).text, '{"start":"a"}');

    const requests = Array.from(
      { length: 40 },
      (_, i) =>
        get(i % 2 ? a.base : b.base, `/set?key=k${i}&value=${i}`, cookie),
    );
    for (const { status } of await Promise.all(requests)) {
      assert.equal(status, 200);
    }
    const all = JSON.parse((await get(a.base, "/all", cookie)).text);
    assert.equal(Object.keys(all).length, 41, "all 40 keys and the first");
    assert.equal(all.k39, "39");
  });

  Deno.test(`A 200,000-character value put on one process over ${name} is read whole on another`, async () => {
    await using store = await startStore();
    await using a = await startApp(store.env);
    await using b = await startApp(store.env);
    const value = "x".repeat(100_000) + "é".repeat(50_000) + "y".repeat(50_000);
    const put = await fetch(`${a.base}/set?key=big`, {
      method: "POST",
      body: value,
    });
    await put.body?.cancel();
    const cookie = jar(parseSetCookie(put.headers.get("set-cookie")!));
    const all = JSON.parse((await get(b.base, "/all", cookie)).text);
    assert.equal(all.big.length, 200_000);
    assert.equal(all.big, value);
  });

  Deno.test(`A session with a 1-second lifetime over ${name} is gone on both processes at 1.3 s`, async () => {
    await using store = await startStore();
    await using a = await startApp(store.env, 1_000);
    await using b = await startApp(store.env, 1_000);
    const cookie = jar((await get(a.base, "/set?key=k&value=v")).cookieSet);
    const started = performance.now();
    assert.equal((await get(b.base, "/all", cookie)).text, '{"k":"v"}');
    // Across processes there is no clock to fake: this test waits.
    await new Promise((resolve) =>
      setTimeout(resolve, 1_300 - (performance.now() - started))
    );
    assert.equal((await get(a.base, "/all", cookie)).text, "{}");
    assert.equal((await get(b.base, "/all", cookie)).text, "{}");
  });

  for (const action of ["logout", "login"] as const) {
    Deno.test(`A ${action} on one process over ${name} ends the old token everywhere, even for a request running on another`, async () => {
      await using store = await startStore();
      await using a = await startApp(store.env);
      await using b = await startApp(store.env);
      const old = jar((await get(a.base, "/set?key=cart&value=1")).cookieSet);
      const gate = `${action}-${crypto.randomUUID()}`;
      const slow = get(b.base, `/slow?gate=${gate}&key=late`, old);
      await get(b.base, `/loaded?gate=${gate}`); // b has loaded the session
      const changed = await get(a.base, `/${action}`, old);
      await get(b.base, `/release?gate=${gate}`);
      const late = await slow;
      assert.equal(late.status, 200);
      assert.equal(
        late.cookieSet,
        undefined,
        "the late request sets no cookie",
      );
      for (const base of [a.base, b.base]) {
        assert.equal(
          (await get(base, "/all", old)).text,
          "{}",
          "old token dead",
        );
      }
      if (action === "login") {
        const fresh = jar(changed.cookieSet);
        assert.notEqual(fresh, old);
        assert.deepEqual(JSON.parse((await get(b.base, "/all", fresh)).text), {
          cart: "1",
          user: "ada",
        });
      } else {
        assert.equal(changed.cookieSet?.maxAge, 0, "the cookie is cleared");
      }
    });
  }
}

for (const [name, startStore] of Object.entries(STORES)) {
  Deno.test(`A user on two devices and two processes over ${name} sees both from either; signing out the other ends it, even a request of it in flight`, async () => {
    await using store = await startStore();
    await using a = await startApp(store.env);
    await using b = await startApp(store.env);
    const login = async (base: string, agent: string) =>
      jar((await get(base, "/login?user=ada", undefined, agent)).cookieSet);
    const phone = await login(a.base, "Phone");
    const laptop = await login(b.base, "Laptop");
    await get(a.base, "/login?user=bob", undefined, "Bob's"); // another user
    const devices = async (base: string, cookie: string) =>
      JSON.parse((await get(base, "/devices", cookie)).text) as {
        userAgent: string;
        current: boolean;
      }[];
    for (
      const [base, cookie, here] of [
        [a.base, laptop, "Laptop"],
        [b.base, phone, "Phone"],
      ] as const
    ) {
      const listed = await devices(base, cookie);
      assert.deepEqual(listed.map((d) => d.userAgent).sort(), [
        "Laptop",
        "Phone",
      ]);
      assert.equal(listed.find((d) => d.current)?.userAgent, here);
    }

    const gate = `others-${crypto.randomUUID()}`;
    const slow = get(b.base, `/slow?gate=${gate}&key=late`, phone);
    await get(b.base, `/loaded?gate=${gate}`); // b has loaded the phone's session
    assert.equal((await get(a.base, "/others", laptop)).text, "1");
    await get(b.base, `/release?gate=${gate}`);
    const late = await slow;
    assert.equal(late.status, 200);
    assert.equal(late.cookieSet, undefined, "the late request sets no cookie");
    for (const base of [a.base, b.base]) {
      assert.equal((await get(base, "/all", phone)).text, "{}", "signed out");
    }
    const left = await devices(b.base, laptop);
    assert.deepEqual(left.map((d) => d.userAgent), ["Laptop"]);
  });

  Deno.test(`examples/serve.ts under deno serve --parallel shares sessions through ${name}`, async () => {
    await using store = await startStore();
    const port = freePort();
    await using _server = await startDeno([
      "serve",
      "--parallel",
      ...FLAGS,
      "--port",
      String(port),
      new URL("./examples/serve.ts", import.meta.url).pathname,
    ], {
      env: { ...store.env, DENO_JOBS: "2" },
      ready: "Listening",
      stream: "stderr",
    });
    const base = `http://127.0.0.1:${port}`;
    const cookie = jar((await get(base, "/put")).cookieSet);
    // Connections go to either isolate; every one sees the session.
    for (let i = 0; i < 20; i++) {
      const response = await fetch(`${base}/get`, {
        headers: { cookie, connection: "close" },
      });
      assert.equal(await response.text(), "Hello from a session!");
    }
  });
}
