import assert from "node:assert/strict";
import { cannot, valueName } from "./_errors.ts";

Deno.test("valueName() names values for error messages", () => {
  assert.equal(valueName(-5), "-5");
  assert.equal(valueName(NaN), "NaN");
  assert.equal(valueName(-0), "-0");
  assert.equal(valueName(10n), "10");
  assert.equal(valueName(true), "true");
  assert.equal(valueName("abc"), '"abc"');
  assert.equal(valueName("x".repeat(41)), "a string of length 41");
  assert.equal(valueName(undefined), "undefined");
  assert.equal(valueName(null), "null");
  assert.equal(valueName(Symbol("s")), "a symbol");
  assert.equal(valueName(() => {}), "a function");
  assert.equal(valueName([1]), "an Array");
  assert.equal(valueName(new ArrayBuffer(1)), "an ArrayBuffer");
  assert.equal(valueName(new Date(NaN)), "an Invalid Date");
  assert.equal(valueName(new Date(0)), "a Date");
  assert.equal(valueName(Object.create(null)), "an object");
  assert.equal(valueName({}), "an Object");
});

Deno.test("cannot() says what failed, why, and what was received", () => {
  const error = cannot("find session", "token must be a string", 42);
  assert.ok(error instanceof TypeError);
  assert.equal(
    error.message,
    "Cannot find session: token must be a string, received 42",
  );
  assert.ok(cannot("grow", "too big", 1, RangeError) instanceof RangeError);
});
