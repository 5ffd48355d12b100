// Overlapping requests of one session: each request's changes are merged key
// by key onto the session as stored, and a session that ended while a
// request ran is never brought back by it.
import assert from "node:assert/strict";
import {
  parseSetCookie,
  perform,
  type Step,
  TestStore,
  tokenOf,
} from "./_test_helpers.ts";
import { jsonCodec } from "./codec.ts";
import { MemStore } from "./memstore.ts";
import { SessionManager } from "./manager.ts";
import type { DroppedChanges, DropReason } from "./options.ts";
import { isVersionedStore, type IterableStore } from "./store.ts";

type Values = Record<string, string | number>;

/** What one request does to its session. */
const OPS = [
  "read",
  "put-a",
  "put-c",
  "pop-a",
  "remove-b",
  "clear",
  "destroy",
  "renew",
] as const;
type Op = typeof OPS[number];

/** What an operation does, as steps of the model test below. */
function steps(op: Op, who: string): Step[] {
  switch (op) {
    case "read":
      return [{ op: "get", key: "a" }];
    case "put-a":
      return [{ op: "put", key: "a", value: who }];
    case "put-c":
      return [{ op: "put", key: "c", value: who }];
    case "pop-a":
      return [{ op: "pop", key: "a" }];
    case "remove-b":
      return [{ op: "remove", key: "b" }];
    default:
      return [{ op }];
  }
}

/** The keys an operation changes: a value, or `null` for a removal. */
function changes(op: Op, who: string): Values | Record<string, null> {
  switch (op) {
    case "put-a":
      return { a: who };
    case "put-c":
      return { c: who };
    case "pop-a":
      return { a: null };
    case "remove-b":
      return { b: null };
    case "clear":
      return { a: null, b: null };
    default:
      return {};
  }
}

/** What a response did to the cookie. */
type CookieOutcome = "none" | "same" | "new" | "cleared";

interface Outcome {
  /** The stored values of the session that survives; undefined if none. */
  values: Values | undefined;
  /** Which request's cookie the survivor is under: "old" or a request. */
  under: string | undefined;
  cookies: Record<string, CookieOutcome>;
  dropped: DropReason[];
}

/**
 * The expected outcome, from the rules alone: requests commit in `order`;
 * each writes the keys it changed onto the stored session (the later one
 * wins a key); destroy ends it, wherever a renewal moved it; renew moves it
 * to a new token; a request whose session ended by its commit changes
 * nothing and sets no cookie, and only one that changed something is
 * reported as dropped.
 */
function expected(
  ops: Record<string, Op>,
  order: string[],
  idle: boolean,
  throttled: boolean,
): Outcome {
  let values: Values | undefined = { a: 1, b: 2 };
  let under: string | undefined = "old";
  let ended: DropReason | undefined;
  const cookies: Record<string, CookieOutcome> = {};
  const dropped: DropReason[] = [];
  for (const who of order) {
    const op = ops[who]!;
    if (op === "destroy") {
      if (under !== undefined) {
        [values, under, ended] = [undefined, undefined, "destroyed"];
      }
      cookies[who] = "cleared";
      continue;
    }
    if (op === "read" && (!idle || throttled)) {
      cookies[who] = "none"; // no save: no idle timeout, or no time passed
      continue;
    }
    if (under !== "old") {
      if (op !== "read") dropped.push(ended!);
      cookies[who] = "none";
      continue;
    }
    const next: Values = { ...values };
    for (const [key, value] of Object.entries(changes(op, who))) {
      if (value === null) delete next[key];
      else next[key] = value;
    }
    values = next;
    if (op === "renew") {
      [under, ended] = [who, "renewed"];
      cookies[who] = "new";
    } else {
      // The cookie goes again only when the expiry it carries moved: with
      // an idle timeout over a store that does not say when a session
      // expires (no time passes here, so nowhere else).
      cookies[who] = idle && !throttled ? "same" : "none";
    }
  }
  return { values, under, cookies, dropped };
}

const STORES = {
  "a MemStore": () => new MemStore({ cleanupInterval: 0 }),
  "a versioned store that pauses on every operation": () =>
    new TestStore({ capabilities: "versioned", pause: "task" }),
  "a plain store that pauses on every operation": () =>
    new TestStore({ capabilities: "plain", pause: "task" }),
};

/** A request that runs `op` then waits until the test lets it finish. */
interface Held {
  loaded: Promise<void>;
  release(): void;
  response: Promise<Response>;
}

/** A manager over `store` whose requests the test holds; `report: false` leaves onDropped at its default. */
function setup(
  store: IterableStore & Disposable,
  idle: boolean,
  report = true,
) {
  const dropped: DroppedChanges[] = [];
  const sessions = new SessionManager<Values>({
    store,
    idleTimeout: idle ? 60_000 : 0,
    ...report
      ? { onDropped: (change: DroppedChanges) => dropped.push(change) }
      : {},
  });
  const ops = new Map<string, Op>();
  const gates = new Map<string, { loaded(): void; gate: Promise<void> }>();
  const handler = sessions.loadAndSave(async (request, session) => {
    const who = request.headers.get("x-who")!;
    if (who === "setup") {
      session.put("a", 1);
      session.put("b", 2);
      return new Response(null);
    }
    perform(session, steps(ops.get(who)!, who));
    const { loaded, gate } = gates.get(who)!;
    loaded();
    await gate;
    return new Response(null);
  });
  return {
    dropped,
    /** Every stored session's values, by store key. */
    async stored(): Promise<Record<string, Values>> {
      const out: Record<string, Values> = {};
      for (const [key, bytes] of await store.all()) {
        out[key] = jsonCodec.decode(bytes).values as Values;
      }
      return out;
    },
    async start(): Promise<string> {
      const response = await handler(
        new Request("http://localhost/", { headers: { "x-who": "setup" } }),
      );
      return parseSetCookie(response.headers.get("set-cookie")!).value!;
    },
    hold(who: string, op: Op, token: string): Held {
      ops.set(who, op);
      let loaded!: () => void;
      let release!: () => void;
      const isLoaded = new Promise<void>((resolve) => (loaded = resolve));
      const gate = new Promise<void>((resolve) => (release = resolve));
      gates.set(who, { loaded, gate });
      const response = handler(
        new Request("http://localhost/", {
          headers: { "x-who": who, cookie: `session=${token}` },
        }),
      );
      return { loaded: isLoaded, release, response };
    },
    [Symbol.dispose]() {
      sessions[Symbol.dispose]();
      store[Symbol.dispose]();
    },
  };
}

function cookieOutcome(response: Response, token: string): CookieOutcome {
  const header = response.headers.get("set-cookie");
  if (header === null) return "none";
  const cookie = parseSetCookie(header);
  if (cookie.maxAge === 0) return "cleared";
  return cookie.value === token ? "same" : "new";
}

for (const [name, makeStore] of Object.entries(STORES)) {
  for (const idle of [false, true]) {
    Deno.test(
      `Overlapping requests over ${name}${
        idle ? ", with an idle timeout" : ""
      }: every pair of operations, in both orders`,
      async () => {
        for (const first of OPS) {
          for (const second of OPS) {
            for (const order of [["A", "B"], ["B", "A"]]) {
              const ops = { A: first, B: second };
              const label = `A ${first}, B ${second}, committed ${
                order.join(
                  " then ",
                )
              }`;
              const store = makeStore();
              // A store that says when a session expires throttles idle saves.
              const throttled = isVersionedStore(store);
              using app = setup(store, idle);
              const token = await app.start();
              const held: Record<string, Held> = {
                A: app.hold("A", first, token),
                B: app.hold("B", second, token),
              };
              await Promise.all([held.A!.loaded, held.B!.loaded]);
              const cookies: Record<string, CookieOutcome> = {};
              const tokens: Record<string, string> = {};
              for (const who of order) {
                held[who]!.release();
                const response = await held[who]!.response;
                assert.equal(response.status, 200, label);
                cookies[who] = cookieOutcome(response, token);
                const set = response.headers.get("set-cookie");
                if (set !== null) tokens[who] = parseSetCookie(set).value!;
              }
              const want = expected(ops, order, idle, throttled);
              assert.deepEqual(cookies, want.cookies, `${label}: cookies`);
              assert.deepEqual(
                app.dropped.map((d) => d.reason),
                want.dropped,
                `${label}: dropped`,
              );
              assert.deepEqual(
                await app.stored(),
                want.values === undefined ? {} : {
                  [want.under === "old" ? token : tokens[want.under!]!]:
                    want.values,
                },
                `${label}: stored`,
              );
            }
          }
        }
      },
    );
  }
}

Deno.test("Saves of one session over a store that pauses run in turn, so none is lost", async () => {
  for (const [first, second] of [["put-a", "put-c"], ["remove-b", "put-c"]]) {
    using app = setup(
      new TestStore({ capabilities: "plain", pause: "task" }),
      false,
    );
    const token = await app.start();
    const a = app.hold("A", first as Op, token);
    const b = app.hold("B", second as Op, token);
    await Promise.all([a.loaded, b.loaded]);
    // Both saves start together: each reads, merges and writes in turn.
    a.release();
    b.release();
    await Promise.all([a.response, b.response]);
    const want = expected(
      { A: first as Op, B: second as Op },
      ["A", "B"],
      false,
      false,
    );
    assert.deepEqual(await app.stored(), { [token]: want.values });
  }
});

Deno.test("100 overlapping requests of one session over a store that takes 0-3 ms a call all succeed and keep every key", async (t) => {
  for (
    const [capabilities, managers] of [
      ["plain", 1],
      ["versioned", 1],
      ["versioned", 2],
    ] as const
  ) {
    await t.step(`${capabilities}, ${managers} manager(s)`, async () => {
      using store = new TestStore({ capabilities, pause: "0-3 ms" });
      const all = Array.from(
        { length: managers },
        () => new SessionManager<Values>({ store, onDropped: () => {} }),
      );
      try {
        const handlers = all.map((sessions) =>
          sessions.loadAndSave((request, session) => {
            session.put(new URL(request.url).searchParams.get("k")!, 1);
            return new Response("ok");
          })
        );
        const first = await handlers[0]!(
          new Request("http://localhost/?k=start"),
        );
        const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
        const responses = await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            handlers[i % managers]!(
              new Request(`http://localhost/?k=k${i}`, { headers: { cookie } }),
            )),
        );
        const failed = responses.filter((r) => r.status !== 200);
        assert.equal(failed.length, 0, await failed[0]?.text());
        const session = await all[0]!.load(tokenOf(cookie)!);
        assert.equal(session.keys().length, 101, "every request's key kept");
      } finally {
        for (const sessions of all) sessions[Symbol.dispose]();
      }
    });
  }
});

Deno.test("Saves queued behind one that failed fail with it, without a store call of their own", async () => {
  using inner = new MemStore({ cleanupInterval: 0 });
  let commits = 0;
  let hang = false;
  const store = {
    find: (token: string) => inner.find(token),
    commit: (token: string, data: Uint8Array, expiry: Date) => {
      commits++;
      return hang
        ? new Promise<void>(() => {})
        : inner.commit(token, data, expiry);
    },
    delete: (token: string) => inner.delete(token),
  };
  using sessions = new SessionManager<Values>({
    store,
    storeTimeout: 50,
    onError: () => new Response("unavailable", { status: 503 }),
  });
  const handler = sessions.loadAndSave((request, session) => {
    session.put(new URL(request.url).searchParams.get("k")!, 1);
    return new Response("ok");
  });
  const first = await handler(new Request("http://localhost/?k=start"));
  const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
  hang = true;
  commits = 0;
  // The store's timers never keep the process alive: this one does.
  const alive = setInterval(() => {}, 1_000);
  const responses = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      handler(
        new Request(`http://localhost/?k=k${i}`, { headers: { cookie } }),
      )),
  );
  clearInterval(alive);
  assert.deepEqual(responses.map((r) => r.status), Array(10).fill(503));
  assert.equal(commits, 1, "one call timed out; the rest failed with it");
});

Deno.test("SessionManager.commit() drops the changes of a session destroyed meanwhile", async () => {
  const dropped: DroppedChanges[] = [];
  using sessions = new SessionManager<Values>({
    onDropped: (change) => dropped.push(change),
  });
  const session = await sessions.load("");
  session.put("a", 1);
  const { token } = await sessions.commit(session);
  const stale = await sessions.load(token);
  const ending = await sessions.load(token);
  ending.destroy();
  await sessions.commit(ending);
  stale.put("a", 2);
  assert.deepEqual(await sessions.commit(stale), {
    token: "",
    expiry: new Date(0),
  });
  assert.equal(stale.status, "destroyed");
  assert.deepEqual(dropped, [{ reason: "destroyed", request: undefined }]);
  assert.equal((await sessions.load(token)).get("a"), undefined);
});

Deno.test("SessionManager reports dropped changes with a warning by default", async () => {
  const warnings: unknown[][] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args);
  try {
    using app = setup(new MemStore({ cleanupInterval: 0 }), false, false);
    const token = await app.start();
    const a = app.hold("A", "put-a", token);
    const b = app.hold("B", "destroy", token);
    await Promise.all([a.loaded, b.loaded]);
    b.release();
    await b.response;
    a.release();
    assert.equal((await a.response).status, 200);
  } finally {
    console.warn = warn;
  }
  assert.equal(warnings.length, 1);
  assert.match(
    String(warnings[0]![0]),
    /^Dropped the session changes of GET http:\/\/localhost\/: the session was destroyed while it ran$/,
  );
});

Deno.test("SessionManager over a plain store remembers why its last 1,024 ended sessions ended, and no more", async () => {
  const dropped: DroppedChanges[] = [];
  using store = new TestStore({ capabilities: "plain" });
  using sessions = new SessionManager<Values>({
    store,
    onDropped: (change) => dropped.push(change),
  });
  /** A saved session, and a second copy of it loaded as a request would. */
  const pair = async () => {
    const session = await sessions.load("");
    session.put("a", 1);
    const { token } = await sessions.commit(session);
    return [session, await sessions.load(token)] as const;
  };
  for (const others of [1023, 1024]) {
    const [first, stale] = await pair();
    first.renewToken();
    await sessions.commit(first);
    for (let i = 0; i < others; i++) {
      const [session] = await pair();
      session.destroy();
      await sessions.commit(session);
    }
    stale.put("a", 2);
    await sessions.commit(stale);
  }
  assert.deepEqual(dropped.map((d) => d.reason), ["renewed", "expired"]);
});

/** A handler whose requests do what `x-do` says, then wait for `gates`. */
function held(
  sessions: SessionManager<Values>,
  gates: Map<string, Promise<void>>,
) {
  return sessions.loadAndSave(async (request, session) => {
    const what = request.headers.get("x-do");
    if (what === "login") {
      session.renewToken();
      session.put("user", "ada");
    } else if (what === "logout") {
      session.destroy();
    } else if (what === "edit") {
      const list = session.get("list") as unknown as number[];
      list.push(99); // in place, without put()
      session.put("note", "edited");
    } else if (what === "setup") {
      session.put("list", [1] as unknown as string);
    }
    await gates.get(what ?? "");
    return new Response(null);
  });
}

function request(what: string, cookie?: string): Request {
  const headers = new Headers({ "x-do": what });
  if (cookie !== undefined) headers.set("cookie", cookie);
  return new Request("http://localhost/", { headers });
}

Deno.test("A sign-out that overlapped a sign-in ends the signed-in session too, in any process", async () => {
  const stores = {
    "a MemStore": () => new MemStore({ cleanupInterval: 0 }),
    "a versioned store": () =>
      new TestStore({ capabilities: "versioned", pause: "microtask" }),
  };
  for (const [name, makeStore] of Object.entries(stores)) {
    using store = makeStore();
    // Two managers over one store: two processes of one deployment.
    using one = new SessionManager<Values>({ store });
    using other = new SessionManager<Values>({ store });
    const gates = new Map<string, Promise<void>>();
    const start = await held(one, gates)(request("setup"));
    const cookie = start.headers.get("set-cookie")!.split(";")[0]!;
    const logoutGate = Promise.withResolvers<void>();
    gates.set("logout", logoutGate.promise);
    const logout = held(other, gates)(request("logout", cookie));
    await new Promise((resolve) => setTimeout(resolve, 0)); // it has loaded
    const login = await held(one, gates)(request("login", cookie));
    const signedIn = login.headers.get("set-cookie")!.split(";")[0]!;
    assert.equal((await one.load(tokenOf(signedIn)!)).get("user"), "ada");
    logoutGate.resolve();
    const out = await logout;
    assert.match(out.headers.get("set-cookie")!, /^session=; Max-Age=0/);
    for (const sessions of [one, other]) {
      const after = await sessions.load(tokenOf(signedIn)!);
      assert.equal(after.get("user"), undefined, `${name}: signed out`);
    }
  }
});

Deno.test("A request that changed nothing, overlapping a sign-in, sets no cookie", async () => {
  using store = new MemStore({ cleanupInterval: 0 });
  const dropped: DroppedChanges[] = [];
  using sessions = new SessionManager<Values>({
    store,
    idleTimeout: 60_000, // so the idle request saves, to push its expiry back
    onDropped: (change) => dropped.push(change),
  });
  const gates = new Map<string, Promise<void>>();
  const handler = held(sessions, gates);
  const start = await handler(request("setup"));
  const cookie = start.headers.get("set-cookie")!.split(";")[0]!;
  const idleGate = Promise.withResolvers<void>();
  gates.set("read", idleGate.promise);
  const idle = handler(request("read", cookie));
  await new Promise((resolve) => setTimeout(resolve, 0));
  const login = await handler(request("login", cookie));
  assert.match(login.headers.get("set-cookie")!, /^session=[^;]{43};/);
  idleGate.resolve();
  const late = await idle;
  assert.equal(
    late.headers.get("set-cookie"),
    null,
    "no cookie to undo the sign-in",
  );
  assert.deepEqual(dropped, [], "nothing was dropped");
});

Deno.test("An object changed in place without put() is never saved, alone or overlapping", async () => {
  for (const overlap of [false, true]) {
    using store = new MemStore({ cleanupInterval: 0 });
    using sessions = new SessionManager<Values>({ store });
    const gates = new Map<string, Promise<void>>();
    const handler = held(sessions, gates);
    const start = await handler(request("setup"));
    const cookie = start.headers.get("set-cookie")!.split(";")[0]!;
    const editGate = Promise.withResolvers<void>();
    gates.set("edit", editGate.promise);
    const edit = handler(request("edit", cookie));
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (overlap) {
      const other = await sessions.load(tokenOf(cookie)!);
      other.put("other", "saved meanwhile");
      await sessions.commit(other);
    }
    editGate.resolve();
    await edit;
    const after = await sessions.load(tokenOf(cookie)!);
    const label = overlap ? "overlapping" : "alone";
    assert.deepEqual(after.get("list"), [1], `${label}: the list as put`);
    assert.equal(after.get("note"), "edited", `${label}: the put was saved`);
  }
});
