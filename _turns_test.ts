import assert from "node:assert/strict";
import { Turns } from "./_turns.ts";

Deno.test("Turns runs work of one key in turn, and work of other keys alongside", async () => {
  const turns = new Turns();
  const order: string[] = [];
  const slow = Promise.withResolvers<void>();
  const first = turns.run(["a"], async () => {
    await slow.promise;
    order.push("a1");
  });
  const other = turns.run(["b"], () => order.push("b"));
  const second = turns.run(["a"], (behind) => {
    order.push(`a2 waited=${behind.waited}`);
  });
  assert.equal(other, 1, "nothing queued on b: it ran now, without a promise");
  slow.resolve();
  await Promise.all([first, second]);
  assert.deepEqual(order, ["b", "a1", "a2 waited=true"]);
});

Deno.test("Turns tells work queued behind a failure about it, and runs it", async () => {
  const turns = new Turns();
  const failing = turns.run(
    ["a", "b"],
    () => Promise.reject(new Error("down")),
  );
  const behind = turns.run(["b"], (b) => b);
  await assert.rejects(failing, /down/);
  const seen = await behind;
  assert.equal(seen.waited, true);
  assert.equal(seen.failed, true);
  assert.equal((seen.error as Error).message, "down");
  assert.deepEqual(turns.run(["a"], (b) => b), {
    waited: false,
    failed: false,
  });
});
