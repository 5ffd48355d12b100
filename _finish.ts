// Finishing a request's session: whether it needs saving (a change, or an
// idle-timeout touch that is due), the save, and the Set-Cookie value the
// outcome calls for.

import type { SessionCookie } from "./_cookie.ts";
import type { SaveOutcome, Saver } from "./_save.ts";
import type { RequestSession } from "./_request_session.ts";
import type { DroppedChanges } from "./options.ts";

function defaultOnDropped({ reason, request }: DroppedChanges): void {
  console.warn(
    `Dropped the session changes of ${
      request === undefined ? "a commit" : `${request.method} ${request.url}`
    }: the session was ${reason} while it ran`,
  );
}

/** What the finisher needs of the manager's configuration. */
export interface FinisherConfig {
  idleTimeout: number;
  onDropped: ((dropped: DroppedChanges) => void) | undefined;
}

/** Saves sessions after their requests, and says what cookie to send. */
export class SessionFinisher {
  #saver: Saver;
  #cookie: SessionCookie;
  #idleTimeout: number;
  #onDropped: (dropped: DroppedChanges) => void;

  constructor(saver: Saver, cookie: SessionCookie, config: FinisherConfig) {
    this.#saver = saver;
    this.#cookie = cookie;
    this.#idleTimeout = config.idleTimeout;
    this.#onDropped = config.onDropped ?? defaultOnDropped;
  }

  /**
   * Saves a session after its request, if it needs saving; the Set-Cookie
   * value to send, if any: synchronously when the store answers
   * synchronously, else as a promise.
   */
  save(
    state: RequestSession,
    request: Request,
  ): string | undefined | Promise<string | undefined> {
    if (state.status === "unmodified" && !this.#touchDue(state)) {
      return undefined;
    }
    const changed = state.status !== "unmodified";
    const outcome = this.#saver.save(state);
    return outcome instanceof Promise
      ? outcome.then((saved) => this.#cookieFor(saved, state, changed, request))
      : this.#cookieFor(outcome, state, changed, request);
  }

  /** Saves a session outside a request, whatever its status. */
  async commit(state: RequestSession): Promise<SaveOutcome> {
    const outcome = await this.#saver.save(state);
    this.#cookieFor(outcome, state, true, undefined);
    return outcome;
  }

  /**
   * Whether an unmodified session is saved anyway, to push its expiry back:
   * with an idle timeout, when the expiry would move by `touchAfter` of it
   * (always, when the store did not say when the session expires).
   */
  #touchDue(state: RequestSession): boolean {
    if (this.#idleTimeout === 0 || state.life.kind !== "loaded") return false;
    return this.#saver.expiryMoves(state, state.life.from.stored);
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
}
