import assert from "node:assert/strict";
import { OptionChecker } from "./_options.ts";
import { SessionManager } from "./manager.ts";
import { MemStore } from "./memstore.ts";

Deno.test("OptionChecker names the class, the option, the rule and the value", () => {
  const check = new OptionChecker("Thing");
  assert.throws(() => check.object("options", 5 as unknown as object, []), {
    name: "TypeError",
    message: "Cannot create Thing: options must be an object, received 5",
  });
  assert.throws(
    () => check.number("size", -1, 0, "must be >= 0", (n) => n >= 0),
    {
      name: "RangeError",
      message: "Cannot create Thing: size must be >= 0, received -1",
    },
  );
  assert.throws(
    () =>
      check.number("ttl", "1h", 0, "", () => true, "a number of milliseconds"),
    {
      name: "TypeError",
      message:
        'Cannot create Thing: ttl must be a number of milliseconds, received "1h"',
    },
  );
  assert.throws(
    () => check.methods("store", {}, ["find", "commit", "delete"]),
    {
      name: "TypeError",
      message:
        "Cannot create Thing: store must have find, commit and delete methods, received an Object",
    },
  );
  assert.equal(check.boolean("flag", undefined, true), true);
  assert.equal(check.function("fn", undefined, undefined), undefined);
});

Deno.test("Every constructor refuses an unknown option, naming the valid ones and the closest", () => {
  assert.throws(() => new SessionManager({ lifetim: 1000 } as never), {
    name: "TypeError",
    message:
      "Cannot create SessionManager: unknown option lifetim (did you mean lifetime?); the options are store, lifetime, idleTimeout, touchAfter, cookie, storeTimeout, hashTokenInStore, codec, onError, onDropped, users",
  });
  assert.throws(
    () => new SessionManager({ cookie: { sameSIte: "Strict" } } as never),
    {
      name: "TypeError",
      message:
        "Cannot create SessionManager: unknown option cookie.sameSIte (did you mean cookie.sameSite?); the options are cookie.name, cookie.path, cookie.domain, cookie.httpOnly, cookie.secure, cookie.sameSite, cookie.partitioned, cookie.persist",
    },
  );
  assert.throws(() => new SessionManager({ color: "red" } as never), {
    name: "TypeError",
    message:
      /^Cannot create SessionManager: unknown option color; the options are/,
  });
  assert.throws(() => new MemStore({ cleanupInterva: 0 } as never), {
    name: "TypeError",
    message: /unknown option cleanupInterva \(did you mean cleanupInterval\?\)/,
  });
});
