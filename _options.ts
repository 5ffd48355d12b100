// Every constructor's option checks, and their messages: "Cannot create
// <class>: <option> <rule>, received <value>". Each constructor calls one
// function here, once, so a bad option fails at start-up, not on a request.

import { type CookieConfig, SessionCookie } from "./_cookie.ts";
import { cannot } from "./_errors.ts";
import { type Codec, jsonCodec } from "./codec.ts";
import type {
  CookieOptions,
  DroppedChanges,
  KvKeyPart,
  KvStoreOptions,
  MemStoreOptions,
  RedisStoreOptions,
  SessionManagerOptions,
} from "./options.ts";
import type { Store } from "./store.ts";

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

/** MemStore's options, checked, with the defaults filled in. */
export interface MemStoreConfig {
  cleanupInterval: number;
  maxSessions: number;
  maxBytes: number;
}

/** Checks `MemStore`'s options. */
export function memStoreConfig(options: MemStoreOptions = {}): MemStoreConfig {
  const check = new OptionChecker("MemStore");
  check.object("options", options, [
    "cleanupInterval",
    "maxSessions",
    "maxBytes",
  ]);
  const limit = (option: string, value: unknown) =>
    check.number(
      option,
      value,
      Infinity,
      "must be a whole number >= 1 or Infinity",
      (n) => n >= 1 && (n === Infinity || Number.isInteger(n)),
    );
  return {
    cleanupInterval: check.number(
      "cleanupInterval",
      options.cleanupInterval,
      60_000,
      `must be a finite number >= 0 and <= ${MAX_TIMER_DELAY}`,
      (n) => n >= 0 && n <= MAX_TIMER_DELAY,
    ),
    maxSessions: limit("maxSessions", options.maxSessions),
    maxBytes: limit("maxBytes", options.maxBytes),
  };
}

/** RedisStore's options, checked, with the defaults filled in. */
export interface RedisStoreConfig {
  prefix: string;
  commandTimeout: number;
}

/** Checks `RedisStore`'s options. */
export function redisStoreConfig(
  options: RedisStoreOptions = {},
): RedisStoreConfig {
  const check = new OptionChecker("RedisStore");
  check.object("options", options, ["prefix", "commandTimeout"]);
  const { prefix = "session:" } = options;
  if (typeof prefix !== "string") {
    throw check.error("prefix", "must be a string", prefix);
  }
  return {
    prefix,
    commandTimeout: check.number(
      "commandTimeout",
      options.commandTimeout,
      2_000,
      `must be > 0 and at most ${MAX_TIMER_DELAY}`,
      (n) => n > 0 && n <= MAX_TIMER_DELAY,
      "a number of milliseconds",
    ),
  };
}

/** KvStore's options, checked, with the defaults filled in. */
export interface KvStoreConfig {
  prefix: KvKeyPart[];
}

const KEY_PART_TYPES = new Set(["string", "number", "bigint", "boolean"]);

/** Checks `KvStore`'s options. */
export function kvStoreConfig(options: KvStoreOptions = {}): KvStoreConfig {
  const check = new OptionChecker("KvStore");
  check.object("options", options, ["prefix"]);
  const { prefix = ["sessions"] } = options;
  if (
    !Array.isArray(prefix) ||
    !prefix.every((part) =>
      KEY_PART_TYPES.has(typeof part) || part instanceof Uint8Array
    )
  ) {
    throw check.error(
      "prefix",
      "must be an array of key parts (strings, numbers, bigints, booleans or Uint8Arrays)",
      prefix,
    );
  }
  return { prefix: [...prefix] };
}

/** SessionManager's options, checked, with the defaults filled in. */
export interface ManagerConfig {
  /** `undefined`: the manager makes a MemStore of its own. */
  store: Store | undefined;
  lifetime: number;
  idleTimeout: number;
  touchAfter: number;
  storeTimeout: number;
  cookie: CookieConfig;
  hashTokenInStore: boolean;
  codec: Codec;
  onError:
    | ((error: unknown, request: Request) => Response | Promise<Response>)
    | undefined;
  onDropped: ((dropped: DroppedChanges) => void) | undefined;
}

/** Checks `SessionManager`'s options. */
export function managerConfig(
  options: SessionManagerOptions = {},
): ManagerConfig {
  const check = new OptionChecker("SessionManager");
  check.object("options", options, [
    "store",
    "lifetime",
    "idleTimeout",
    "touchAfter",
    "cookie",
    "storeTimeout",
    "hashTokenInStore",
    "codec",
    "onError",
    "onDropped",
  ]);
  const { store, codec } = options;
  return {
    store: store === undefined
      ? undefined
      : check.methods<Store>("store", store, ["find", "commit", "delete"]),
    lifetime: check.number(
      "lifetime",
      options.lifetime,
      86_400_000,
      "must be a number > 0 (Infinity for no limit)",
      (n) => n > 0,
      "a number of milliseconds",
    ),
    idleTimeout: check.number(
      "idleTimeout",
      options.idleTimeout,
      0,
      "must be a finite number >= 0",
      (n) => n >= 0 && n < Infinity,
      "a number of milliseconds",
    ),
    touchAfter: check.number(
      "touchAfter",
      options.touchAfter,
      0.1,
      "must be a fraction from 0 to 1",
      (n) => n >= 0 && n <= 1,
    ),
    storeTimeout: check.number(
      "storeTimeout",
      options.storeTimeout,
      5_000,
      `must be > 0 and at most ${MAX_TIMER_DELAY}, or Infinity`,
      (n) => n > 0 && (n <= MAX_TIMER_DELAY || n === Infinity),
      "a number of milliseconds",
    ),
    cookie: cookieConfig(check, options.cookie),
    hashTokenInStore: check.boolean(
      "hashTokenInStore",
      options.hashTokenInStore,
      false,
    ),
    codec: codec === undefined
      ? jsonCodec
      : check.methods<Codec>("codec", codec, ["encode", "decode"]),
    onError: check.function("onError", options.onError, undefined),
    onDropped: check.function("onDropped", options.onDropped, undefined),
  };
}

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What the cookie serializer accepts in a path, which must start with "/". */
const COOKIE_PATH = /^\/[\u0020-\u003A\u003D-\u007E]*$/;
const SAME_SITE = { strict: "strict", lax: "lax", none: "none" } as const;

function cookieConfig(
  check: OptionChecker,
  options: CookieOptions | undefined,
): CookieConfig {
  options = check.object("cookie", options, [
    "name",
    "path",
    "domain",
    "httpOnly",
    "secure",
    "sameSite",
    "partitioned",
    "persist",
  ]);
  const { name = "session", path = "/", domain, sameSite = "Lax" } = options;
  if (typeof name !== "string" || !COOKIE_NAME.test(name)) {
    throw check.error(
      "cookie.name",
      "must be a cookie name (letters, digits and !#$%&'*+-.^_`|~)",
      name,
    );
  }
  if (typeof path !== "string" || !COOKIE_PATH.test(path)) {
    throw check.error(
      "cookie.path",
      "must start with / and hold no control characters, ; or <",
      path,
    );
  }
  if (domain !== undefined && typeof domain !== "string") {
    throw check.error("cookie.domain", "must be a domain name", domain);
  }
  const site = typeof sameSite === "string"
    ? SAME_SITE[sameSite.toLowerCase() as keyof typeof SAME_SITE]
    : undefined;
  if (site === undefined) {
    throw check.error(
      "cookie.sameSite",
      'must be "Strict", "Lax" or "None"',
      sameSite,
    );
  }
  const flag = (key: keyof CookieOptions, fallback: boolean) =>
    check.boolean(`cookie.${key}`, options[key], fallback);
  const config: CookieConfig = {
    name,
    path,
    domain,
    httpOnly: flag("httpOnly", true),
    secure: flag("secure", false),
    sameSite: site,
    partitioned: flag("partitioned", false),
    persist: flag("persist", true),
  };
  // Browsers reject these cookies, so sessions would silently never stick.
  const needsSecure = [
    [site === "none", 'cookie.sameSite "None"'],
    [config.partitioned, "cookie.partitioned"],
    [name.startsWith("__Secure-"), `a cookie.name starting with "__Secure-"`],
    [name.startsWith("__Host-"), `a cookie.name starting with "__Host-"`],
  ] as const;
  for (const [applies, what] of needsSecure) {
    if (applies && !config.secure) {
      throw check.conflict(
        `${what} needs secure: true (browsers reject it otherwise)`,
      );
    }
  }
  if (name.startsWith("__Host-") && (path !== "/" || domain !== undefined)) {
    throw check.conflict(
      'a cookie.name starting with "__Host-" needs path "/" and no domain (browsers reject it otherwise)',
    );
  }
  // The serializer is the final judge: write the longest-lived cookie once.
  try {
    new SessionCookie(config, false).write("A".repeat(43), Infinity);
  } catch {
    throw check.error("cookie.domain", "must be a domain name", domain);
  }
  return config;
}
