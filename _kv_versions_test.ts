import assert from "node:assert/strict";
import { fakeTime } from "./_test_helpers.ts";
import { KnownExpiries } from "./_kv_versions.ts";

const write = (ifVersion: string | null) => ({
  token: "a",
  ifVersion,
  data: new Uint8Array(),
  expiry: new Date(Date.now() + 1000),
});

Deno.test("KnownExpiries gives the stamps of known, live versions only, with their users", () => {
  using clock = fakeTime();
  const known = new KnownExpiries();
  known.remember("v1", "a", Date.now() + 500, "ada");
  known.remember("v1", "b", Date.now() + 100);
  assert.deepEqual(known.stampsFor([write("v1"), write(null)]), [
    { versionstamp: "v1", user: "ada" },
    { versionstamp: null, user: undefined },
  ]);
  assert.equal(known.stampsFor([write("v2")]), undefined, "unknown");
  assert.equal(
    known.stampsFor([{ ...write("v1"), token: "c" }]),
    undefined,
    "a stamp is known per key",
  );
  clock.tick(500);
  assert.equal(known.stampsFor([write("v1")]), "expired");
});
