/**
 * Names what a value is, for error messages: `"-5"`, `"a string"`,
 * `"an Array"`, `"an Invalid Date"`, `"null"`.
 */
export function describe(value: unknown): string {
  switch (typeof value) {
    case "number":
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
