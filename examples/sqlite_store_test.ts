// The conformance kit on SqliteStore, and two managers on one file:
//
//   deno test --allow-read --allow-write examples/sqlite_store_test.ts
import assert from "node:assert/strict";
import { SessionManager } from "../mod.ts";
import { testStore } from "../testing.ts";
import { SqliteStore } from "./sqlite_store.ts";

Deno.test("SqliteStore passes the store conformance kit", async (t) => {
  await testStore(t, () => new SqliteStore(":memory:"));
});

Deno.test("Two managers on one SQLite file merge overlapping requests", async () => {
  const path = await Deno.makeTempFile({ suffix: ".db" });
  try {
    using one = new SqliteStore(path);
    using other = new SqliteStore(path); // another process, say
    using a = new SessionManager<Record<string, number>>({ store: one });
    using b = new SessionManager<Record<string, number>>({ store: other });
    const first = await a.load("");
    first.put("start", 1);
    const { token } = await a.commit(first);
    // Both load the session, then both save: neither change is lost.
    const viaA = await a.load(token);
    const viaB = await b.load(token);
    viaA.put("a", 1);
    viaB.put("b", 2);
    await a.commit(viaA);
    await b.commit(viaB);
    assert.deepEqual((await a.load(token)).keys(), ["a", "b", "start"]);
  } finally {
    await Deno.remove(path);
  }
});
