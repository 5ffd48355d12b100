import assert from "node:assert/strict";
import {
  app,
  client,
  fakeTime,
  fc,
  perform,
  type Step,
  TestStore,
  tokenOf,
  url,
  type Values,
} from "./_test_helpers.ts";
import { jsonCodec } from "./codec.ts";
import { SessionManager } from "./manager.ts";
import { MemStore } from "./memstore.ts";
import type { Session } from "./session.ts";
import type { IterableStore } from "./store.ts";

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

Deno.test("SessionManager gives the same answers over an in-memory, a versioned and a plain store", async () => {
  type Value = string | number | boolean | null | { n: number };
  type Op = Step<Value> | { op: "tick"; ms: number };
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
        fc.record({ n: fc.integer() }, { noNullPrototype: true }),
      ),
    }),
    fc.record({ op: fc.constantFrom("touch" as const), key }),
    fc.record({ op: fc.constantFrom("remove" as const, "pop" as const), key }),
    fc.record({ op: fc.constant("get" as const), key }),
    fc.record({
      op: fc.constantFrom(
        "clear" as const,
        "destroy" as const,
        "renew" as const,
        "remember" as const,
      ),
    }),
    fc.record({
      op: fc.constant("tick" as const),
      ms: fc.integer({ min: 0, max: 40_000 }),
    }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 30 }), async (steps) => {
      using clock = fakeTime();
      using memory = new MemStore({ cleanupInterval: 0 });
      using versioned = new TestStore({
        capabilities: "versioned",
        pause: "microtask",
      });
      using plain = new TestStore({
        capabilities: "plain",
        pause: "microtask",
      });
      const options = {
        idleTimeout: 30_000,
        touchAfter: 0, // a plain store cannot be throttled: compare alike
        lifetime: 100_000,
        cookie: { persist: false },
      };
      const managers = [memory, versioned, plain].map((store) =>
        new SessionManager({ store, ...options })
      );
      let current: Step<Value> = { op: "get", key: "a" };
      const app: (
        request: Request,
        session: Session<Record<string, unknown>>,
      ) => Response = (_request, session) =>
        new Response(JSON.stringify(perform(session, [current])));
      const browsers = managers.map((manager) =>
        client(manager.loadAndSave(app))
      );
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
        assert.deepEqual(answers[1], answers[0], "versioned");
        assert.deepEqual(answers[2], answers[0], "plain");
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
