import assert from "node:assert/strict";
import {
  app,
  client,
  fakeTime,
  parseSetCookie,
  setup,
  TestStore,
  tokenOf,
  url,
  type Values,
} from "./_test_helpers.ts";
import { SessionManager } from "./manager.ts";
import type { Store } from "./store.ts";

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

/** A store whose writes never settle while `stuck` is on. */
function stuckStore(capabilities: "versioned" | "plain") {
  const store = Object.assign(new TestStore({ capabilities }), {
    stuck: false,
  });
  const hang = <T>(work: () => Promise<T>): Promise<T> =>
    store.stuck ? new Promise<T>(() => {}) : work();
  if (capabilities === "versioned") {
    const commitVersioned = store.commitVersioned!;
    store.commitVersioned = (writes) => hang(() => commitVersioned(writes));
  } else {
    const commit = store.commit.bind(store);
    store.commit = (token, data, expiry) =>
      hang(() => commit(token, data, expiry));
  }
  return store;
}

Deno.test("SessionManager gives up on a stuck store call after storeTimeout, and the session's later saves go ahead", async () => {
  for (const capabilities of ["versioned", "plain"] as const) {
    using clock = fakeTime();
    using store = stuckStore(capabilities);
    const errors: unknown[] = [];
    using sessions = new SessionManager<Values>({
      store,
      storeTimeout: 1_000,
      onError: (error) => {
        errors.push(error);
        return new Response("busy", { status: 503 });
      },
    });
    const browser = client(sessions.loadAndSave(app));
    assert.equal(await (await browser.get("/count")).text(), "1");
    store.stuck = true;
    const answers: Response[] = [];
    browser.get("/count").then((response) => answers.push(response));
    await clock.tickAsync(999);
    assert.equal(answers.length, 0, `${capabilities}: waiting at 999 ms`);
    await clock.tickAsync(1);
    assert.equal(answers[0]?.status, 503, `${capabilities}: given up at 1 s`);
    assert.equal((errors[0] as Error).name, "TimeoutError");
    assert.match((errors[0] as Error).message, /within 1000 ms/);
    // The store answers again: the same session's next requests are served.
    store.stuck = false;
    browser.get("/count").then((response) => answers.push(response));
    await clock.tickAsync(0);
    assert.equal(await answers[1]?.text(), "2", `${capabilities}: not wedged`);
  }
});

Deno.test("SessionManager cancels the handler's body when the save fails", async () => {
  let cancelled: unknown = "not cancelled";
  const body = new ReadableStream({
    pull(controller) {
      controller.enqueue(new Uint8Array(1024)); // a large file, say
    },
    cancel(reason) {
      cancelled = reason;
    },
  });
  using sessions = new SessionManager<Values>({
    store: {
      find: () => Promise.resolve(undefined),
      commit: () => Promise.reject(new Error("store down")),
      delete: () => Promise.resolve(),
    },
    onError: () => new Response("try again", { status: 503 }),
  });
  const response = await sessions.loadAndSave((_request, session) => {
    session.put("count", 1);
    return new Response(body);
  })(new Request(url("/")));
  assert.equal(response.status, 503);
  assert.equal(await response.text(), "try again");
  assert.equal(cancelled, undefined, "cancel() was called");
});
