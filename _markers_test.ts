import assert from "node:assert/strict";
import { markerWrite, readMarker } from "./_markers.ts";

Deno.test("A marker says why its session ended, and where a renewal went", () => {
  const expiry = new Date(60_000);
  const renewed = markerWrite("old", "v1", "renewed", expiry, "new");
  assert.equal(renewed.ended, true);
  assert.equal(renewed.ifVersion, "v1");
  assert.deepEqual(readMarker(renewed.data), { reason: "renewed", to: "new" });
  const destroyed = markerWrite("old", "v1", "destroyed", expiry);
  assert.deepEqual(readMarker(destroyed.data), { reason: "destroyed" });
  assert.deepEqual(readMarker(new TextEncoder().encode("{]")), {
    reason: "expired",
  });
});
