/**
 * {@linkcode Session}: what a request handler sees of its session, its
 * values and what to do with it when the handler returns.
 *
 * @module
 */

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
   * @throws {RangeError} When `deadline` is past the end of the year 9999,
   * the last date a cookie can carry.
   */
  setDeadline(deadline: Date): void;
}

/**
 * What `SessionManager.loadRequest` reads of a request: its
 * headers' `get`. A `Request`, or a framework's own request object.
 */
export interface RequestWithHeaders {
  /** The request's headers. */
  readonly headers: { get(name: string): string | null };
}

/** A request handler that is given the request's session. */
export type SessionHandler<T extends object, Info> = (
  request: Request,
  session: Session<T>,
  info: Info,
) => Response | Promise<Response>;
