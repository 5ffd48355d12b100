/**
 * {@linkcode UserSessions}: the sessions of one user, as a device list,
 * and signing out one device or all of them. Reached as
 * `SessionManager.users` with the manager's `users` option.
 *
 * @module
 */

import type { Session } from "./session.ts";

// The types its API names, for readers of this module alone.
export type { Session, SessionStatus } from "./session.ts";

/** One of a user's sessions, as a device list shows it. */
export interface UserSession {
  /**
   * The session's public id, to name it in a "sign out" form: random, and
   * nothing of the token or its store key can be derived from it.
   */
  id: string;
  /** When the session was bound to the user (their sign-in on this device). */
  created: Date;
  /**
   * When a request of the session was last seen: at most `users.seenEvery`
   * old while the session is in use.
   */
  lastSeen: Date;
  /** When the session expires, unless a request moves its idle timeout. */
  expiry: Date;
  /** The `User-Agent` of the request that signed in, trimmed. */
  userAgent: string;
  /** The client address of that request, with `users.address: true`. */
  address?: string;
  /** Whether it is the session of the request passed as `current`. */
  current: boolean;
}

/**
 * The sessions of one user: `list` them, `revoke` one, or `revokeAll`. A
 * revoked session ends as `destroy()` ends it: a request of it already in
 * flight (in this process or another sharing the store) cannot save it
 * back, and its next request gets a new, anonymous session. Each call costs
 * a read of the user's entries in the store's per-user index, never a scan
 * of all sessions.
 *
 * @example A device list, and signing out everywhere else
 * ```ts
 * import assert from "node:assert/strict";
 * import { SessionManager } from "@sessions/memstore";
 *
 * using sessions = new SessionManager({ users: { key: "userId" } });
 * const signIn = sessions.loadAndSave((_request, session) => {
 *   session.renewToken();
 *   session.put("userId", "ada");
 *   return new Response("signed in");
 * });
 * const laptop = await signIn(new Request("http://localhost/", { headers: { "user-agent": "Laptop" } }));
 * await signIn(new Request("http://localhost/", { headers: { "user-agent": "Phone" } }));
 *
 * const token = laptop.headers.get("set-cookie")!.split(/[=;]/)[1]!;
 * const here = await sessions.load(token);
 * const devices = await sessions.users.list("ada", here);
 * assert.deepEqual(devices.map((d) => d.userAgent).sort(), ["Laptop", "Phone"]);
 * assert.equal(devices.find((d) => d.current)?.userAgent, "Laptop");
 *
 * assert.equal(await sessions.users.revokeAll("ada", { except: here }), 1);
 * assert.deepEqual((await sessions.users.list("ada")).map((d) => d.userAgent), ["Laptop"]);
 * ```
 */
export interface UserSessions {
  /**
   * Lists a user's live sessions, the most recently seen first.
   *
   * @param user The user id.
   * @param current The session of the request asking, to mark its entry.
   * @returns The sessions; empty for an unknown user.
   * @throws {TypeError} When `user` is not a non-empty string.
   */
  list<T extends object>(
    user: string,
    current?: Session<T>,
  ): Promise<UserSession[]>;
  /**
   * Signs out one of a user's sessions.
   *
   * @param user The user id.
   * @param id The session's public id (from {@linkcode UserSessions.list}).
   * @returns `true` when it was ended; `false` when the user has no live
   * session with that id (an id of another user's session changes
   * nothing).
   * @throws {TypeError} When `user` or `id` is not a string.
   */
  revoke(user: string, id: string): Promise<boolean>;
  /**
   * Signs out every session of a user, or every one but `except`.
   *
   * @param user The user id.
   * @param options `except`: a session to keep (the current request's
   * `Session`, or a public id).
   * @returns How many sessions were ended.
   * @throws {TypeError} When `user` is not a non-empty string, or `except`
   * is neither a `Session` nor a string.
   */
  revokeAll<T extends object>(
    user: string,
    options?: { except?: Session<T> | string },
  ): Promise<number>;
}
