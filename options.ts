/**
 * The options of `SessionManager`: {@linkcode SessionManagerOptions}, with
 * {@linkcode CookieOptions} for its cookie. Every option is checked once,
 * when the manager is created: a bad value throws there, never on a
 * request. (Each store's options are beside the store: `MemStoreOptions`
 * in `@sessions/memstore/memstore`, `RedisStoreOptions` in `/redis`,
 * `KvStoreOptions` in `/kv`.)
 *
 * @module
 */

import type { Codec } from "./codec.ts";
import type { Store } from "./store.ts";

// The types its API names, for readers of this module alone.
export type { Codec, SessionData, SessionDevice } from "./codec.ts";
export type { Store } from "./store.ts";

/** Options for the session cookie. */
export interface CookieOptions {
  /**
   * The cookie's name. A name starting with `__Secure-` needs `secure`;
   * one starting with `__Host-` needs `secure`, `path: "/"` and no
   * `domain` (browsers reject such cookies otherwise).
   *
   * @default {"session"}
   */
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

/** Options for `SessionManager`. */
export interface SessionManagerOptions {
  /**
   * Where sessions are kept. By default, a `MemStore` that the manager owns
   * and disposes with itself; a store given here is never disposed by the
   * manager.
   */
  store?: Store;
  /**
   * Milliseconds from creation until a session ends, whatever its activity.
   * A deadline past the end of the year 9999 (the last a cookie can carry)
   * is moved back to it, so `Infinity` (or `Number.MAX_SAFE_INTEGER`)
   * means "no absolute limit".
   *
   * @default {86400000}
   */
  lifetime?: number;
  /**
   * Milliseconds without a request after which a session ends; 0 turns it
   * off. With an idle timeout, a request that changes nothing still saves
   * the session to push its expiry back.
   *
   * @default {0}
   */
  idleTimeout?: number;
  /**
   * With an idle timeout, how far a request must push the session's expiry
   * back, as a fraction of `idleTimeout`, before it moves the expiry (and
   * sends the cookie, which carries it). A request that changed nothing
   * saves nothing until then; one that changed values writes them and keeps
   * the stored expiry. The default, 0.1, moves the expiry at most once per
   * tenth of the idle timeout, so a page's parallel requests do not all
   * write or send a cookie; the session may then end up to a tenth of
   * `idleTimeout` early. 0 moves it on every request. Over a plain `Store`,
   * which does not say when a session expires, every request saves and
   * sends the cookie.
   *
   * @default {0.1}
   */
  touchAfter?: number;
  /** The session cookie. */
  cookie?: CookieOptions;
  /**
   * Milliseconds a store call that returns a promise may take. Past that,
   * the request goes to `onError` with a `DOMException` named
   * `"TimeoutError"`, and later saves of the session go ahead; the call
   * itself may still finish later. `Infinity` waits for ever. A store that
   * answers synchronously (`MemStore`) is never timed.
   *
   * @default {5000}
   */
  storeTimeout?: number;
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
   * while the request ran. By default, a warning is logged.
   */
  onDropped?: (dropped: DroppedChanges) => void;
  /**
   * Sessions of one user: binds each session to the user whose id it holds,
   * so that `SessionManager.users` can list a user's devices and sign them
   * out. Needs a store with the per-user index (`MemStore`, `RedisStore`,
   * `KvStore`: a `UserIndexStore`).
   */
  users?: UserSessionsOptions;
}

/** The `users` option of {@linkcode SessionManagerOptions}. */
export interface UserSessionsOptions {
  /**
   * The session value that holds the signed-in user's id, a string: putting
   * it binds the session to that user (with a new public id, the time and
   * the request's device), removing it (or `destroy()`) unbinds it. Sign in
   * with `renewToken()` and `put(key, userId)` in one request.
   */
  key: string;
  /**
   * Also keep the client address of the request that binds a session
   * (`Deno.ServeHandlerInfo.remoteAddr` given to `loadAndSave`'s handler,
   * or what a framework gives). Off by default: an address is personal
   * data.
   *
   * @default {false}
   */
  address?: boolean;
  /**
   * How old a session's `lastSeen` may get, in milliseconds: a request that
   * saves nothing else writes it once it is older. With an idle timeout, the
   * default is the interval at which a request moves the expiry
   * (`touchAfter` × `idleTimeout`), so no extra write is made; without one,
   * a minute.
   */
  seenEvery?: number;
}

/**
 * Why a request's changes to its session were dropped:
 * - `"destroyed"`: another request of the session (or
 *   `SessionManager.commit`) called `destroy()`;
 * - `"renewed"`: another request called `renewToken()`;
 * - `"expired"`: the store no longer has the session for any other reason:
 *   its timeout passed, a bounded store evicted it, or something other than
 *   a session manager deleted it.
 */
export type DropReason = "destroyed" | "renewed" | "expired";

/** Changes that were not saved because their session had ended. */
export interface DroppedChanges {
  /** Why the session is gone. */
  reason: DropReason;
  /** The request that made the changes; `undefined` for `SessionManager.commit` and `SessionManager.iterate`. */
  request: Request | undefined;
}
