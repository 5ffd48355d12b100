import assert from "node:assert/strict";
import { describe } from "./_describe.ts";

Deno.test("describe() names values for error messages", () => {
  assert.equal(describe(-5), "-5");
  assert.equal(describe(NaN), "NaN");
  assert.equal(describe(10n), "10");
  assert.equal(describe(true), "true");
  assert.equal(describe("abc"), '"abc"');
  assert.equal(describe("x".repeat(41)), "a string of length 41");
  assert.equal(describe(undefined), "undefined");
  assert.equal(describe(null), "null");
  assert.equal(describe(Symbol("s")), "a symbol");
  assert.equal(describe(() => {}), "a function");
  assert.equal(describe([1]), "an Array");
  assert.equal(describe(new ArrayBuffer(1)), "an ArrayBuffer");
  assert.equal(describe(new Date(NaN)), "an Invalid Date");
  assert.equal(describe(new Date(0)), "a Date");
  assert.equal(describe(Object.create(null)), "an object");
  assert.equal(describe({}), "an Object");
});
