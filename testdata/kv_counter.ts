// Adds 1 to the "counter" session of a KV file, N times, each with
// compare-and-set (read, add, write if unchanged, again on a conflict).
// Two of these at once on one file are what used to die with "database is
// locked". Used by kv_test.ts:  kv_counter.ts <path> <N>
import { KvStore, openSharedKv } from "../kv.ts";

const [path, times] = Deno.args;
const kv = await openSharedKv(path);
const store = new KvStore(kv);
const encoder = new TextEncoder(), decoder = new TextDecoder();
for (let i = 0; i < Number(times); i++) {
  for (;;) {
    const entry = await store.findVersioned("counter");
    const count = entry === undefined ? 0 : Number(decoder.decode(entry.data));
    const write = {
      token: "counter",
      ifVersion: entry?.version ?? null,
      data: encoder.encode(String(count + 1)),
      expiry: new Date(Date.now() + 600_000),
    };
    if (await store.commitVersioned([write])) break;
  }
}
console.error(JSON.stringify(store.stats()));
kv.close();
