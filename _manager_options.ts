// SessionManager's options checked, with the defaults filled in: each
// default is written here once (and in the @default tag that documents it).

import { type CookieConfig, SAME_SITE, SessionCookie } from "./_cookie.ts";
import { MAX_TIMER_DELAY, OptionChecker } from "./_options.ts";
import { type Codec, jsonCodec } from "./codec.ts";
import type {
  CookieOptions,
  DroppedChanges,
  SessionManagerOptions,
  UserSessionsOptions,
} from "./options.ts";
import { isUserIndexStore, type Store } from "./store.ts";

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
  users: UsersConfig | undefined;
}

/** The `users` option, checked. */
export interface UsersConfig {
  key: string;
  address: boolean;
  seenEvery: number;
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
    "users",
  ]);
  const { store, codec } = options;
  const config: ManagerConfig = {
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
    users: undefined,
  };
  config.users = usersConfig(check, options.users, config);
  return config;
}

/** The longest seenEvery without an idle timeout. */
const SEEN_EVERY = 60_000;

function usersConfig(
  check: OptionChecker,
  options: UserSessionsOptions | undefined,
  config: ManagerConfig,
): UsersConfig | undefined {
  if (options === undefined) return undefined;
  options = check.object("users", options, ["key", "address", "seenEvery"]);
  const { key } = options;
  if (typeof key !== "string" || key === "") {
    throw check.error(
      "users.key",
      "must name the session value that holds the user id",
      key,
    );
  }
  const store = config.store;
  if (store !== undefined && !isUserIndexStore(store)) {
    throw check.conflict(
      "users needs a store with a per-user index (findByUser, findVersioned and commitVersioned: a UserIndexStore such as MemStore, RedisStore or KvStore); this store has none, so lists would always be empty",
    );
  }
  const { idleTimeout, touchAfter } = config;
  return {
    key,
    address: check.boolean("users.address", options.address, false),
    seenEvery: check.number(
      "users.seenEvery",
      options.seenEvery,
      idleTimeout > 0 ? touchAfter * idleTimeout : SEEN_EVERY,
      "must be a finite number >= 0",
      (n) => n >= 0 && n < Infinity,
      "a number of milliseconds",
    ),
  };
}

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What the cookie serializer accepts in a path, which must start with "/". */
const COOKIE_PATH = /^\/[\u0020-\u003A\u003D-\u007E]*$/;

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
    [site === "None", 'cookie.sameSite "None"'],
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
