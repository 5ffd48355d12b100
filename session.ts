/**
 * {@linkcode SessionManager}: sessions for `Deno.serve` handlers, SCS's
 * `LoadAndSave` for Deno. It reads the session cookie, loads the session
 * before the handler runs, and saves it (and sets the cookie) before the
 * response is returned.
 *
 * @module
 */

import {
  deleteToken,
  readToken,
  type SessionCookie,
  sessionCookie,
  writeToken,
} from "./_cookie.ts";
import { describe } from "./_describe.ts";
import { type FastPath, fastPaths } from "./_fast_path.ts";
import { hashToken, isToken, newToken } from "./_token.ts";
import { type Codec, jsonCodec, type SessionData } from "./codec.ts";
import { MemStore } from "./memstore.ts";
import type { IterableStore, Store } from "./store.ts";

/** Whether a session changed in this request. */
export type SessionStatus = "unmodified" | "modified" | "destroyed";

/**
 * The session of one request: its values, and what to do with it when the
 * handler returns. `T` names the keys and the type of each value.
 *
 * @example Counting visits
 * ```ts
 * import assert from "node:assert/strict";
 * import { SessionManager } from "@sessions/memstore";
 *
 * using sessions = new SessionManager<{ visits: number }>();
 * const handler = sessions.loadAndSave((_request, session) => {
 *   const visits = (session.get("visits") ?? 0) + 1;
 *   session.put("visits", visits);
 *   return new Response(`visit ${visits}`);
 * });
 * const response = await handler(new Request("http://localhost/"));
 * assert.equal(await response.text(), "visit 1");
 * ```
 */
export interface Session<T extends object = Record<string, unknown>> {
  /** The session token: `""` for a session not yet saved, or after `destroy()` or `renewToken()` until it is saved again. */
  readonly token: string;
  /**
   * `"modified"` once anything changed; `"destroyed"` after `destroy()`, or
   * once a save found the session ended by another request and dropped this
   * one's changes.
   */
  readonly status: SessionStatus;
  /** The absolute deadline: the session ends then, whatever the activity. */
  readonly deadline: Date;
  /**
   * A value, or `undefined` when the key is not set.
   *
   * @param key The key.
   */
  get<K extends keyof T & string>(key: K): T[K] | undefined;
  /**
   * Sets a value.
   *
   * @param key The key.
   * @param value The value; it must be one the codec can encode.
   * @throws {TypeError} When the codec cannot encode `value`.
   */
  put<K extends keyof T & string>(key: K, value: T[K]): void;
  /**
   * Removes a value and returns it: a one-time message ("flash").
   *
   * @param key The key.
   */
  pop<K extends keyof T & string>(key: K): T[K] | undefined;
  /**
   * Removes a value; a key that is not set changes nothing.
   *
   * @param key The key.
   */
  remove(key: keyof T & string): void;
  /**
   * Whether a key is set.
   *
   * @param key The key.
   */
  has(key: keyof T & string): boolean;
  /** The keys that are set, sorted. */
  keys(): (keyof T & string)[];
  /** Removes every value; the session and its token stay. */
  clear(): void;
  /**
   * Ends the session: its values go, the stored session is deleted and the
   * response tells the browser to drop the cookie. A `put()` afterwards
   * starts a new session with a new token.
   */
  destroy(): void;
  /**
   * Gives the session a new token, keeping its values, and resets the
   * deadline. The old token stops working. Call it when a user signs in or
   * their privileges change, so a token planted before can't be used.
   */
  renewToken(): void;
  /**
   * With `cookie.persist: false`, makes this session's cookie persistent
   * (`true`) or a browser-session cookie again (`false`).
   *
   * @param remember Whether the browser should keep the cookie.
   */
  rememberMe(remember: boolean): void;
  /**
   * Moves the absolute deadline.
   *
   * @param deadline When the session ends.
   * @throws {TypeError} When `deadline` is not a valid `Date`.
   */
  setDeadline(deadline: Date): void;
}

/** Options for the session cookie. */
export interface CookieOptions {
  /** The cookie's name. @default {"session"} */
  name?: string;
  /** The `Path` attribute. @default {"/"} */
  path?: string;
  /** The `Domain` attribute; none by default (this host only). */
  domain?: string;
  /** `HttpOnly`: page scripts can't read the cookie. @default {true} */
  httpOnly?: boolean;
  /** `Secure`: sent over HTTPS only. Turn it on in production. @default {false} */
  secure?: boolean;
  /** The `SameSite` attribute. `"None"` needs `secure`. @default {"Lax"} */
  sameSite?: "Strict" | "Lax" | "None";
  /** `Partitioned` (CHIPS); needs `secure`. @default {false} */
  partitioned?: boolean;
  /**
   * Whether the cookie outlives the browser session (`Expires` and
   * `Max-Age`). With `false`, only sessions that call `rememberMe(true)` get
   * a persistent cookie.
   *
   * @default {true}
   */
  persist?: boolean;
}

/** Options for {@linkcode SessionManager}. */
export interface SessionManagerOptions {
  /**
   * Where sessions are kept. By default, a {@linkcode MemStore} that the
   * manager owns and disposes with itself; a store given here is never
   * disposed by the manager.
   */
  store?: Store;
  /** Milliseconds from creation until a session ends, whatever its activity. @default {86400000} */
  lifetime?: number;
  /**
   * Milliseconds without a request after which a session ends; 0 turns it
   * off. A session with an idle timeout is saved on every request.
   *
   * @default {0}
   */
  idleTimeout?: number;
  /** The session cookie. */
  cookie?: CookieOptions;
  /**
   * Keep sessions under base64url(SHA-256(token)) instead of the token, so
   * what the store holds (a dump, a heap snapshot) contains no usable token.
   *
   * @default {false}
   */
  hashTokenInStore?: boolean;
  /** How sessions become bytes. @default {jsonCodec} */
  codec?: Codec;
  /**
   * Makes the response when the store fails. By default, logs the error and
   * answers 500 Internal Server Error.
   */
  onError?: (error: unknown, request: Request) => Response | Promise<Response>;
  /**
   * Told when a request's changes are dropped because its session ended
   * while the request ran: the response then clears the cookie, and the
   * client gets no error. By default, a warning is logged.
   */
  onDropped?: (dropped: DroppedChanges) => void;
}

/**
 * Why a request's changes to its session were dropped:
 * - `"destroyed"`: another request of the session (or
 *   {@linkcode SessionManager.commit}) called `destroy()`;
 * - `"renewed"`: another request called `renewToken()`;
 * - `"expired"`: the store no longer has the session for any other reason:
 *   its timeout passed, a bounded store evicted it, or something other than
 *   this manager deleted it (another process, another manager). A session
 *   this manager ended before the last 1,024 it ended also reads as
 *   `"expired"`.
 */
export type DropReason = "destroyed" | "renewed" | "expired";

/** Changes that were not saved because their session had ended. */
export interface DroppedChanges {
  /** Why the session is gone. */
  reason: DropReason;
  /** The request that made the changes; `undefined` for {@linkcode SessionManager.commit} and {@linkcode SessionManager.iterate}. */
  request: Request | undefined;
}

/** A request handler that is given the request's session. */
export type SessionHandler<T extends object, Info> = (
  request: Request,
  session: Session<T>,
  info: Info,
) => Response | Promise<Response>;

interface State {
  /** The client's token; "" when not known or not yet issued. */
  token: string;
  /** Where the session is saved; "" until a token is issued. */
  key: string;
  /** Where the values were loaded from (or last saved); "" for a new session. */
  origin: string;
  /** The stored bytes at `origin` when loaded or last saved. */
  base: Uint8Array | undefined;
  deadline: number;
  values: Map<string, unknown>;
  /** `values` is shared with the decoded-session cache: copy before writing. */
  shared: boolean;
  /** `values`, `deadline` or `rememberMe` differ from `base`: encode them. */
  dirty: boolean;
  /** What this request changed, key by key ({@linkcode REMOVED} for removals); `undefined` for nothing. */
  changes: Map<string, unknown> | undefined;
  deadlineSet: boolean;
  rememberMeSet: boolean;
  /** `destroy()` was called: `origin` is deleted and nothing is merged. */
  ended: boolean;
  status: SessionStatus;
  rememberMe: boolean | undefined;
  /** Saved on every request (idle timeout), even when unmodified. */
  touch: boolean;
  lifetime: number;
  codec: Codec;
}

/** The change of a removed key. */
const REMOVED: unique symbol = Symbol("removed");

/** What saving a session gives: its token and store expiry (ms). */
interface Saved {
  token: string;
  expiry: number;
}

let stateOf: (session: unknown) => State | undefined;

/** A decoded session, as the decoded-session cache keeps it. */
interface Decoded {
  deadline: number;
  /** Values that no one modifies. */
  values: Map<string, unknown>;
  rememberMe: boolean | undefined;
}

/** Whether every value is a primitive, so sharing the values is safe. */
function flat(values: Map<string, unknown>): boolean {
  for (const value of values.values()) {
    if (typeof value === "object" && value !== null) return false;
  }
  return true;
}

class SessionImpl<T extends object> implements Session<T> {
  #state: State;

  static {
    stateOf = (session) =>
      #state in (session as object)
        ? (session as SessionImpl<object>).#state
        : undefined;
  }

  constructor(state: State) {
    this.#state = state;
  }

  get token(): string {
    return this.#state.token;
  }

  get status(): SessionStatus {
    return this.#state.status;
  }

  get deadline(): Date {
    return new Date(this.#state.deadline);
  }

  get<K extends keyof T & string>(key: K): T[K] | undefined {
    return this.#state.values.get(key) as T[K] | undefined;
  }

  put<K extends keyof T & string>(key: K, value: T[K]): void {
    const state = this.#state;
    if (typeof key !== "string") {
      throw new TypeError(
        `Cannot put a value: key must be a string, received ${describe(key)}`,
      );
    }
    try {
      const codec = state.codec;
      if (codec.check !== undefined) codec.check(value);
      else codec.encode({ deadline: new Date(0), values: { [key]: value } });
    } catch (error) {
      throw new TypeError(
        `Cannot put ${JSON.stringify(key)}: ${
          (error as Error)?.message ?? String(error)
        }`,
        { cause: error },
      );
    }
    state.status = "modified";
    (state.changes ??= new Map()).set(key, value);
    const values = state.values;
    // The same primitive again changes nothing that is stored.
    if (
      values.get(key) === value && values.has(key) &&
      (typeof value !== "object" || value === null)
    ) {
      return;
    }
    this.#writable().set(key, value);
  }

  pop<K extends keyof T & string>(key: K): T[K] | undefined {
    const value = this.get(key);
    this.remove(key);
    return value;
  }

  remove(key: keyof T & string): void {
    const state = this.#state;
    if (state.values.has(key)) {
      this.#writable().delete(key);
      (state.changes ??= new Map()).set(key, REMOVED);
      state.status = "modified";
    }
  }

  has(key: keyof T & string): boolean {
    return this.#state.values.has(key);
  }

  keys(): (keyof T & string)[] {
    return [...this.#state.values.keys()].sort() as (keyof T & string)[];
  }

  clear(): void {
    const state = this.#state;
    if (state.values.size > 0) {
      const changes = state.changes ??= new Map();
      for (const key of state.values.keys()) changes.set(key, REMOVED);
      state.values = new Map();
      state.shared = false;
      state.dirty = true;
      state.status = "modified";
    }
  }

  destroy(): void {
    const state = this.#state;
    this.#forgetKey();
    state.values = new Map();
    state.shared = false;
    state.changes = undefined;
    state.rememberMe = undefined;
    state.ended = true;
    state.touch = false;
    state.status = "destroyed";
  }

  renewToken(): void {
    this.#forgetKey();
    this.#state.status = "modified";
  }

  rememberMe(remember: boolean): void {
    if (typeof remember !== "boolean") {
      throw new TypeError(
        `Cannot set rememberMe: expected a boolean, received ${
          describe(remember)
        }`,
      );
    }
    const state = this.#state;
    state.rememberMe = remember;
    state.rememberMeSet = true;
    state.dirty = true;
    state.status = "modified";
  }

  setDeadline(deadline: Date): void {
    const time = deadline instanceof Date ? deadline.getTime() : NaN;
    if (Number.isNaN(time)) {
      throw new TypeError(
        `Cannot set deadline: expected a valid Date, received ${
          describe(deadline)
        }`,
      );
    }
    const state = this.#state;
    state.deadline = time;
    state.deadlineSet = true;
    state.dirty = true;
    state.status = "modified";
  }

  /** The values, copied first when they are shared with the cache. */
  #writable(): Map<string, unknown> {
    const state = this.#state;
    state.dirty = true;
    if (state.shared) {
      state.values = new Map(state.values);
      state.shared = false;
    }
    return state.values;
  }

  /** The next save deletes the stored session and issues a new token. */
  #forgetKey(): void {
    const state = this.#state;
    state.key = "";
    state.token = "";
    state.deadline = Date.now() + state.lifetime;
    state.deadlineSet = true;
    state.dirty = true;
  }
}

function checkDuration(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot create SessionManager: ${name} must be a number of milliseconds, received ${
        describe(value)
      }`,
    );
  }
  if (!(value >= min && value < Infinity)) {
    throw new RangeError(
      `Cannot create SessionManager: ${name} must be a finite number ${
        min === 0 ? ">= 0" : "> 0"
      }, received ${value}`,
    );
  }
  return value;
}

function optionError(option: string, rule: string, value: unknown): TypeError {
  return new TypeError(
    `Cannot create SessionManager: ${option} ${rule}, received ${
      describe(value)
    }`,
  );
}

const noop = (): void => {};

/**
 * How many ended sessions the manager remembers the reason of, for requests
 * that were still running on them: beyond that, their reason reads "expired".
 */
const ENDED_KEPT = 1024;

/** After a save: the session comes from where it was saved, unchanged. */
function settle(state: State, bytes: Uint8Array): void {
  state.origin = state.key;
  state.base = bytes;
  state.dirty = false;
  state.changes = undefined;
  state.deadlineSet = false;
  state.rememberMeSet = false;
  state.ended = false;
}

/** Whether two byte arrays hold the same bytes. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function defaultOnDropped({ reason, request }: DroppedChanges): void {
  console.warn(
    `Dropped the session changes of ${
      request === undefined ? "a commit" : `${request.method} ${request.url}`
    }: the session was ${reason} while it ran`,
  );
}

function defaultOnError(error: unknown, request: Request): Response {
  console.error(
    `Session store failed for ${request.method} ${request.url}:`,
    error,
  );
  return new Response("Internal Server Error", { status: 500 });
}

const VARY_COOKIE = /(^|,)\s*(cookie|\*)\s*(,|$)/i;
const NO_CACHE_SET_COOKIE = 'no-cache="Set-Cookie"';

/** Adds the session's headers; throws when the headers are immutable. */
function decorate(headers: Headers, cookie: string | undefined): void {
  const vary = headers.get("vary");
  if (vary === null) headers.set("vary", "Cookie");
  else if (!VARY_COOKIE.test(vary)) headers.append("vary", "Cookie");
  if (cookie === undefined) return;
  headers.append("set-cookie", cookie);
  const cacheControl = headers.get("cache-control");
  if (cacheControl === null) headers.set("cache-control", NO_CACHE_SET_COOKIE);
  else if (!cacheControl.includes(NO_CACHE_SET_COOKIE)) {
    headers.append("cache-control", NO_CACHE_SET_COOKIE);
  }
}

/**
 * Adds the session's headers to a response, copying it first when its
 * headers are immutable (`Response.redirect()`, a `fetch()` response).
 */
function finish(response: Response, cookie: string | undefined): Response {
  try {
    decorate(response.headers, cookie);
    return response;
  } catch {
    // Immutable headers: decorate a copy.
  }
  let copy: Response;
  try {
    copy = new Response(response.body, response);
  } catch {
    return response; // A status no Response can be made with, such as 101.
  }
  decorate(copy.headers, cookie);
  return copy;
}

/**
 * Sessions for `Deno.serve`: a cookie, a session per request, loaded before
 * the handler and saved after it. The TypeScript counterpart of SCS's
 * `SessionManager` and `LoadAndSave`.
 *
 * Safe by default: the cookie is `HttpOnly` and `SameSite=Lax`; a token the
 * server did not issue (or one that expired) is never adopted; every
 * response gets `Vary: Cookie`, and one that sets the cookie also gets
 * `Cache-Control: no-cache="Set-Cookie"`, so caches never share a session.
 *
 * @example The seed example: put and get a message
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemStore, SessionManager } from "@sessions/memstore";
 *
 * using sessions = new SessionManager<{ message: string }>({ store: new MemStore({ cleanupInterval: 0 }) });
 * const handler = sessions.loadAndSave((request, session) => {
 *   if (new URL(request.url).pathname === "/put") {
 *     session.put("message", "Hello from a session!");
 *     return new Response(null);
 *   }
 *   return new Response(session.get("message") ?? "");
 * });
 *
 * const put = await handler(new Request("http://localhost/put"));
 * const cookie = put.headers.get("set-cookie")!.split(";")[0]!;
 * const get = await handler(new Request("http://localhost/get", { headers: { cookie } }));
 * assert.equal(await get.text(), "Hello from a session!");
 * ```
 */
export class SessionManager<T extends object = Record<string, unknown>>
  implements Disposable {
  #store: Store;
  #ownStore: MemStore | undefined;
  #lifetime: number;
  #idleTimeout: number;
  #cookie: SessionCookie;
  #hash: boolean;
  #codec: Codec;
  #onError: (error: unknown, request: Request) => Response | Promise<Response>;
  #onDropped: (dropped: DroppedChanges) => void;
  /** Set for a plain MemStore with jsonCodec: bytes read and stored uncopied. */
  #fast: FastPath | undefined;
  /** Decoded sessions by their stored bytes, for the fast path. */
  #decoded = new WeakMap<Uint8Array, Decoded>();
  /** The last save queued for each stored session (stores other than the fast path). */
  #saving = new Map<string, Promise<unknown>>();
  /** Why the stored sessions this manager ended most recently ended. */
  #ended = new Map<string, "destroyed" | "renewed">();

  /**
   * Creates a session manager.
   *
   * @param options Store, timeouts, cookie and codec.
   * @throws {TypeError} When an option has the wrong type, or the cookie
   * options are impossible (a name or path a cookie cannot hold, an unknown
   * `sameSite`, `sameSite: "None"` or `partitioned` without `secure`).
   * @throws {RangeError} When `lifetime` is not positive or `idleTimeout` is
   * negative.
   *
   * @example Cookie options for production
   * ```ts
   * import { SessionManager } from "@sessions/memstore";
   *
   * using sessions = new SessionManager({
   *   lifetime: 12 * 60 * 60 * 1000, // 12 hours at most
   *   idleTimeout: 30 * 60 * 1000, // or 30 minutes without a request
   *   cookie: { name: "__Host-session", secure: true, sameSite: "Strict" },
   * });
   * ```
   */
  constructor(options: SessionManagerOptions = {}) {
    if (typeof options !== "object" || options === null) {
      throw optionError("options", "must be an object", options);
    }
    const {
      store,
      codec = jsonCodec,
      onError = defaultOnError,
      onDropped = defaultOnDropped,
      hashTokenInStore = false,
    } = options;
    this.#lifetime = checkDuration(
      "lifetime",
      options.lifetime,
      86_400_000,
      Number.MIN_VALUE,
    );
    this.#idleTimeout = checkDuration("idleTimeout", options.idleTimeout, 0, 0);
    this.#cookie = sessionCookie(options.cookie);
    if (typeof hashTokenInStore !== "boolean") {
      throw optionError(
        "hashTokenInStore",
        "must be a boolean",
        hashTokenInStore,
      );
    }
    this.#hash = hashTokenInStore;
    if (
      typeof codec !== "object" || codec === null ||
      typeof codec.encode !== "function" ||
      typeof codec.decode !== "function"
    ) {
      throw optionError("codec", "must have encode and decode methods", codec);
    }
    this.#codec = codec;
    if (typeof onError !== "function") {
      throw optionError("onError", "must be a function", onError);
    }
    this.#onError = onError;
    if (typeof onDropped !== "function") {
      throw optionError("onDropped", "must be a function", onDropped);
    }
    this.#onDropped = onDropped;
    if (store === undefined) {
      this.#ownStore = new MemStore();
      this.#store = this.#ownStore;
    } else if (
      typeof store === "object" && store !== null &&
      typeof store.find === "function" &&
      typeof store.commit === "function" && typeof store.delete === "function"
    ) {
      this.#store = store;
    } else {
      throw optionError(
        "store",
        "must have find, commit and delete methods",
        store,
      );
    }
    // A MemStore whose find, commit and delete are its own, with our own codec:
    // read and store bytes without copying them, and keep them decoded.
    const own = this.#store as MemStore;
    if (
      codec === jsonCodec && own.find === MemStore.prototype.find &&
      own.commit === MemStore.prototype.commit &&
      own.delete === MemStore.prototype.delete
    ) {
      this.#fast = fastPaths.get(own);
    }
  }

  /** The store sessions are kept in. */
  get store(): Store {
    return this.#store;
  }

  /**
   * Wraps a handler so that each request gets its session. Use the result as
   * a `Deno.serve` handler, or with any server that takes a
   * `(request) => Response` function.
   *
   * After the handler returns, a modified session is saved before the
   * response is returned, and the response gets the session cookie; a
   * destroyed one gets a cookie that deletes it; an unmodified one, no
   * cookie and no store write. When the store fails, the response is
   * `onError`'s.
   *
   * @param handler The request handler, given the session.
   * @returns A handler for `Deno.serve`.
   *
   * @example Serving with sessions
   * ```ts ignore
   * import { SessionManager } from "@sessions/memstore";
   *
   * const sessions = new SessionManager<{ message: string }>();
   * Deno.serve(sessions.loadAndSave((_request, session) => {
   *   session.put("message", "Hello from a session!");
   *   return new Response("ok");
   * }));
   * ```
   */
  loadAndSave<Info = Deno.ServeHandlerInfo>(
    handler: SessionHandler<T, Info>,
  ): (request: Request, info?: Info) => Promise<Response> {
    const cookieName = this.#cookie.name;
    return async (request: Request, info?: Info): Promise<Response> => {
      const header = request.headers.get("cookie");
      const token = header === null ? undefined : readToken(header, cookieName);
      let session: SessionImpl<T> | Promise<SessionImpl<T>>;
      try {
        session = token === undefined ? this.#create() : this.#load(token);
        if (session instanceof Promise) session = await session;
      } catch (error) {
        return finish(await this.#onError(error, request), undefined);
      }
      let response = handler(request, session, info as Info);
      if (!(response instanceof Response)) response = await response;
      if (!(response instanceof Response)) {
        throw new TypeError(
          `Cannot send the response: the handler returned ${
            describe(response)
          }, not a Response`,
        );
      }
      const state = stateOf(session)!;
      let cookie: string | undefined;
      if (state.status !== "unmodified" || state.touch) {
        try {
          let saved = this.#save(state, request);
          if (saved instanceof Promise) saved = await saved;
          cookie = saved === undefined ? deleteToken(this.#cookie) : writeToken(
            this.#cookie,
            saved.token,
            this.#cookie.persist || state.rememberMe ? saved.expiry : undefined,
            !this.#hash, // a hashed store keeps no token, nor do we
          );
        } catch (error) {
          return finish(await this.#onError(error, request), undefined);
        }
      }
      return finish(response, cookie);
    };
  }

  /**
   * Loads the session of a token, for work outside HTTP (a WebSocket, a job,
   * a test). A token that is malformed, unknown or expired gives a new,
   * empty session.
   *
   * @param token A session token.
   * @returns The session.
   * @throws {TypeError} When `token` is not a string.
   *
   * @example Reading a session by its token
   * ```ts
   * import assert from "node:assert/strict";
   * import { SessionManager } from "@sessions/memstore";
   *
   * using sessions = new SessionManager<{ userId: number }>();
   * const session = await sessions.load("");
   * session.put("userId", 42);
   * const { token } = await sessions.commit(session);
   * assert.equal((await sessions.load(token)).get("userId"), 42);
   * ```
   */
  async load(token: string): Promise<Session<T>> {
    if (typeof token !== "string") {
      throw new TypeError(
        `Cannot load session: token must be a string, received ${
          describe(token)
        }`,
      );
    }
    return isToken(token) ? await this.#load(token) : this.#create();
  }

  /**
   * Saves a session, issuing a token when it has none, and deletes what
   * `destroy()` or `renewToken()` left behind.
   *
   * @param session A session from this manager.
   * @returns The token and when the stored session expires; for a destroyed
   * session, `""` and the epoch.
   * @throws {TypeError} When `session` did not come from a `SessionManager`.
   *
   * @example Saving a session made outside a request
   * ```ts
   * import assert from "node:assert/strict";
   * import { SessionManager } from "@sessions/memstore";
   *
   * using sessions = new SessionManager({ idleTimeout: 60_000 });
   * const session = await sessions.load("");
   * session.put("job", "done");
   * const { token, expiry } = await sessions.commit(session);
   * assert.equal(token.length, 43);
   * assert.ok(expiry.getTime() <= Date.now() + 60_000);
   * ```
   */
  async commit(session: Session<T>): Promise<{ token: string; expiry: Date }> {
    const state = stateOf(session);
    if (state === undefined) {
      throw new TypeError(
        `Cannot commit session: expected a Session from a SessionManager, received ${
          describe(session)
        }`,
      );
    }
    const saved = await this.#save(state);
    return saved === undefined
      ? { token: "", expiry: new Date(0) }
      : { token: saved.token, expiry: new Date(saved.expiry) };
  }

  /**
   * Calls `fn` for every live session of the store, and saves what it
   * changes when it returns; `destroy()` deletes that session. Sessions that
   * cannot be decoded are skipped.
   *
   * @param fn Called with each session in turn.
   * @throws {TypeError} When the store cannot list its sessions (it is not
   * an {@linkcode IterableStore}).
   *
   * @example Signing a user out everywhere
   * ```ts
   * import assert from "node:assert/strict";
   * import { SessionManager } from "@sessions/memstore";
   *
   * using sessions = new SessionManager<{ userId: number }>();
   * for (const userId of [1, 2, 1]) {
   *   const session = await sessions.load("");
   *   session.put("userId", userId);
   *   await sessions.commit(session);
   * }
   * await sessions.iterate((session) => {
   *   if (session.get("userId") === 1) session.destroy();
   * });
   * let left = 0;
   * await sessions.iterate(() => void left++);
   * assert.equal(left, 1);
   * ```
   */
  async iterate(
    fn: (session: Session<T>) => void | Promise<void>,
  ): Promise<void> {
    const store = this.#store as Partial<IterableStore>;
    if (typeof store.all !== "function") {
      throw new TypeError(
        "Cannot iterate sessions: the store has no all() method (it is not an IterableStore)",
      );
    }
    const now = Date.now();
    for (const [key, bytes] of await store.all()) {
      const data = this.#decode(bytes);
      if (data === undefined || data.deadline <= now) continue;
      const session = this.#session(
        this.#hash ? "" : key,
        key,
        data,
        false,
        bytes,
      );
      stateOf(session)!.touch = false;
      await fn(session);
      const state = stateOf(session)!;
      if (state.status !== "unmodified") await this.#save(state);
    }
  }

  /** Disposes the store the manager created for itself; a store it was given is left alone. */
  [Symbol.dispose](): void {
    this.#ownStore?.[Symbol.dispose]();
  }

  /** A new, empty session: no token until it is saved. */
  #create(): SessionImpl<T> {
    const data: Decoded = {
      deadline: Date.now() + this.#lifetime,
      values: new Map(),
      rememberMe: undefined,
    };
    return this.#session("", "", data, false, undefined);
  }

  #session(
    token: string,
    key: string,
    data: Decoded,
    shared: boolean,
    bytes: Uint8Array | undefined,
  ): SessionImpl<T> {
    return new SessionImpl({
      token,
      key,
      origin: key,
      base: bytes,
      deadline: data.deadline,
      values: data.values,
      shared,
      dirty: bytes === undefined,
      changes: undefined,
      deadlineSet: false,
      rememberMeSet: false,
      ended: false,
      status: "unmodified",
      rememberMe: data.rememberMe,
      // A stored session with an idle timeout is saved on every request.
      touch: key !== "" && this.#idleTimeout > 0,
      lifetime: this.#lifetime,
      codec: this.#codec,
    });
  }

  /**
   * The session of a well-formed token, or a new one. Synchronous for a
   * plain MemStore without hashing: no promise on the hot path.
   */
  #load(token: string): SessionImpl<T> | Promise<SessionImpl<T>> {
    if (this.#hash) {
      return hashToken(token).then((key) => this.#loadKey(token, key));
    }
    return this.#loadKey(token, token);
  }

  #loadKey(
    token: string,
    key: string,
  ): SessionImpl<T> | Promise<SessionImpl<T>> {
    const fast = this.#fast;
    if (fast === undefined) {
      return this.#store.find(key).then((bytes) =>
        bytes === undefined
          ? this.#create()
          : this.#live(token, key, this.#decode(bytes), false, bytes)
      );
    }
    const bytes = fast.peek(key);
    if (bytes === undefined) return this.#create();
    let data = this.#decoded.get(bytes);
    if (data !== undefined) return this.#live(token, key, data, true, bytes);
    data = this.#decode(bytes);
    const shared = data !== undefined && flat(data.values);
    if (shared) this.#decoded.set(bytes, data!);
    return this.#live(token, key, data, shared, bytes);
  }

  /** A session from stored data, unless the data is missing or past its deadline. */
  #live(
    token: string,
    key: string,
    data: Decoded | undefined,
    shared: boolean,
    bytes: Uint8Array,
  ): SessionImpl<T> {
    return data === undefined || !(data.deadline > Date.now())
      ? this.#create()
      : this.#session(token, key, data, shared, bytes);
  }

  /** Decodes stored bytes; `undefined` (and a warning) when they are not a session. */
  #decode(bytes: Uint8Array): Decoded | undefined {
    try {
      const data = this.#codec.decode(bytes);
      if (
        !(data.deadline instanceof Date) || typeof data.values !== "object" ||
        data.values === null
      ) {
        throw new TypeError("the codec returned no deadline or values");
      }
      return {
        deadline: data.deadline.getTime(),
        values: new Map(Object.entries(data.values)),
        rememberMe: data.rememberMe,
      };
    } catch (error) {
      console.warn("Ignoring a stored session that cannot be decoded:", error);
      return undefined;
    }
  }

  /**
   * Saves a session: its token and store expiry, or `undefined` when it was
   * destroyed or its changes were dropped. Synchronous for a plain MemStore
   * without hashing.
   */
  #save(
    state: State,
    request?: Request,
  ): Saved | undefined | Promise<Saved | undefined> {
    if (state.status !== "destroyed" && state.key === "") {
      state.token = newToken();
      if (this.#hash) {
        return hashToken(state.token).then((key) => {
          state.key = key;
          return this.#saveAt(state, request);
        });
      }
      state.key = state.token;
    }
    return this.#saveAt(state, request);
  }

  /**
   * Saves a session under its key: this request's changes on top of the
   * session as stored now, and deletes the stored session it came from when
   * the key changed. Saves of one stored session never interleave: over the
   * fast path they run without a pause, over any other store in turn.
   */
  #saveAt(
    state: State,
    request: Request | undefined,
  ): Saved | undefined | Promise<Saved | undefined> {
    const origin = state.origin;
    const ended = state.ended;
    const merge = origin !== "" && !ended;
    const fast = this.#fast;
    if (fast !== undefined) {
      if (merge && !this.#rebase(state, fast.read(origin))) {
        return this.#drop(state, request);
      }
      let saved: Saved | undefined;
      if (state.status !== "destroyed") {
        const bytes = this.#bytes(state);
        saved = this.#saved(state);
        fast.adopt(state.key, bytes, saved.expiry);
        if (bytes !== state.base && flat(state.values)) {
          // The next request reads these values without decoding them.
          state.shared = true;
          this.#decoded.set(bytes, {
            deadline: state.deadline,
            values: state.values,
            rememberMe: state.rememberMe,
          });
        }
        settle(state, bytes);
      }
      if (origin !== "" && origin !== state.key) {
        fast.drop(origin);
        this.#left(state, origin, ended);
      }
      return saved;
    }
    const save = async (): Promise<Saved | undefined> => {
      if (merge && !this.#rebase(state, await this.#store.find(origin))) {
        return this.#drop(state, request);
      }
      let saved: Saved | undefined;
      if (state.status !== "destroyed") {
        const bytes = this.#bytes(state);
        saved = this.#saved(state);
        await this.#store.commit(state.key, bytes, new Date(saved.expiry));
        settle(state, bytes);
      }
      if (origin !== "" && origin !== state.key) {
        await this.#store.delete(origin);
        this.#left(state, origin, ended);
      }
      return saved;
    };
    return origin === "" ? save() : this.#inTurn(origin, save);
  }

  /** Runs `work` after every save of the same stored session queued before it. */
  #inTurn<R>(origin: string, work: () => Promise<R>): Promise<R> {
    const saving = this.#saving;
    const before = saving.get(origin);
    const run = before === undefined ? work() : before.then(work);
    const done = run.then(noop, noop);
    saving.set(origin, done);
    done.then(() => {
      if (saving.get(origin) === done) saving.delete(origin);
    });
    return run;
  }

  /**
   * Puts this request's changes on top of `current`, the session's stored
   * bytes now. `false` when the session is gone (or past its deadline):
   * then nothing may be saved.
   */
  #rebase(state: State, current: Uint8Array | undefined): boolean {
    if (current === undefined) return false;
    const base = state.base;
    if (current === base || (base !== undefined && sameBytes(current, base))) {
      return true; // no other request saved it since
    }
    const data = this.#decoded.get(current) ?? this.#decode(current);
    if (data === undefined || !(data.deadline > Date.now())) return false;
    const values = new Map(data.values);
    for (const [key, value] of state.changes ?? []) {
      if (value === REMOVED) values.delete(key);
      else values.set(key, value);
    }
    state.values = values;
    state.shared = false;
    if (!state.deadlineSet) state.deadline = data.deadline;
    if (!state.rememberMeSet) state.rememberMe = data.rememberMe;
    state.base = current;
    state.dirty = state.changes !== undefined || state.deadlineSet ||
      state.rememberMeSet;
    return true;
  }

  /** Gives up a save whose session ended meanwhile: the cookie is cleared. */
  #drop(state: State, request: Request | undefined): undefined {
    const reason = this.#ended.get(state.origin) ?? "expired";
    state.token = "";
    state.key = "";
    state.origin = "";
    state.status = "destroyed";
    this.#onDropped({ reason, request });
    return undefined;
  }

  /**
   * After a save deleted the stored session a session came from: requests
   * still running on it will learn why it ended, if it is among the last
   * {@linkcode ENDED_KEPT} sessions ended.
   */
  #left(state: State, origin: string, destroyed: boolean): void {
    const ended = this.#ended;
    ended.set(origin, destroyed ? "destroyed" : "renewed");
    if (ended.size > ENDED_KEPT) ended.delete(ended.keys().next().value!);
    if (state.status === "destroyed") {
      state.origin = "";
      state.base = undefined;
    }
  }

  /** The bytes to store: the stored ones when nothing changed. */
  #bytes(state: State): Uint8Array {
    let bytes = state.base;
    if (state.dirty || bytes === undefined) {
      const data: SessionData = {
        deadline: new Date(state.deadline),
        values: Object.fromEntries(state.values),
      };
      if (state.rememberMe !== undefined) data.rememberMe = state.rememberMe;
      bytes = this.#codec.encode(data);
    }
    return bytes;
  }

  /** The token and store expiry of a session being saved. */
  #saved(state: State): Saved {
    const expiry = this.#idleTimeout > 0
      ? Math.min(state.deadline, Date.now() + this.#idleTimeout)
      : state.deadline;
    return { token: state.token, expiry };
  }
}
