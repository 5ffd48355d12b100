/**
 * {@linkcode SessionManager}: sessions for `Deno.serve` handlers, SCS's
 * `LoadAndSave` for Deno. It reads the session cookie, loads the session
 * before the handler runs, and saves it (and sets the cookie) before the
 * response is returned.
 *
 * @module
 */

import { SessionCookie } from "./_cookie.ts";
import { ContentsCodec } from "./_contents.ts";
import { cannot, valueName } from "./_errors.ts";
import { Finisher } from "./_finish.ts";
import { WebResponse } from "./_headers.ts";
import { SessionOpener } from "./_open.ts";
import { managerConfig } from "./_manager_options.ts";
import { Saver } from "./_save.ts";
import { SessionHandle } from "./_session.ts";
import { StoreAccess } from "./_store_access.ts";
import { isToken } from "./_token.ts";
import { MemStore } from "./memstore.ts";
import { Users } from "./_users.ts";
import type { UserSessions } from "./user_sessions.ts";
import type { SessionManagerOptions } from "./options.ts";
import type { RequestWithHeaders, Session, SessionHandler } from "./session.ts";
import type { IterableStore, Store } from "./store.ts";

// The types its API names, for readers of this module alone.
export type {
  RequestWithHeaders,
  Session,
  SessionHandler,
  SessionStatus,
} from "./session.ts";
export type { Store } from "./store.ts";
export type { UserSession, UserSessions } from "./user_sessions.ts";

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
  #opener: SessionOpener<T>;
  #finisher: Finisher;
  #users: UserSessions | undefined;

  /**
   * Creates a session manager.
   *
   * @param options Store, timeouts, cookie and codec.
   * @throws {TypeError} When an option has the wrong type, or the cookie
   * options are impossible (a name or path a cookie cannot hold, an unknown
   * `sameSite`; `sameSite: "None"`, `partitioned` or a `__Secure-` or
   * `__Host-` name without `secure`), or `users` is given with a store
   * that has no per-user index.
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
    const config = managerConfig(options);
    this.#ownStore = config.store === undefined ? new MemStore() : undefined;
    this.#store = config.store ?? this.#ownStore!;
    // A hashed store keeps no token, nor does the cookie writer.
    const cookie = new SessionCookie(config.cookie, !config.hashTokenInStore);
    const contents = new ContentsCodec(config.codec);
    const access = new StoreAccess(this.#store, config.storeTimeout);
    this.#opener = new SessionOpener(access, contents, cookie, config);
    const saver = new Saver(access, contents, config);
    this.#finisher = new Finisher(saver, cookie, config);
    this.#users = config.users && new Users(access, contents, saver);
  }

  /** The store sessions are kept in. */
  get store(): Store {
    return this.#store;
  }

  /**
   * The sessions of one user: list them (a device list), sign out one, or
   * all. Sessions are bound to users by the `users` option.
   *
   * @throws {TypeError} When the manager was made without `users`.
   *
   * @example Signing out everywhere
   * ```ts
   * import assert from "node:assert/strict";
   * import { SessionManager } from "@sessions/memstore";
   *
   * using sessions = new SessionManager({ users: { key: "userId" } });
   * const session = await sessions.load("");
   * session.put("userId", "ada");
   * await sessions.commit(session);
   * assert.equal((await sessions.users.list("ada")).length, 1);
   * assert.equal(await sessions.users.revokeAll("ada"), 1);
   * assert.equal((await sessions.users.list("ada")).length, 0);
   * ```
   */
  get users(): UserSessions {
    if (this.#users === undefined) {
      throw new TypeError(
        'Cannot list user sessions: the SessionManager was made without the users option (e.g. users: { key: "userId" })',
      );
    }
    return this.#users;
  }

  /**
   * Wraps a handler so that each request gets its session. Use the result as
   * a `Deno.serve` handler, or with any server that takes a
   * `(request) => Response` function.
   *
   * After the handler returns, a modified session is saved before the
   * response is returned; a destroyed one is ended; an unmodified one makes
   * no store write. The response gets the session cookie only when what the
   * browser holds must change (a new session or token, a moved expiry, a
   * deletion). When the store fails, the response is `onError`'s.
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
  loadAndSave<Info = unknown>(
    handler: SessionHandler<T, Info>,
  ): (request: Request, info?: Info) => Promise<Response> {
    return async (request: Request, info?: Info): Promise<Response> => {
      let session: SessionHandle<T> | Promise<SessionHandle<T>>;
      try {
        session = this.#opener.openCookie(request.headers.get("cookie"));
        if (session instanceof Promise) session = await session;
      } catch (error) {
        return await this.errorResponse(error, request);
      }
      const state = SessionHandle.stateOf(session)!;
      state.request = request;
      state.info = info;
      let response = handler(request, session, info as Info);
      if (!(response instanceof WebResponse)) response = await response;
      if (!(response instanceof WebResponse)) {
        throw new TypeError(
          `Cannot send the response: the handler returned ${
            valueName(response)
          }, not a Response`,
        );
      }
      return await this.#finisher.respond(state, response, request);
    };
  }

  /**
   * Loads the session of a request, from its `Cookie` header: the first step
   * of `loadAndSave`, for frameworks with their own request cycle (see the
   * Hono and Oak middleware). A missing, malformed, unknown or expired token
   * gives a new, empty session.
   *
   * @param request The request, or anything with its `headers`.
   * @param info What the server gives of the connection, as
   * `Deno.ServeHandlerInfo`: its `remoteAddr` is the address kept with
   * `users.address`.
   * @returns The session.
   * @throws When the store fails (give the error to
   * {@linkcode SessionManager.errorResponse}).
   *
   * @example Loading and finishing by hand
   * ```ts
   * import assert from "node:assert/strict";
   * import { SessionManager } from "@sessions/memstore";
   *
   * using sessions = new SessionManager<{ n: number }>();
   * const request = new Request("http://localhost/");
   * const session = await sessions.loadRequest(request);
   * session.put("n", 1);
   * const response = await sessions.finish(session, new Response("ok"), request);
   * assert.match(response.headers.get("set-cookie")!, /^session=/);
   * assert.equal(response.headers.get("vary"), "Cookie");
   * ```
   */
  async loadRequest(
    request: RequestWithHeaders,
    info?: unknown,
  ): Promise<Session<T>> {
    const session = await this.#opener.openCookie(
      request.headers.get("cookie"),
    );
    const state = SessionHandle.stateOf(session)!;
    state.request = request;
    state.info = info;
    return session;
  }

  /**
   * Saves a session after its request's handler, and gives the response to
   * send: the second step of `loadAndSave`, with all it guarantees (merged
   * saves, no resurrection, `Vary: Cookie`, the cookie on a copy of
   * `response`, never on `response` itself). When the store fails, the
   * response is `onError`'s, and `response`'s body is cancelled.
   *
   * @param session The session from {@linkcode SessionManager.loadRequest}.
   * @param response The handler's response.
   * @param request The request, for `onError` and `onDropped`.
   * @returns The response to send.
   * @throws {TypeError} When `session` did not come from a `SessionManager`.
   *
   * @example Finishing a response
   * ```ts
   * import assert from "node:assert/strict";
   * import { SessionManager } from "@sessions/memstore";
   *
   * using sessions = new SessionManager();
   * const request = new Request("http://localhost/");
   * const session = await sessions.loadRequest(request);
   * const response = await sessions.finish(session, new Response("ok"), request);
   * assert.equal(response.headers.get("set-cookie"), null); // unmodified
   * ```
   */
  async finish(
    session: Session<T>,
    response: Response,
    request: Request,
  ): Promise<Response> {
    return await this.#finisher.respond(
      SessionHandle.stateFor(session, "finish"),
      response,
      request,
    );
  }

  /**
   * Saves a session and adds the session's headers to `headers` in place:
   * `finish` for frameworks whose response object is made for one request
   * (Oak's `ctx.response`). Never give it the headers of a `Response` that
   * can be sent twice.
   *
   * @param session The session from {@linkcode SessionManager.loadRequest}.
   * @param headers The response's headers, changed in place.
   * @param request The request, for `onError` and `onDropped`.
   * @returns `undefined` when saved; when the store failed, `onError`'s
   * response, to send instead (`headers` are then left as they were).
   * @throws {TypeError} When `session` did not come from a `SessionManager`.
   *
   * @example Adding the headers to a framework's response
   * ```ts
   * import assert from "node:assert/strict";
   * import { SessionManager } from "@sessions/memstore";
   *
   * using sessions = new SessionManager<{ n: number }>();
   * const request = new Request("http://localhost/");
   * const session = await sessions.loadRequest(request);
   * session.put("n", 1);
   * const headers = new Headers();
   * assert.equal(await sessions.finishHeaders(session, headers, request), undefined);
   * assert.match(headers.get("set-cookie")!, /^session=/);
   * ```
   */
  async finishHeaders(
    session: Session<T>,
    headers: Headers,
    request: Request,
  ): Promise<Response | undefined> {
    return await this.#finisher.addHeaders(
      SessionHandle.stateFor(session, "finish"),
      headers,
      request,
    );
  }

  /**
   * The response for a store failure: `onError`'s, with `Vary: Cookie`.
   * For frameworks whose {@linkcode SessionManager.loadRequest} failed.
   *
   * @param error What the store threw.
   * @param request The request.
   * @returns The response to send.
   *
   * @example The default: a 500
   * ```ts
   * import assert from "node:assert/strict";
   * import { SessionManager } from "@sessions/memstore";
   *
   * using sessions = new SessionManager({ onError: () => new Response("later", { status: 503 }) });
   * const response = await sessions.errorResponse(new Error("down"), new Request("http://localhost/"));
   * assert.equal(response.status, 503);
   * ```
   */
  async errorResponse(error: unknown, request: Request): Promise<Response> {
    return await this.#finisher.errorResponse(error, request);
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
      throw cannot("load session", "token must be a string", token);
    }
    return await this.#opener.open(isToken(token) ? token : undefined);
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
    const state = SessionHandle.stateFor(session, "commit");
    const outcome = await this.#finisher.commit(state);
    return outcome.kind === "saved"
      ? { token: outcome.token, expiry: new Date(outcome.expiry) }
      : { token: "", expiry: new Date(0) };
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
    for (const [key, data] of await store.all()) {
      const session = this.#opener.listed(key, data);
      if (session === undefined) continue;
      await fn(session);
      const state = SessionHandle.stateOf(session)!;
      if (state.status !== "unmodified") await this.commit(session);
    }
  }

  /** Disposes the store the manager created for itself; a store it was given is left alone. */
  [Symbol.dispose](): void {
    this.#ownStore?.[Symbol.dispose]();
  }
}
