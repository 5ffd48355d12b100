import assert from "node:assert/strict";
import fc from "fast-check";
import { type HeapItem, MinHeap } from "./_heap.ts";

const item = (key: number): HeapItem => ({ key, index: -1 });

function drain(heap: MinHeap<HeapItem>): number[] {
  const keys: number[] = [];
  for (let top = heap.pop(); top !== undefined; top = heap.pop()) {
    keys.push(top.key);
  }
  return keys;
}

Deno.test("MinHeap.pop() returns items smallest key first", () => {
  const heap = new MinHeap<HeapItem>();
  for (const key of [5, 3, 9, 1, 7, 3]) heap.push(item(key));
  assert.equal(heap.size, 6);
  assert.equal(heap.peek()?.key, 1);
  assert.deepEqual(drain(heap), [1, 3, 3, 5, 7, 9]);
  assert.equal(heap.pop(), undefined);
});

Deno.test("MinHeap.remove() and rekey() keep the order", () => {
  const heap = new MinHeap<HeapItem>();
  const items = [4, 8, 2, 6, 10].map(item);
  for (const it of items) heap.push(it);
  heap.remove(items[2]!); // key 2
  assert.equal(items[2]!.index, -1);
  heap.rekey(items[4]!, 1); // 10 -> 1
  heap.rekey(items[0]!, 9); // 4 -> 9
  assert.deepEqual(drain(heap), [1, 6, 8, 9]);
});

Deno.test("MinHeap matches a sorted array under random operations", () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant("push" as const), key: fc.integer() }),
    fc.record({ kind: fc.constant("pop" as const) }),
    fc.record({ kind: fc.constant("remove" as const), at: fc.nat() }),
    fc.record({
      kind: fc.constant("rekey" as const),
      at: fc.nat(),
      key: fc.integer(),
    }),
  );
  fc.assert(fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
    const heap = new MinHeap<HeapItem>();
    const held: HeapItem[] = [];
    for (const o of ops) {
      if (o.kind === "push") {
        const it = item(o.key);
        heap.push(it);
        held.push(it);
      } else if (o.kind === "pop") {
        const min = held.reduce<HeapItem | undefined>(
          (a, b) => a === undefined || b.key < a.key ? b : a,
          undefined,
        );
        const top = heap.pop();
        assert.equal(top?.key, min?.key);
        if (top !== undefined) held.splice(held.indexOf(top), 1);
      } else if (held.length > 0) {
        const it = held[o.at % held.length]!;
        if (o.kind === "remove") {
          heap.remove(it);
          held.splice(held.indexOf(it), 1);
        } else {
          heap.rekey(it, o.key);
        }
      }
      assert.equal(heap.size, held.length);
    }
    assert.deepEqual(drain(heap), held.map((h) => h.key).sort((a, b) => a - b));
  }));
});
