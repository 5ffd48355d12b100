// The state of one request's session: its values, what the request changed,
// and where the session stands in its life. A RequestSession owns its
// transitions; the manager's modules read it and call them.

import { LAST_COOKIE_TIME } from "./_cookie.ts";
import type { Binder, ClientRequest, Device } from "./_device.ts";
import type { Version } from "./store.ts";

/**
 * The deadline of a session that starts now and lasts `lifetime` ms: never
 * past the last moment a cookie can name, so `Number.MAX_SAFE_INTEGER`
 * means "no absolute limit".
 */
export function deadlineIn(lifetime: number): number {
  return Math.min(Date.now() + lifetime, LAST_COOKIE_TIME);
}

/** Where a session was loaded from (or last saved to). */
export interface Origin {
  /** The store key: the token, or its hash. */
  key: string;
  /** The token the client holds. */
  token: string;
  /** The stored version, when known (`undefined`: read it before writing). */
  version: Version | undefined;
  /** The stored bytes. */
  data: Uint8Array;
  /**
   * When the stored entry expires, as the store said when it was read
   * (read only when a save needs it); `undefined` when not known.
   */
  stored: { readonly expiry: Date | undefined } | undefined;
}

/**
 * Where a session stands, and so what its next save does:
 * - `new`: nothing is stored; a save creates it under a new token;
 * - `loaded`: a save writes this request's changes into `from`;
 * - `renewed`: a save moves the session to a new token and ends `from`;
 * - `destroyed`: a save ends `from`; with `restarted` (values were given
 *   after `destroy()`), it also creates a new session under a new token.
 */
export type Lifecycle =
  | { readonly kind: "new" }
  | { readonly kind: "loaded"; readonly from: Origin }
  | { readonly kind: "renewed"; readonly from: Origin | undefined }
  | {
    readonly kind: "destroyed";
    readonly from: Origin | undefined;
    readonly restarted: boolean;
  };

/** The change of a removed key. */
export const REMOVED: unique symbol = Symbol("removed");

/** The values and dates of a session, as decoded from its bytes. */
export interface Contents {
  deadline: number;
  values: Map<string, unknown>;
  rememberMe: boolean | undefined;
  /** The user and device the session is bound to, if any. */
  device: Device | undefined;
}

const NEW: Lifecycle = { kind: "new" };

/** One request's session. */
export class RequestSession {
  life: Lifecycle;
  values: Map<string, unknown>;
  /** `values` is shared with the decoded-session cache: copy before writing. */
  shared: boolean;
  deadline: number;
  rememberMe: boolean | undefined;
  /** The user and device the session is bound to (with `users`). */
  device: Device | undefined;
  /** The request, for the device of a session it binds. */
  request: ClientRequest | undefined = undefined;
  /** What the server said of the request's connection (its address). */
  info: unknown = undefined;
  /** What this request changed, key by key ({@linkcode REMOVED} for removals). */
  changes: Map<string, unknown> | undefined = undefined;
  deadlineSet = false;
  rememberMeSet = false;
  /** The contents differ from the loaded bytes: a save must encode them. */
  dirty: boolean;
  /** Something was changed: the session must be saved. */
  modified = false;
  /**
   * `get()` handed out an object this request did not put: changes made to
   * it in place must not be saved, so a save rebuilds the values from the
   * loaded bytes and this request's changes.
   */
  lent = false;
  #lifetime: number;
  #binder: Binder | undefined;

  constructor(
    contents: Contents,
    from: Origin | undefined,
    shared: boolean,
    lifetime: number,
    binder: Binder | undefined,
  ) {
    this.life = from === undefined ? NEW : { kind: "loaded", from };
    this.values = contents.values;
    this.shared = shared;
    this.deadline = contents.deadline;
    this.rememberMe = contents.rememberMe;
    this.device = contents.device;
    this.dirty = from === undefined;
    this.#lifetime = lifetime;
    this.#binder = binder;
  }

  /** The value key that binds the session to a user (`users.key`). */
  get userKey(): string | undefined {
    return this.#binder?.key;
  }

  /** The stored session this one comes from, if any. */
  get origin(): Origin | undefined {
    return this.life.kind === "new" ? undefined : this.life.from;
  }

  get token(): string {
    return this.life.kind === "loaded" ? this.life.from.token : "";
  }

  get status(): "unmodified" | "modified" | "destroyed" {
    const life = this.life;
    if (life.kind === "destroyed" && !life.restarted) return "destroyed";
    return this.modified ? "modified" : "unmodified";
  }

  /** A value, noting when an object the request did not put is handed out. */
  get(key: string): unknown {
    const value = this.values.get(key);
    if (
      typeof value === "object" && value !== null &&
      this.changes?.has(key) !== true
    ) {
      this.lent = true;
    }
    return value;
  }

  put(key: string, value: unknown): void {
    this.#change(key, value);
    const values = this.values;
    // The same primitive again changes nothing that is stored.
    if (
      values.get(key) !== value || !values.has(key) ||
      (typeof value === "object" && value !== null)
    ) {
      this.#writable().set(key, value);
    }
    if (key === this.#binder?.key) this.#rebind();
  }

  remove(key: string): void {
    if (this.values.has(key)) {
      this.#writable().delete(key);
      this.#change(key, REMOVED);
      if (key === this.#binder?.key) this.#rebind();
    }
  }

  clear(): void {
    if (this.values.size > 0) {
      for (const key of this.values.keys()) this.#change(key, REMOVED);
      this.values = new Map();
      this.shared = false;
      this.dirty = true;
      this.#rebind();
    }
  }

  destroy(): void {
    this.life = { kind: "destroyed", from: this.origin, restarted: false };
    this.values = new Map();
    this.shared = false;
    this.changes = undefined;
    this.rememberMe = undefined;
    this.device = undefined;
    this.#resetDeadline();
  }

  /** Marks a bound session seen at `now`: its next save writes that. */
  see(now: number): void {
    const device = this.device;
    if (device === undefined || device.seen === now) return;
    this.device = { ...device, seen: now };
    this.dirty = true;
  }

  renew(): void {
    const life = this.life;
    this.life = life.kind === "destroyed"
      ? { kind: "destroyed", from: life.from, restarted: true }
      : { kind: "renewed", from: this.origin };
    this.modified = true;
    this.#resetDeadline();
  }

  setRememberMe(remember: boolean): void {
    this.rememberMe = remember;
    this.rememberMeSet = true;
    this.dirty = true;
    this.#touched();
  }

  setDeadline(time: number): void {
    this.deadline = time;
    this.deadlineSet = true;
    this.dirty = true;
    this.#touched();
  }

  /** Puts this request's changes on top of `contents`, the session as stored now. */
  rebase(contents: Contents): void {
    const values = new Map(contents.values);
    for (const [key, value] of this.changes ?? []) {
      if (value === REMOVED) values.delete(key);
      else values.set(key, value);
    }
    this.values = values;
    this.shared = false;
    if (!this.deadlineSet) this.deadline = contents.deadline;
    if (!this.rememberMeSet) this.rememberMe = contents.rememberMe;
    this.device = contents.device;
    this.dirty = this.changes !== undefined || this.deadlineSet ||
      this.rememberMeSet;
    this.#rebind();
  }

  /** After a save: the session comes from where it was saved, unchanged. */
  saved(to: Origin): void {
    this.life = { kind: "loaded", from: to };
    this.changes = undefined;
    this.deadlineSet = false;
    this.rememberMeSet = false;
    this.dirty = false;
    this.modified = false;
    this.lent = false;
  }

  /** After a save ended the session (or found it ended): nothing is left to save. */
  ended(): void {
    this.life = { kind: "destroyed", from: undefined, restarted: false };
  }

  /** The values, copied first when they are shared with the cache. */
  #writable(): Map<string, unknown> {
    this.dirty = true;
    if (this.shared) {
      this.values = new Map(this.values);
      this.shared = false;
    }
    return this.values;
  }

  /**
   * Binds the session to the user its values name (with `users`), or
   * unbinds it: a new device when the user changes.
   */
  #rebind(): void {
    const binder = this.#binder;
    if (binder === undefined) return;
    const value = this.values.get(binder.key);
    const user = typeof value === "string" ? value : undefined;
    if (user === this.device?.user) return;
    this.device = user === undefined
      ? undefined
      : binder.bind(user, this.request, this.info);
    this.dirty = true;
  }

  #change(key: string, value: unknown): void {
    (this.changes ??= new Map()).set(key, value);
    this.#touched();
  }

  /** Marks the session changed; values given after destroy() restart it. */
  #touched(): void {
    this.modified = true;
    const life = this.life;
    if (life.kind === "destroyed" && !life.restarted) {
      this.life = { kind: "destroyed", from: life.from, restarted: true };
    }
  }

  /** A new token, or no session: the deadline starts again. */
  #resetDeadline(): void {
    this.deadline = deadlineIn(this.#lifetime);
    this.deadlineSet = true;
    this.dirty = true;
  }
}
