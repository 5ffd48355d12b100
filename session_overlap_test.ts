// Overlapping requests of one session: each request's changes are merged key
// by key onto the session as stored, and a session that ended while a
// request ran is never brought back by it.
import assert from "node:assert/strict";
import { parseSetCookie } from "cookie";
import fc from "fast-check";
import { fakeTime } from "./_fake_time.ts";
import { jsonCodec } from "./codec.ts";
import { MemStore } from "./memstore.ts";
import {
  type DroppedChanges,
  type DropReason,
  type Session,
  SessionManager,
} from "./session.ts";
import type { IterableStore } from "./store.ts";

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
 * wins a key); destroy deletes it; renew moves it to a new token; a request
 * whose session is gone by its commit changes nothing and clears the cookie.
 */
function expected(
  ops: Record<string, Op>,
  order: string[],
  idle: boolean,
): Outcome {
  let values: Values | undefined = { a: 1, b: 2 };
  let under: string | undefined = "old";
  let ended: DropReason | undefined;
  const cookies: Record<string, CookieOutcome> = {};
  const dropped: DropReason[] = [];
  for (const who of order) {
    const op = ops[who]!;
    if (op === "destroy") {
      if (under === "old") {
        [values, under, ended] = [undefined, undefined, "destroyed"];
      }
      cookies[who] = "cleared";
      continue;
    }
    if (op === "read" && !idle) {
      cookies[who] = "none";
      continue;
    }
    if (under !== "old") {
      dropped.push(ended!);
      cookies[who] = "cleared";
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
      cookies[who] = "same";
    }
  }
  return { values, under, cookies, dropped };
}

/** A MemStore whose every operation waits for other tasks to run first. */
class SlowStore extends MemStore {
  override async find(token: string) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    return super.find(token);
  }
  override async commit(token: string, data: Uint8Array, expiry: Date) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    return super.commit(token, data, expiry);
  }
  override async delete(token: string) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    return super.delete(token);
  }
}

const STORES = {
  "a plain MemStore": () => new MemStore({ cleanupInterval: 0 }),
  "a store that pauses on every operation": () =>
    new SlowStore({ cleanupInterval: 0 }),
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
              using app = setup(makeStore(), idle);
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
              const want = expected(ops, order, idle);
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
    using app = setup(new SlowStore({ cleanupInterval: 0 }), false);
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
    );
    assert.deepEqual(await app.stored(), { [token]: want.values });
  }
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

// The model test: random batches of overlapping requests of one browser,
// and time passing, against a model of the rules in plain data.

type Key = "a" | "b" | "c";
type Step =
  | { op: "put"; key: Key; value: number | string }
  | { op: "get" | "pop" | "remove"; key: Key }
  | { op: "clear" | "destroy" | "renew" };
type Command =
  | { kind: "tick"; ms: number }
  | {
    kind: "batch";
    browser: 0 | 1;
    /** Requests that all load before any commits, with their commit rank. */
    requests: { steps: Step[]; rank: number }[];
    /** Milliseconds between the loads and the commits. */
    pause: number;
  };

const key = fc.constantFrom<Key>("a", "b"); // "c" is for the pair test
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant("put" as const), key, value: fc.nat(3) }),
  fc.record({
    op: fc.constantFrom("get" as const, "pop" as const, "remove" as const),
    key,
  }),
  fc.record({
    op: fc.constantFrom("clear" as const, "destroy" as const, "renew" as const),
  }),
);
const times = fc.constantFrom(0, 1, 20_000, 29_999, 30_000, 60_000);
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant("tick" as const), ms: times }),
  fc.record({
    kind: fc.constant("batch" as const),
    browser: fc.constantFrom<0 | 1>(0, 1),
    requests: fc.array(
      fc.record({ steps: fc.array(step, { maxLength: 4 }), rank: fc.nat(3) }),
      { minLength: 1, maxLength: 3 },
    ),
    pause: fc.constantFrom(0, 0, 1, 30_000),
  }),
);

const LIFETIME = 100_000;

interface Stored {
  values: Map<string, number | string>;
  deadline: number;
  expiry: number;
}

/** What a request did to its session, as the model tracks it. */
interface Run {
  origin: number | undefined;
  values: Map<string, number | string>;
  changes: Map<string, number | string | null>;
  deadline: number;
  status: "unmodified" | "modified" | "destroyed";
  ended: boolean;
  renewed: boolean;
  answers: unknown[];
}

/** Sessions by model id; a browser's cookie is an id. */
class Model {
  sessions = new Map<number, Stored>();
  jars: (number | undefined)[] = [undefined, undefined];
  #next = 0;
  constructor(readonly idle: number) {}

  #live(id: number | undefined, now: number): Stored | undefined {
    const stored = id === undefined ? undefined : this.sessions.get(id);
    return stored !== undefined && stored.expiry > now ? stored : undefined;
  }

  load(browser: number, steps: Step[], now: number): Run {
    const id = this.jars[browser];
    const stored = this.#live(id, now);
    const run: Run = {
      origin: stored === undefined ? undefined : id,
      values: new Map(stored?.values),
      changes: new Map(),
      deadline: stored?.deadline ?? now + LIFETIME,
      status: "unmodified",
      ended: false,
      renewed: false,
      answers: [],
    };
    for (const step of steps) {
      const { values, changes } = run;
      switch (step.op) {
        case "put":
          values.set(step.key, step.value);
          changes.set(step.key, step.value);
          run.status = "modified";
          break;
        case "get":
          run.answers.push(values.get(step.key) ?? null);
          break;
        case "pop":
          run.answers.push(values.get(step.key) ?? null);
        // falls through
        case "remove":
          if (values.has(step.key)) {
            values.delete(step.key);
            changes.set(step.key, null);
            run.status = "modified";
          }
          break;
        case "clear":
          if (values.size > 0) {
            for (const k of values.keys()) changes.set(k, null);
            values.clear();
            run.status = "modified";
          }
          break;
        case "destroy":
          values.clear();
          changes.clear();
          run.ended = run.renewed = true;
          run.deadline = now + LIFETIME;
          run.status = "destroyed";
          break;
        case "renew":
          run.renewed = true;
          run.deadline = now + LIFETIME;
          run.status = "modified";
          break;
      }
    }
    run.answers.push([...run.values].sort());
    return run;
  }

  /** Commits a request; gives the cookie it sets: none, cleared, or an id. */
  commit(browser: number, run: Run, now: number): "none" | "cleared" | number {
    const touch = run.origin !== undefined && !run.ended && this.idle > 0;
    if (run.status === "unmodified" && !touch) return "none";
    let values = run.values;
    let deadline = run.deadline;
    if (run.ended || run.origin === undefined) {
      if (run.origin !== undefined) this.sessions.delete(run.origin);
      if (run.status === "destroyed") return this.#jar(browser, "cleared");
    } else {
      const stored = this.#live(run.origin, now);
      if (stored === undefined) return this.#jar(browser, "cleared"); // dropped
      values = new Map(stored.values);
      for (const [k, v] of run.changes) {
        if (v === null) values.delete(k);
        else values.set(k, v);
      }
      if (!run.renewed) deadline = stored.deadline;
      else this.sessions.delete(run.origin);
    }
    const id = run.renewed || run.origin === undefined
      ? this.#next++
      : run.origin;
    const expiry = this.idle > 0
      ? Math.min(deadline, now + this.idle)
      : deadline;
    if (expiry <= now) {
      this.sessions.delete(id);
      return this.#jar(browser, "cleared");
    }
    this.sessions.set(id, { values, deadline, expiry });
    return this.#jar(browser, id);
  }

  #jar(browser: number, cookie: "cleared" | number): "cleared" | number {
    this.jars[browser] = cookie === "cleared" ? undefined : cookie;
    return cookie;
  }
}

/** A MemStore that yields to other promises on every operation (fake time can't run timers for it). */
class YieldingStore extends MemStore {
  override async find(token: string) {
    await Promise.resolve();
    return super.find(token);
  }
  override async commit(token: string, data: Uint8Array, expiry: Date) {
    await Promise.resolve();
    return super.commit(token, data, expiry);
  }
  override async delete(token: string) {
    await Promise.resolve();
    return super.delete(token);
  }
}

function perform(session: Session<Values>, steps: Step[]): unknown[] {
  const answers: unknown[] = [];
  for (const step of steps) {
    switch (step.op) {
      case "put":
        session.put(step.key, step.value);
        break;
      case "get":
        answers.push(session.get(step.key) ?? null);
        break;
      case "pop":
        answers.push(session.pop(step.key) ?? null);
        break;
      case "remove":
        session.remove(step.key);
        break;
      case "clear":
        session.clear();
        break;
      case "destroy":
        session.destroy();
        break;
      case "renew":
        session.renewToken();
        break;
    }
  }
  answers.push(session.keys().map((k) => [k, session.get(k)]));
  return answers;
}

/** Runs `commands` against a manager and the model, comparing every answer, cookie and stored session. */
async function check(
  commands: Command[],
  store: MemStore,
  idle: number,
): Promise<void> {
  using clock = fakeTime();
  using _store = store;
  using sessions = new SessionManager<Values>({
    store,
    lifetime: LIFETIME,
    idleTimeout: idle,
    onDropped: () => {},
  });
  const model = new Model(idle);
  const jars: (string | undefined)[] = [undefined, undefined];
  const tokens = new Map<number, string>();
  const gates: Promise<void>[] = [];
  const loaded: (() => void)[] = [];
  const handler = sessions.loadAndSave(async (request, session) => {
    const index = Number(request.headers.get("x-request"));
    const answers = perform(
      session,
      JSON.parse(request.headers.get("x-steps")!),
    );
    loaded[index]!();
    await gates[index];
    return Response.json(answers);
  });
  for (const [at, command] of commands.entries()) {
    if (command.kind === "tick") {
      clock.tick(command.ms);
      continue;
    }
    const { browser, requests, pause } = command;
    const now = Date.now();
    const releases: (() => void)[] = [];
    const loads: Promise<void>[] = [];
    const started = requests.map(({ steps }, i) => {
      gates[i] = new Promise((resolve) => releases[i] = resolve);
      loads[i] = new Promise((resolve) => loaded[i] = resolve);
      const headers = new Headers({
        "x-request": String(i),
        "x-steps": JSON.stringify(steps),
      });
      const jar = jars[browser];
      if (jar !== undefined) headers.set("cookie", `session=${jar}`);
      return {
        response: handler(new Request("http://localhost/", { headers })),
        run: model.load(browser, steps, now),
      };
    });
    await Promise.all(loads);
    clock.tick(pause);
    const order = requests.map((_, i) => i).sort((x, y) =>
      requests[x]!.rank - requests[y]!.rank
    );
    for (const i of order) {
      const label = `command ${at}, request ${i}`;
      releases[i]!();
      const response = await started[i]!.response;
      const want = model.commit(browser, started[i]!.run, Date.now());
      assert.deepEqual(await response.json(), started[i]!.run.answers, label);
      const header = response.headers.get("set-cookie");
      const cookie = header === null ? undefined : parseSetCookie(header);
      if (want === "none") assert.equal(cookie, undefined, label);
      else if (want === "cleared") {
        assert.equal(cookie?.maxAge, 0, label);
        jars[browser] = undefined;
      } else {
        assert.ok(cookie !== undefined && cookie.maxAge! > 0, label);
        const token = tokens.get(want);
        if (token === undefined) {
          assert.ok(
            ![...tokens.values()].includes(cookie.value!),
            `${label}: a new token`,
          );
          tokens.set(want, cookie.value!);
        } else {
          assert.equal(cookie.value, token, label);
        }
        jars[browser] = cookie.value;
      }
    }
    const stored: Record<string, unknown> = {};
    for (const [token, bytes] of await store.all()) {
      const data = jsonCodec.decode(bytes);
      stored[token] = [
        Object.entries(data.values).sort(),
        data.deadline.getTime(),
      ];
    }
    const modelled: Record<string, unknown> = {};
    for (const [id, session] of model.sessions) {
      if (session.expiry > Date.now()) {
        modelled[tokens.get(id)!] = [
          [...session.values].sort(),
          session.deadline,
        ];
      }
    }
    assert.deepEqual(stored, modelled, `command ${at}: stored sessions`);
  }
}

for (
  const [name, makeStore] of [
    ["a plain MemStore", () => new MemStore({ cleanupInterval: 0 })],
    [
      "a store that yields on every operation",
      () => new YieldingStore({ cleanupInterval: 0 }),
    ],
  ] as const
) {
  for (const idle of [0, 30_000]) {
    Deno.test(
      `SessionManager over ${name}${
        idle > 0 ? " with an idle timeout" : ""
      } follows the model across overlapping requests`,
      async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.array(command, { maxLength: 25 }),
            (commands) => check(commands, makeStore(), idle),
          ),
          { numRuns: 150 },
        );
      },
    );
  }
}

Deno.test("SessionManager follows the model in the counterexamples fast-check shrank planted faults to", async (t) => {
  const put = (key: Key, value: number): Step => ({ op: "put", key, value });
  const batch = (
    requests: [Step[], number][],
    pause = 0,
  ): Command => ({
    kind: "batch",
    browser: 0,
    requests: requests.map(([steps, rank]) => ({ steps, rank })),
    pause,
  });
  const cases: [string, Command[], number][] = [
    [
      "a clear committed after a destroy does not bring the session back",
      [
        batch([[[put("a", 0)], 0]]),
        batch([[[{ op: "clear" }], 1], [[{ op: "destroy" }], 0]]),
      ],
      0,
    ],
    [
      "an idle request that outlives the idle timeout does not save",
      [batch([[[put("a", 0)], 0]]), batch([[[], 0]], 30_000)],
      30_000,
    ],
    [
      "two puts of one key: the later commit wins",
      [batch([[[put("a", 0)], 0]]), batch([[[put("a", 1)], 0], [[], 0]])],
      0,
    ],
    [
      "a clear committed after a put keeps the put's new key",
      [
        batch([[[put("b", 0)], 0], [[], 0]]),
        batch([[[{ op: "clear" }], 1], [[put("a", 0)], 0], [[], 0]]),
      ],
      0,
    ],
  ];
  for (const [name, commands, idle] of cases) {
    await t.step(name, async () => {
      await check(commands, new MemStore({ cleanupInterval: 0 }), idle);
      await check(commands, new YieldingStore({ cleanupInterval: 0 }), idle);
    });
  }
});

Deno.test("SessionManager remembers why its last 1,024 ended sessions ended, and no more", async () => {
  const dropped: DroppedChanges[] = [];
  using sessions = new SessionManager<Values>({
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
