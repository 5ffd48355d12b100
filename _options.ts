// The checks of constructors' options, and their messages: "Cannot create
// <class>: <option> <rule>, received <value>". Each class checks its
// options once, in its constructor, with an OptionChecker, so a bad option
// fails at start-up, not on a request.

import { cannot } from "./_errors.ts";

/** The longest delay a timer can take (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMER_DELAY = 2_147_483_647;

/** Checks the options of one class, naming it in every message. */
export class OptionChecker {
  #subject: string;

  /** @param subject The class whose options these are: "MemStore". */
  constructor(subject: string) {
    this.#subject = subject;
  }

  /** An error that names the option, the rule it breaks and what was received. */
  error(
    option: string,
    rule: string,
    value: unknown,
    Kind: typeof TypeError | typeof RangeError = TypeError,
  ): Error {
    return cannot(`create ${this.#subject}`, `${option} ${rule}`, value, Kind);
  }

  /** An error about options that cannot go together. */
  conflict(message: string): TypeError {
    return new TypeError(`Cannot create ${this.#subject}: ${message}`);
  }

  /**
   * An options object whose keys are all in `known`; `{}` for `undefined`.
   * A misspelt key would otherwise be ignored without a word.
   */
  object<T extends object>(
    option: string,
    value: T | undefined,
    known: readonly (keyof T & string)[],
  ): T {
    if (value === undefined) return {} as T;
    if (typeof value !== "object" || value === null) {
      throw this.error(option, "must be an object", value);
    }
    for (const key of Object.keys(value)) {
      if ((known as readonly string[]).includes(key)) continue;
      const close = closest(key, known);
      const name = option === "options" ? "" : `${option}.`;
      throw new TypeError(
        `Cannot create ${this.#subject}: unknown option ${name}${key}${
          close === undefined ? "" : ` (did you mean ${name}${close}?)`
        }; the options are ${known.map((k) => name + k).join(", ")}`,
      );
    }
    return value;
  }

  /** A number that `valid` accepts; `fallback` for `undefined`. */
  number(
    option: string,
    value: unknown,
    fallback: number,
    rule: string,
    valid: (value: number) => boolean,
    kind = "a number",
  ): number {
    if (value === undefined) return fallback;
    if (typeof value !== "number") {
      throw this.error(option, `must be ${kind}`, value);
    }
    if (!valid(value)) throw this.error(option, rule, value, RangeError);
    return value;
  }

  /** A boolean; `fallback` for `undefined`. */
  /** A timer's interval in ms: 0 (none) up to the longest a timer waits. */
  interval(option: string, value: unknown, fallback: number): number {
    return this.number(
      option,
      value,
      fallback,
      `must be a finite number >= 0 and <= ${MAX_TIMER_DELAY}`,
      (n) => n >= 0 && n <= MAX_TIMER_DELAY,
      "a number of milliseconds",
    );
  }

  boolean(option: string, value: unknown, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value !== "boolean") {
      throw this.error(option, "must be a boolean", value);
    }
    return value;
  }

  /** A function; `fallback` for `undefined`. */
  function<F>(option: string, value: unknown, fallback: F): F {
    if (value === undefined) return fallback;
    if (typeof value !== "function") {
      throw this.error(option, "must be a function", value);
    }
    return value as F;
  }

  /** An object with every one of `methods`. */
  methods<T extends object>(
    option: string,
    value: unknown,
    methods: string[],
  ): T {
    const ok = typeof value === "object" && value !== null &&
      methods.every((name) =>
        typeof (value as Record<string, unknown>)[name] === "function"
      );
    if (!ok) {
      const list = methods.length === 2
        ? methods.join(" and ")
        : `${methods.slice(0, -1).join(", ")} and ${methods.at(-1)}`;
      throw this.error(option, `must have ${list} methods`, value);
    }
    return value as T;
  }
}

/** The name in `names` nearest to `key` (case aside, at most 2 edits), if any. */
function closest(key: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of names) {
    const distance = editDistance(key.toLowerCase(), name.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [name, distance];
  }
  return best;
}

/** Levenshtein distance: the fewest insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        row[j]! + 1,
        next[j - 1]! + 1,
        row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length]!;
}
