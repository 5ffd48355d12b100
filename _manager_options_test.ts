import assert from "node:assert/strict";
import { managerConfig } from "./_manager_options.ts";
import { jsonCodec } from "./codec.ts";

Deno.test("managerConfig() fills in SCS's defaults", () => {
  assert.deepEqual(managerConfig(), {
    store: undefined,
    lifetime: 86_400_000,
    idleTimeout: 0,
    touchAfter: 0.1,
    storeTimeout: 5_000,
    cookie: {
      name: "session",
      path: "/",
      domain: undefined,
      httpOnly: true,
      secure: false,
      sameSite: "Lax",
      partitioned: false,
      persist: true,
    },
    hashTokenInStore: false,
    codec: jsonCodec,
    onError: undefined,
    onDropped: undefined,
    users: undefined,
  });
});

Deno.test("managerConfig() takes lifetime: Infinity as no absolute limit", () => {
  assert.equal(managerConfig({ lifetime: Infinity }).lifetime, Infinity);
  assert.throws(() => managerConfig({ lifetime: 0 }), {
    name: "RangeError",
    message:
      "Cannot create SessionManager: lifetime must be a number > 0 (Infinity for no limit), received 0",
  });
});
