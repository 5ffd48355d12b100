// The model test: random batches of overlapping requests of one or two
// browsers, and time passing, against a model of the rules in plain data.
import assert from "node:assert/strict";
import {
  fakeTime,
  fc,
  type Key,
  parseSetCookie,
  perform,
  type Step,
  TestStore,
} from "./_test_helpers.ts";
import { jsonCodec } from "./codec.ts";
import { MemStore } from "./memstore.ts";
import { SessionManager } from "./manager.ts";
import { isVersionedStore, type IterableStore } from "./store.ts";

type Values = Record<string, string | number>;

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
  /** The stored expiry when loaded. */
  loadedExpiry: number | undefined;
  values: Map<string, number | string>;
  changes: Map<string, number | string | null>;
  deadline: number;
  status: "unmodified" | "modified" | "destroyed";
  /** The values differ from those loaded: a save has something to write. */
  dirty: boolean;
  ended: boolean;
  renewed: boolean;
  answers: unknown[];
}

/** Sessions by model id; a browser's cookie is an id. */
class Model {
  sessions = new Map<number, Stored>();
  /** Where each renewed session went, until it would have expired. */
  renewedTo = new Map<number, { to: number; until: number }>();
  jars: (number | undefined)[] = [undefined, undefined];
  #next = 0;
  /**
   * @param idle The idle timeout.
   * @param throttle Whether the store says when a session expires, so an
   * idle request saves only when it moves the expiry by a tenth of `idle`.
   */
  constructor(readonly idle: number, readonly throttle: boolean) {}

  #live(id: number | undefined, now: number): Stored | undefined {
    const stored = id === undefined ? undefined : this.sessions.get(id);
    return stored !== undefined && stored.expiry > now ? stored : undefined;
  }

  load(browser: number, steps: Step[], now: number): Run {
    const id = this.jars[browser];
    const stored = this.#live(id, now);
    const run: Run = {
      origin: stored === undefined ? undefined : id,
      loadedExpiry: stored?.expiry,
      values: new Map(stored?.values),
      changes: new Map(),
      deadline: stored?.deadline ?? now + LIFETIME,
      status: "unmodified",
      dirty: false,
      ended: false,
      renewed: false,
      answers: [],
    };
    for (const step of steps) {
      const { values, changes } = run;
      switch (step.op) {
        case "put":
          if (values.get(step.key) !== step.value) run.dirty = true;
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
            run.dirty = true;
          }
          break;
        case "clear":
          if (values.size > 0) {
            for (const k of values.keys()) changes.set(k, null);
            values.clear();
            run.status = "modified";
            run.dirty = true;
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

  /**
   * Commits a request; gives the cookie it sets: none, cleared, or an id.
   * A destroy ends the session its request loaded, or the one that was
   * renewed from it meanwhile; a request whose session ended elsewhere
   * changes nothing and sets no cookie; a session written where it was
   * sets the cookie only when its expiry moved.
   */
  commit(browser: number, run: Run, now: number): "none" | "cleared" | number {
    let touch = run.origin !== undefined && !run.ended && this.idle > 0;
    if (touch && this.throttle && run.loadedExpiry !== undefined) {
      const moved = Math.min(run.deadline, now + this.idle) - run.loadedExpiry;
      touch = moved >= 0.1 * this.idle;
    }
    if (run.status === "unmodified" && !touch) return "none";
    // Nothing to write, relative to what it loaded: no store call, no cookie.
    const loaded = run.origin !== undefined && !run.ended && !run.renewed;
    if (loaded && !run.dirty && !touch) return "none";
    let values = run.values;
    const deadline = run.deadline;
    let renewedFrom: { id: number; until: number } | undefined;
    if (run.ended || run.origin === undefined) {
      if (run.origin !== undefined) {
        this.sessions.delete(this.#now(run.origin, now));
      }
      if (run.status === "destroyed") return this.#jar(browser, "cleared");
    } else {
      const stored = this.#live(run.origin, now);
      if (stored === undefined) return "none"; // dropped
      values = new Map(stored.values);
      for (const [k, v] of run.changes) {
        if (v === null) values.delete(k);
        else values.set(k, v);
      }
      if (!run.renewed) {
        // Written over the session as stored now: its expiry moves (and the
        // cookie is sent) only when it must, else it stays as stored.
        const expiry = this.idle > 0
          ? Math.min(stored.deadline, now + this.idle)
          : stored.deadline;
        const moved = expiry - stored.expiry;
        const moves = this.idle === 0
          ? moved !== 0
          : !this.throttle || moved < 0 || moved >= 0.1 * this.idle;
        this.sessions.set(run.origin, {
          values,
          deadline: stored.deadline,
          expiry: moves ? expiry : stored.expiry,
        });
        return moves ? this.#jar(browser, run.origin) : "none";
      }
      this.sessions.delete(run.origin);
      renewedFrom = { id: run.origin, until: stored.expiry };
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
    if (renewedFrom !== undefined) {
      this.renewedTo.set(renewedFrom.id, { to: id, until: renewedFrom.until });
    }
    this.sessions.set(id, { values, deadline, expiry });
    return this.#jar(browser, id);
  }

  /** The session `id` is now: itself, or where live renewals took it. */
  #now(id: number, now: number): number {
    for (let next = this.renewedTo.get(id); next !== undefined;) {
      if (this.sessions.has(id) || next.until <= now) break;
      id = next.to;
      next = this.renewedTo.get(id);
    }
    return id;
  }

  #jar(browser: number, cookie: "cleared" | number): "cleared" | number {
    this.jars[browser] = cookie === "cleared" ? undefined : cookie;
    return cookie;
  }
}

/** Runs `commands` against a manager and the model, comparing every answer, cookie and stored session. */
async function check(
  commands: Command[],
  store: IterableStore & Disposable,
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
  const model = new Model(idle, isVersionedStore(store));
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
    ["a MemStore", () => new MemStore({ cleanupInterval: 0 })],
    [
      "a versioned store that yields on every operation",
      () => new TestStore({ capabilities: "versioned", pause: "microtask" }),
    ],
    [
      "a plain store that yields on every operation",
      () => new TestStore({ capabilities: "plain", pause: "microtask" }),
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
      for (const capabilities of ["versioned", "plain"] as const) {
        await check(
          commands,
          new TestStore({ capabilities, pause: "microtask" }),
          idle,
        );
      }
      await check(commands, new MemStore({ cleanupInterval: 0 }), idle);
    });
  }
});
