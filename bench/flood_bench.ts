// Flood benchmark: 5,000,000 distinct sessions committed into a MemStore
// bounded at 100,000. The heap must stay flat (peak reported) and the
// commit rate steady from the first million to the last.
//
//   deno task bench:flood            the full run (about a minute)
//   deno task bench:flood --quick    500,000 sessions: checks the script runs

import { newToken } from "../_token.ts";
import { MemStore } from "../memstore.ts";

const quick = Deno.args.includes("--quick");
const TOTAL = quick ? 500_000 : 5_000_000;
const BOUND = quick ? 10_000 : 100_000;
const CHUNK = TOTAL / 10;
const SAMPLE = 10_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("Run with --v8-flags=--expose-gc");

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

using store = new MemStore({ maxSessions: BOUND });
const data = crypto.getRandomValues(new Uint8Array(70));
const start = Date.now() + 86_400_000;

gc();
const heapBefore = Deno.memoryUsage().heapUsed;
let peak = 0;
const chunks: { committed: number; opsPerSec: number; heap: number }[] = [];
let chunkStarted = performance.now();
for (let i = 1; i <= TOTAL; i++) {
  // Each session a millisecond later than the last: the oldest goes first.
  await store.commit(newToken(), data, new Date(start + i));
  if (i % SAMPLE === 0) {
    peak = Math.max(peak, Deno.memoryUsage().heapUsed);
  }
  if (i % CHUNK === 0) {
    const elapsed = performance.now() - chunkStarted;
    gc();
    chunks.push({
      committed: i,
      opsPerSec: CHUNK / (elapsed / 1000),
      heap: Deno.memoryUsage().heapUsed,
    });
    chunkStarted = performance.now();
  }
}

const { evicted } = store.stats();
console.log(
  `Flood: ${
    TOTAL.toLocaleString("en")
  } distinct sessions into a MemStore bounded at ${
    BOUND.toLocaleString("en")
  } sessions (70-byte data)`,
);
console.log(`| Committed | Commits/s | Heap after GC |`);
console.log(`| --: | --: | --: |`);
for (const { committed, opsPerSec, heap } of chunks) {
  console.log(
    `| ${committed.toLocaleString("en")} | ${
      Math.round(opsPerSec).toLocaleString("en")
    } | ${mb(heap)} |`,
  );
}
const rates = chunks.map((chunk) => chunk.opsPerSec);
const first = chunks[0]!;
const last = chunks[chunks.length - 1]!;
console.log(
  `Held: ${store.size.toLocaleString("en")} sessions, ${
    mb(store.bytes)
  } of data and tokens; evicted ${evicted.toLocaleString("en")}`,
);
console.log(
  `Heap: ${mb(heapBefore)} before, ${mb(first.heap)} after the first ${
    first.committed.toLocaleString("en")
  }, ${mb(last.heap)} at the end (${
    ((last.heap / first.heap - 1) * 100).toFixed(1)
  }%); peak ${mb(peak)} (sampled every ${
    SAMPLE.toLocaleString("en")
  } commits, before GC)`,
);
console.log(
  `Commit rate: last tenth ÷ first tenth ${
    (last.opsPerSec / first.opsPerSec).toFixed(2)
  }x; slowest tenth ÷ fastest ${
    (Math.min(...rates) / Math.max(...rates)).toFixed(2)
  }x`,
);
if (store.size !== BOUND || evicted !== TOTAL - BOUND) {
  throw new Error(
    `The bound did not hold: ${store.size} held, ${evicted} evicted`,
  );
}
