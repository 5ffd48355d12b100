// Opening a request's session: the token of its cookie, the entry the store
// holds under it, decoded into a new session state and the `Session` the
// handler gets.

import type { SessionCookie } from "./_cookie.ts";
import type { ContentsCodec } from "./_contents.ts";
import type { ManagerConfig } from "./_manager_options.ts";
import { SessionHandle } from "./_session.ts";
import {
  type Contents,
  deadlineIn,
  type Origin,
  RequestSession,
} from "./_request_session.ts";
import type { Entry, StoreAccess } from "./_store_access.ts";
import { hashToken } from "./_token.ts";
import type { Codec } from "./codec.ts";
import { Binder } from "./_device.ts";

/** Opens sessions: new ones, and those the store holds. */
export class SessionOpener<T extends object> {
  #access: StoreAccess;
  #contents: ContentsCodec;
  #cookie: SessionCookie;
  #lifetime: number;
  #hash: boolean;
  #codec: Codec;
  #binder: Binder | undefined;

  constructor(
    access: StoreAccess,
    contents: ContentsCodec,
    cookie: SessionCookie,
    config: ManagerConfig,
  ) {
    this.#access = access;
    this.#contents = contents;
    this.#cookie = cookie;
    this.#lifetime = config.lifetime;
    this.#hash = config.hashTokenInStore;
    this.#codec = config.codec;
    this.#binder = config.users && new Binder(config.users);
  }

  /** The session of a request's `Cookie` header (`null`: none sent). */
  openCookie(
    header: string | null,
  ): SessionHandle<T> | Promise<SessionHandle<T>> {
    return this.open(header === null ? undefined : this.#cookie.read(header));
  }

  /**
   * The session of a token: a new, empty one when the token is missing,
   * malformed, unknown, expired or undecodable. Answered synchronously when there
   * is nothing to wait for (an in-memory store, tokens not hashed).
   */
  open(
    token: string | undefined,
  ): SessionHandle<T> | Promise<SessionHandle<T>> {
    if (token === undefined) return this.#new();
    if (this.#hash) {
      return hashToken(token).then((key) => this.#openAt(token, key));
    }
    return this.#openAt(token, token);
  }

  /** The session of what `all()` listed under `key`, if still live. */
  listed(key: string, data: Uint8Array): SessionHandle<T> | undefined {
    const decoded = this.#contents.decode(data, false);
    if (decoded === undefined || decoded.contents.deadline <= Date.now()) {
      return undefined;
    }
    const from = {
      key,
      token: this.#hash ? "" : key,
      version: undefined,
      data,
      stored: undefined,
    };
    return this.#handle(decoded.contents, from, false);
  }

  #openAt(
    token: string,
    key: string,
  ): SessionHandle<T> | Promise<SessionHandle<T>> {
    const found = this.#access.read(key);
    return found instanceof Promise
      ? found.then((entry) => this.#opened(token, key, entry))
      : this.#opened(token, key, found);
  }

  /** The session read from the store under `key`. */
  #opened(
    token: string,
    key: string,
    found: Entry | undefined,
  ): SessionHandle<T> {
    if (found === undefined || found.ended) return this.#new();
    const decoded = this.#contents.decode(found.data, this.#access.inMemory);
    if (decoded === undefined || !(decoded.contents.deadline > Date.now())) {
      return this.#new();
    }
    const from: Origin = {
      key,
      token,
      version: found.version,
      data: found.data,
      stored: found,
    };
    return this.#handle(decoded.contents, from, decoded.shared);
  }

  /** A new, empty session: no token until it is saved. */
  #new(): SessionHandle<T> {
    const contents = {
      deadline: deadlineIn(this.#lifetime),
      values: new Map(),
      rememberMe: undefined,
      device: undefined,
    };
    return this.#handle(contents, undefined, false);
  }

  #handle(
    contents: Contents,
    from: Origin | undefined,
    shared: boolean,
  ): SessionHandle<T> {
    const state = new RequestSession(
      contents,
      from,
      shared,
      this.#lifetime,
      this.#binder,
    );
    return new SessionHandle(state, this.#codec);
  }
}
