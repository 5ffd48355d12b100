import assert from "node:assert/strict";
import { fakeTime } from "./_test_helpers.ts";
import { KnownExpiries } from "./_kv_versions.ts";

const write = (ifVersion: string | null) => ({
  token: "a",
  ifVersion,
  data: new Uint8Array(),
  expiry: new Date(Date.now() + 1000),
});

Deno.test("KnownExpiries gives the stamps of known, live versions only", () => {
  using clock = fakeTime();
  const known = new KnownExpiries();
  known.remember("v1", Date.now() + 500);
  assert.deepEqual(known.stampsFor([write("v1"), write(null)]), ["v1", null]);
  assert.equal(known.stampsFor([write("v2")]), undefined, "unknown");
  clock.tick(500);
  assert.equal(known.stampsFor([write("v1")]), "expired");
});
