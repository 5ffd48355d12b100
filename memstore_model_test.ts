import assert from "node:assert/strict";
import { fakeTime, fc } from "./_test_helpers.ts";
import { MemStore } from "./memstore.ts";

type ModelOp =
  | { op: "commit"; token: string; byte: number; ttl: number }
  | { op: "find" | "delete"; token: string }
  | { op: "all" }
  | { op: "tick"; ms: number }
  // Commits (or, with ttl null, deletes) tokens t<from> to t<from + count - 1>.
  | { op: "range"; from: number; count: number; ttl: number | null };

/** Random operations on `names`, checked against a Map of plain data. */
async function checkModel(names: string[], ranges: boolean): Promise<void> {
  type Op = ModelOp;
  const token = fc.constantFrom(...names);
  const range: fc.Arbitrary<Op> = fc.record({
    op: fc.constant("range" as const),
    from: fc.nat({ max: names.length - 1 }),
    count: fc.integer({ min: 1, max: names.length }),
    ttl: fc.constantFrom(null, 50, 100, 150),
  });
  const op: fc.Arbitrary<Op> = fc.oneof(
    ...(ranges ? [range, range] : []),
    fc.record({
      op: fc.constant("commit" as const),
      token,
      byte: fc.integer({ min: 0, max: 255 }),
      // Few distinct times, so that boundaries (now == expiry) come up often.
      ttl: fc.constantFrom(-1, 0, 1, 50, 100, 150),
    }),
    fc.record({
      op: fc.constantFrom("find" as const, "delete" as const),
      token,
    }),
    fc.record({ op: fc.constant("all" as const) }),
    fc.record({
      op: fc.constant("tick" as const),
      ms: fc.constantFrom(0, 1, 49, 50, 100),
    }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
      const byte = (t: string) => t.length;
      using clock = fakeTime();
      using store = new MemStore({ cleanupInterval: 100 });
      const model = new Map<string, { byte: number; expiry: number }>();
      const live = (t: string) => {
        const item = model.get(t);
        return item !== undefined && Date.now() < item.expiry
          ? item.byte
          : undefined;
      };
      for (const step of ops) {
        switch (step.op) {
          case "commit": {
            const expiry = Date.now() + step.ttl;
            await store.commit(
              step.token,
              new Uint8Array([step.byte]),
              new Date(expiry),
            );
            if (expiry <= Date.now()) model.delete(step.token);
            else model.set(step.token, { byte: step.byte, expiry });
            break;
          }
          case "find":
            assert.equal((await store.find(step.token))?.[0], live(step.token));
            break;
          case "delete":
            await store.delete(step.token);
            model.delete(step.token);
            break;
          case "all": {
            const all = [...(await store.all())].map(([t, d]) => [t, d[0]])
              .sort();
            const expected = [...model.keys()].filter((t) =>
              live(t) !== undefined
            ).map((t) => [t, live(t)]).sort();
            assert.deepEqual(all, expected);
            break;
          }
          case "tick":
            clock.tick(step.ms);
            break;
          case "range":
            for (let i = step.from; i < step.from + step.count; i++) {
              const t = `t${i % names.length}`;
              if (step.ttl === null) {
                await store.delete(t);
                model.delete(t);
              } else {
                const expiry = Date.now() + step.ttl;
                const data = new Uint8Array(t.length).fill(byte(t));
                await store.commit(t, data.subarray(0, 1), new Date(expiry));
                model.set(t, { byte: byte(t), expiry });
              }
            }
            break;
        }
        assert.ok(
          store.size >=
            [...model.keys()].filter((t) => live(t) !== undefined).length,
        );
        // Each session: 1 data byte + its token's length. The store may still
        // hold expired ones, and no session the model has forgotten.
        let liveBytes = 0, heldBytes = 0;
        for (const t of model.keys()) {
          heldBytes += 1 + t.length;
          if (live(t) !== undefined) liveBytes += 1 + t.length;
        }
        assert.ok(liveBytes <= store.bytes && store.bytes <= heldBytes);
      }
    }),
    { numRuns: ranges ? 100 : 300 },
  );
}

Deno.test("MemStore matches a trivially correct model under random operations", () =>
  checkModel(["a", "b", "c", "d"], false));

Deno.test("MemStore matches the model while its arrays grow and shrink", () =>
  checkModel(Array.from({ length: 300 }, (_, i) => `t${i}`), true));
