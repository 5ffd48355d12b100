// Error messages: "Cannot <action>: <what is wrong>, received <value>",
// with the value named so a reader sees what was passed.

/**
 * Names what a value is, for error messages: `"-5"`, `"a string"`,
 * `"an Array"`, `"an Invalid Date"`, `"null"`.
 */
export function valueName(value: unknown): string {
  switch (typeof value) {
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "bigint":
    case "boolean":
      return String(value);
    case "string":
      return value.length > 40
        ? `a string of length ${value.length}`
        : JSON.stringify(value);
    case "undefined":
      return "undefined";
    case "symbol":
      return "a symbol";
    case "function":
      return "a function";
  }
  if (value === null) return "null";
  if (value instanceof Date && Number.isNaN(value.getTime())) {
    return "an Invalid Date";
  }
  const name = Object.getPrototypeOf(value)?.constructor?.name;
  if (typeof name !== "string" || name === "") return "an object";
  return /^[AEIO]/.test(name) ? `an ${name}` : `a ${name}`;
}

/**
 * A `TypeError` (or `Kind`) saying what could not be done, why, and what
 * was received: `Cannot find session: token must be a string, received 42`.
 */
export function cannot(
  action: string,
  problem: string,
  received: unknown,
  Kind: typeof TypeError | typeof RangeError = TypeError,
): Error {
  return new Kind(
    `Cannot ${action}: ${problem}, received ${valueName(received)}`,
  );
}
