// Finishing a request's session, in one place, top to bottom (SCS does it
// in commitAndWriteSessionCookie):
//
// 1. whether the session needs saving: a modified or destroyed one does; an
//    unmodified one only for an idle timeout's touch that is due;
// 2. the save (`Saver.save` in _save.ts: compare-and-set, merging, markers);
// 3. the Set-Cookie its outcome calls for: the token's cookie when saved, a
//    deletion cookie when ended, none when dropped (reported to onDropped);
// 4. the response's headers (_headers.ts): Vary always, and with a cookie
//    Set-Cookie and Cache-Control, on a copy of the handler's response;
// 5. when the store failed: onError's response instead, the handler's body
//    released.
//
// Each step runs synchronously while the store answers synchronously
// (MemStore), so a request over an in-memory store makes no promise here.

import type { SessionCookie } from "./_cookie.ts";
import { addSessionHeaders, withSessionHeaders } from "./_headers.ts";
import type { ManagerConfig } from "./_manager_options.ts";
import type { RequestSession } from "./_request_session.ts";
import type { SaveOutcome, Saver } from "./_save.ts";
import type { DroppedChanges } from "./options.ts";

function defaultOnError(error: unknown, request: Request): Response {
  console.error(
    `Session store failed for ${request.method} ${request.url}:`,
    error,
  );
  return new Response("Internal Server Error", { status: 500 });
}

function defaultOnDropped({ reason, request }: DroppedChanges): void {
  console.warn(
    `Dropped the session changes of ${
      request === undefined ? "a commit" : `${request.method} ${request.url}`
    }: the session was ${reason} while it ran`,
  );
}

/** Finishes requests' sessions: saves them and answers with their headers. */
export class Finisher {
  #saver: Saver;
  #cookie: SessionCookie;
  #idleTimeout: number;
  /** With `users`: how old a bound session's lastSeen may get. */
  #seenEvery: number;
  #onError: (error: unknown, request: Request) => Response | Promise<Response>;
  #onDropped: (dropped: DroppedChanges) => void;

  constructor(saver: Saver, cookie: SessionCookie, config: ManagerConfig) {
    this.#saver = saver;
    this.#cookie = cookie;
    this.#idleTimeout = config.idleTimeout;
    this.#seenEvery = config.users?.seenEvery ?? Infinity;
    this.#onError = config.onError ?? defaultOnError;
    this.#onDropped = config.onDropped ?? defaultOnDropped;
  }

  /**
   * The response to send for a handler's `response`: the session saved,
   * and its headers on a copy; `onError`'s response when the store failed.
   */
  respond(
    state: RequestSession,
    response: Response,
    request: Request,
  ): Response | Promise<Response> {
    let cookie: string | undefined | Promise<string | undefined>;
    try {
      cookie = this.#save(state, request);
    } catch (error) {
      return this.#failed(error, response, request);
    }
    if (!(cookie instanceof Promise)) {
      return withSessionHeaders(response, cookie);
    }
    return cookie.then(
      (value) => withSessionHeaders(response, value),
      (error) => this.#failed(error, response, request),
    );
  }

  /**
   * `respond` for a response made for one request: the headers are added
   * to `headers` in place. `undefined` when saved; `onError`'s response,
   * to send instead, when the store failed.
   */
  async addHeaders(
    state: RequestSession,
    headers: Headers,
    request: Request,
  ): Promise<Response | undefined> {
    let cookie: string | undefined;
    try {
      cookie = await this.#save(state, request);
    } catch (error) {
      return await this.errorResponse(error, request);
    }
    addSessionHeaders(headers, cookie);
    return undefined;
  }

  /** Saves a session outside a request, whatever its status. */
  async commit(state: RequestSession): Promise<SaveOutcome> {
    const outcome = await this.#saver.save(state);
    this.#cookieFor(outcome, state, true, undefined);
    return outcome;
  }

  /** `onError`'s response to a store failure, with `Vary: Cookie`. */
  async errorResponse(error: unknown, request: Request): Promise<Response> {
    return withSessionHeaders(await this.#onError(error, request), undefined);
  }

  /**
   * Steps 1 to 3: saves the session if it needs saving, and gives the
   * Set-Cookie value to send, if any.
   */
  #save(
    state: RequestSession,
    request: Request,
  ): string | undefined | Promise<string | undefined> {
    const changed = state.status !== "unmodified";
    const device = state.device;
    let seen = false;
    const kind = state.life.kind;
    if (device !== undefined && (kind === "loaded" || kind === "renewed")) {
      // A bound session's lastSeen: written with any write, and on its own
      // once older than seenEvery.
      const now = Date.now();
      seen = now - device.seen >= this.#seenEvery;
      if (seen || state.dirty) state.see(now);
    }
    if (!changed && !seen && !this.#touchDue(state)) return undefined;
    const outcome = this.#saver.save(state);
    return outcome instanceof Promise
      ? outcome.then((saved) => this.#cookieFor(saved, state, changed, request))
      : this.#cookieFor(outcome, state, changed, request);
  }

  /**
   * Whether an unmodified session is saved anyway, to push its expiry back:
   * with an idle timeout, when the save would need a write.
   */
  #touchDue(state: RequestSession): boolean {
    if (this.#idleTimeout === 0 || state.life.kind !== "loaded") return false;
    return this.#saver.needsWrite(state, state.life.from.stored);
  }

  /**
   * The Set-Cookie value a save calls for, if any. A save dropped because
   * the session ended elsewhere sets none: the old token is dead in the
   * store already, and the browser may hold a newer cookie (a sign-in that
   * overlapped this request) that clearing would throw away.
   */
  #cookieFor(
    outcome: SaveOutcome,
    state: RequestSession,
    changed: boolean,
    request: Request | undefined,
  ): string | undefined {
    switch (outcome.kind) {
      case "saved":
        if (!outcome.cookie) return undefined;
        return this.#cookie.write(
          outcome.token,
          this.#cookie.persistent(state.rememberMe)
            ? outcome.expiry
            : undefined,
        );
      case "ended":
        return this.#cookie.clear;
      case "dropped":
        if (changed) this.#onDropped({ reason: outcome.reason, request });
        return undefined;
    }
  }

  /** Step 5: `onError`'s response, in place of the handler's `response`. */
  async #failed(
    error: unknown,
    response: Response,
    request: Request,
  ): Promise<Response> {
    // The handler's body is not sent: release what it holds (a file).
    response.body?.cancel().catch(() => {});
    return await this.errorResponse(error, request);
  }
}
