// The Session a handler is given: it checks arguments, then changes the
// session's state.

import type { RequestSession } from "./_request_session.ts";
import { LAST_COOKIE_TIME } from "./_cookie.ts";
import { cannot } from "./_errors.ts";
import { checkUser } from "./_store_args.ts";
import type { Codec } from "./codec.ts";
import type { Session, SessionStatus } from "./session.ts";

/** The {@linkcode Session} given to handlers: checks arguments, then changes its state. */
export class SessionHandle<T extends object> implements Session<T> {
  #state: RequestSession;
  #codec: Codec;

  /** The state behind a session from a session manager, or `undefined`. */
  static stateOf: (session: unknown) => RequestSession | undefined;

  static {
    SessionHandle.stateOf = (session) =>
      typeof session === "object" && session !== null && #state in session
        ? session.#state
        : undefined;
  }

  /**
   * The state behind a session given to `action` ("finish", "commit");
   * a TypeError when it did not come from a session manager.
   */
  static stateFor(session: unknown, action: string): RequestSession {
    const state = SessionHandle.stateOf(session);
    if (state === undefined) {
      throw cannot(
        `${action} session`,
        "expected a Session from a SessionManager",
        session,
      );
    }
    return state;
  }

  /**
   * @param state The session's state.
   * @param codec Checks the values put.
   */
  constructor(state: RequestSession, codec: Codec) {
    this.#state = state;
    this.#codec = codec;
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
    return this.#state.get(key) as T[K] | undefined;
  }

  put<K extends keyof T & string>(key: K, value: T[K]): void {
    if (typeof key !== "string") {
      throw cannot("put a value", "key must be a string", key);
    }
    if (key === this.#state.userKey) {
      checkUser(`put ${JSON.stringify(key)} (the users key)`, value);
    }
    const codec = this.#codec;
    try {
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
    this.#state.put(key, value);
  }

  pop<K extends keyof T & string>(key: K): T[K] | undefined {
    const value = this.get(key);
    this.#state.remove(key);
    return value;
  }

  remove(key: keyof T & string): void {
    this.#state.remove(key);
  }

  has(key: keyof T & string): boolean {
    return this.#state.values.has(key);
  }

  keys(): (keyof T & string)[] {
    return [...this.#state.values.keys()].sort() as (keyof T & string)[];
  }

  clear(): void {
    this.#state.clear();
  }

  destroy(): void {
    this.#state.destroy();
  }

  renewToken(): void {
    this.#state.renew();
  }

  rememberMe(remember: boolean): void {
    if (typeof remember !== "boolean") {
      throw cannot("set rememberMe", "expected a boolean", remember);
    }
    this.#state.setRememberMe(remember);
  }

  setDeadline(deadline: Date): void {
    const time = deadline instanceof Date ? deadline.getTime() : NaN;
    if (Number.isNaN(time)) {
      throw cannot("set deadline", "expected a valid Date", deadline);
    }
    if (time > LAST_COOKIE_TIME) {
      throw new RangeError(
        `Cannot set deadline: it must be at most ${
          new Date(LAST_COOKIE_TIME).toISOString()
        } (the last date a cookie can carry), received ${deadline.toISOString()}`,
      );
    }
    this.#state.setDeadline(time);
  }
}
