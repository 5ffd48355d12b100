import assert from "node:assert/strict";
import { fc } from "./_test_helpers.ts";
import { SlotHeap } from "./_heap.ts";

/** Pops every slot, smallest key first; returns the keys. */
function drain(heap: SlotHeap): number[] {
  const keys: number[] = [];
  for (let slot = heap.peek(); slot >= 0; slot = heap.peek()) {
    keys.push(heap.peekKey());
    heap.remove(slot);
  }
  return keys;
}

Deno.test("SlotHeap gives slots back smallest key first", () => {
  const heap = new SlotHeap(8);
  [5, 3, 9, 1, 7, 3].forEach((key, slot) => heap.push(slot, key));
  assert.equal(heap.size, 6);
  assert.equal(heap.peek(), 3);
  assert.equal(heap.keyOf(2), 9);
  assert.deepEqual(drain(heap), [1, 3, 3, 5, 7, 9]);
  assert.equal(heap.peek(), -1);
  assert.equal(heap.peekKey(), Infinity);
});

Deno.test("SlotHeap.remove(), rekey(), rename() and resize() keep the order", () => {
  const heap = new SlotHeap(8);
  [4, 8, 2, 6, 10].forEach((key, slot) => heap.push(slot, key));
  heap.remove(2); // key 2
  heap.rekey(4, 1); // 10 -> 1
  heap.rekey(0, 9); // 4 -> 9
  heap.rename(4, 2); // slot 4 is now slot 2
  assert.equal(heap.peek(), 2);
  heap.resize(4);
  assert.equal(heap.keyOf(0), 9);
  assert.deepEqual(drain(heap), [1, 6, 8, 9]);
});

Deno.test("SlotHeap matches a plain list under random operations", () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant("push" as const), key: fc.integer() }),
    fc.record({ kind: fc.constant("pop" as const) }),
    fc.record({ kind: fc.constant("remove" as const), at: fc.nat() }),
    fc.record({ kind: fc.constant("rename" as const), at: fc.nat() }),
    fc.record({
      kind: fc.constant("rekey" as const),
      at: fc.nat(),
      key: fc.integer(),
    }),
  );
  fc.assert(fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
    const capacity = 256;
    const heap = new SlotHeap(capacity);
    const held = new Map<number, number>(); // slot -> key
    const free = () => {
      let slot = 0;
      while (held.has(slot)) slot++;
      return slot;
    };
    for (const o of ops) {
      const slots = [...held.keys()];
      if (o.kind === "push") {
        const slot = free();
        heap.push(slot, o.key);
        held.set(slot, o.key);
      } else if (o.kind === "pop") {
        const min = Math.min(...held.values());
        const top = heap.peek();
        if (held.size === 0) {
          assert.equal(top, -1);
        } else {
          assert.equal(heap.peekKey(), min);
          assert.equal(held.get(top), min);
          heap.remove(top);
          held.delete(top);
        }
      } else if (slots.length > 0) {
        const slot = slots[o.at % slots.length]!;
        if (o.kind === "remove") {
          heap.remove(slot);
          held.delete(slot);
        } else if (o.kind === "rename") {
          const to = free();
          heap.rename(slot, to);
          held.set(to, held.get(slot)!);
          held.delete(slot);
        } else {
          heap.rekey(slot, o.key);
          held.set(slot, o.key);
        }
      }
      assert.equal(heap.size, held.size);
      for (const [slot, key] of held) assert.equal(heap.keyOf(slot), key);
    }
    assert.deepEqual(drain(heap), [...held.values()].sort((a, b) => a - b));
  }));
});
