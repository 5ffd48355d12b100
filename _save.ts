// Saving a session: one algorithm for every store. A save writes with
// compare-and-set against the version the request loaded; when another
// request wrote meanwhile, it reads the session again, stops if it ended
// (destroyed, renewed or expired: it is never brought back), puts this
// request's changes on top, and tries again, a bounded number of times.
// Destroying or renewing leaves a marker under the old key that says so
// (_markers.ts); saves of one session take turns in a process (_turns.ts).
//
// The algorithm is written as generators that yield the store calls they
// need (`yield* read(key)` where async code would `await`); StoreAccess.run
// performs them, synchronously while the store answers synchronously
// (MemStore), so a save in memory makes no promise at all. The commonest
// saves take shortcuts around the steps: one that changes nothing makes no
// store call, and one written back to a MemStore makes no generator.

import type { ContentsCodec } from "./_contents.ts";
import type { ManagerConfig } from "./_manager_options.ts";
import {
  deadlineIn,
  type Origin,
  type RequestSession,
} from "./_request_session.ts";
import { endSession } from "./_end.ts";
import {
  backoff,
  type Entry,
  hashed,
  MAX_ATTEMPTS,
  pause,
  read,
  sameBytes,
  type Steps,
  type StoreAccess,
  tooManyConflicts,
  write,
} from "./_store_access.ts";
import { markerWrite, readMarker } from "./_markers.ts";
import { newToken } from "./_token.ts";
import { Turns } from "./_turns.ts";
import type { DropReason } from "./options.ts";
import type { Version, VersionedEntry, VersionedWrite } from "./store.ts";

/** What a save did, which decides the cookie. */
export type SaveOutcome =
  /**
   * Stored under `token` until `expiry` (ms); `cookie`: what the browser
   * holds must change (a new token, or an expiry or attribute the cookie
   * carries), so the response sets the cookie.
   */
  | { kind: "saved"; token: string; expiry: number; cookie: boolean }
  /** The session was destroyed, and ended in the store. */
  | { kind: "ended" }
  /** The session had ended elsewhere: this request's changes were not written. */
  | { kind: "dropped"; reason: DropReason };

/** What a write of a session stores, and whether its cookie must go again. */
interface Written {
  token: string;
  key: string;
  data: Uint8Array;
  expiry: number;
  cookie: boolean;
}

/** Saves sessions to one store. */
export class Saver {
  #access: StoreAccess;
  #contents: ContentsCodec;
  #options: ManagerConfig;
  /** Saves of one stored session take turns (see `save`). */
  #turns = new Turns();

  constructor(
    access: StoreAccess,
    contents: ContentsCodec,
    options: ManagerConfig,
  ) {
    this.#access = access;
    this.#contents = contents;
    this.#options = options;
  }

  /**
   * Saves a session, whatever its lifecycle: synchronously when the store
   * answers synchronously, else as a promise.
   */
  save(state: RequestSession): SaveOutcome | Promise<SaveOutcome> {
    const life = state.life;
    if (life.kind === "loaded") {
      const moves = this.#expiryMoves(state, life.from.stored);
      if (!state.dirty && !moves) return this.#kept(state, life.from);
      if (this.#access.inMemory) {
        const written = this.#writtenInMemory(state, life.from, moves);
        if (written !== undefined) return written;
      }
    }
    if (this.#access.inMemory) {
      return this.#access.run(this.#save(state, false));
    }
    const key = state.origin?.key;
    if (key === undefined) return this.#access.run(this.#save(state, false));
    // Saves of a session take turns in this process, so that they never
    // conflict with each other: only writes from other processes can. A
    // save queued behind another reads the session again before it writes:
    // the one before it most likely changed it. When the save before it
    // failed, it fails with the same error, without a store call (the store
    // is failing: each queued request answers in the time of one call, not
    // of all of them). An in-memory store needs no turns: its saves run
    // synchronously.
    return this.#turns.run([key], (behind) => {
      if (behind.failed) throw behind.error;
      return this.#access.run(this.#save(state, behind.waited));
    });
  }

  /**
   * A save that would store what is stored (the same bytes, an expiry that
   * need not move): no write, no read, and no cookie, on every store. The
   * browser's cookie is already right, so nothing can be sent that a
   * renewal meanwhile would make wrong.
   */
  #kept(state: RequestSession, from: Origin): SaveOutcome {
    state.saved(from);
    const at = from.stored?.expiry?.getTime() ?? this.expiry(state);
    return { kind: "saved", token: from.token, expiry: at, cookie: false };
  }

  /**
   * Whether saving the session needs a write: its values changed, or its
   * expiry must move (see `#expiryMoves`). Otherwise the save stores what
   * is stored, and writes nothing. The one rule for "does this need a
   * write?": the finisher asks it for an idle timeout's touch too.
   */
  needsWrite(state: RequestSession, stored: Origin["stored"]): boolean {
    return state.dirty || this.#expiryMoves(state, stored);
  }

  /**
   * The steps of a save; `stale`: the version the session was loaded with
   * is likely old, so read it again before writing.
   */
  *#save(state: RequestSession, stale: boolean): Steps<SaveOutcome> {
    const life = state.life;
    switch (life.kind) {
      case "new":
        return yield* this.#create(state);
      case "loaded":
        return yield* this.#update(state, life.from, false, stale);
      case "renewed":
        return life.from === undefined
          ? yield* this.#create(state)
          : yield* this.#update(state, life.from, true, stale);
      case "destroyed":
        if (life.from !== undefined) {
          yield* endSession(life.from, stale, this.#markerExpiry);
        }
        if (life.restarted) return yield* this.#create(state);
        state.ended();
        return { kind: "ended" };
    }
  }

  /**
   * Whether saving the session now moves its stored expiry (and so the one
   * its cookie carries). Without an idle timeout the expiry is the
   * deadline: it moves when it differs from the stored one (or, where the
   * store did not say, when this request set it). With one, it moves when
   * it would come earlier, or later by `touchAfter` of the idle timeout;
   * always when the store did not say when the session expires.
   */
  #expiryMoves(
    state: RequestSession,
    stored: { readonly expiry: Date | undefined } | undefined,
  ): boolean {
    const at = stored?.expiry?.getTime();
    const { idleTimeout, touchAfter } = this.#options;
    if (idleTimeout === 0) {
      return at === undefined ? state.deadlineSet : state.deadline !== at;
    }
    if (at === undefined) return true;
    const moved = this.expiry(state) - at;
    return moved < 0 || moved >= touchAfter * idleTimeout;
  }

  /** When a session saved now expires in the store (ms). */
  expiry(state: RequestSession): number {
    const idle = this.#options.idleTimeout;
    return idle > 0
      ? Math.min(state.deadline, Date.now() + idle)
      : state.deadline;
  }

  /**
   * Ends the session stored under `key` as a save of `destroy()` would
   * (following renewals): an overlapping save of it is dropped.
   */
  async end(key: string, read: VersionedEntry): Promise<void> {
    const from: Origin = {
      key,
      token: "",
      version: read.version,
      data: read.data,
      stored: read,
    };
    await this.#turns.run(
      [key],
      // Behind another save of the session, its version is stale: read again.
      (behind) =>
        this.#access.run(
          endSession(from, behind.waited, this.#markerExpiry),
        ),
    );
  }

  /** A new token, and its store key. */
  *#newKey(): Steps<{ token: string; key: string }> {
    const token = newToken();
    const key = this.#options.hashTokenInStore ? yield* hashed(token) : token;
    return { token, key };
  }

  /** Stores a session under a new token. */
  *#create(state: RequestSession): Steps<SaveOutcome> {
    const data = this.#contents.encode(state, undefined);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const { token, key } = yield* this.#newKey();
      const expiry = this.expiry(state);
      const created = {
        token: key,
        ifVersion: null,
        data,
        expiry: new Date(expiry),
        user: state.device?.user,
      };
      if (yield* write([created])) {
        return this.#saved(state, key, token, data, expiry, true);
      }
    }
    throw tooManyConflicts();
  }

  /**
   * Writes a session back where it came from, or (`renew`) under a new
   * token, leaving a marker under the old one.
   */
  *#update(
    state: RequestSession,
    from: Origin,
    renew: boolean,
    stale: boolean,
  ): Steps<SaveOutcome> {
    let version: Version | undefined = stale ? undefined : from.version;
    let loaded = from.data;
    let stored = from.stored;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      if (version === undefined) {
        yield* pause(backoff(attempt));
        const found = yield* read(from.key);
        if (found === undefined || found.ended) {
          return this.#drop(state, found);
        }
        if (!sameBytes(found.data, loaded)) {
          const decoded = this.#contents.decode(found.data, false);
          if (
            decoded === undefined || !(decoded.contents.deadline > Date.now())
          ) {
            return this.#drop(state, undefined);
          }
          state.rebase(decoded.contents);
          loaded = found.data;
        }
        version = found.version;
        stored = found;
      } else if (state.lent && state.dirty) {
        // Objects changed in place are not saved: only put, pop, remove and
        // clear change a session, whether or not another request saved.
        const decoded = this.#contents.decode(loaded, false);
        if (decoded !== undefined) state.rebase(decoded.contents);
      }
      const moves = this.#expiryMoves(state, stored);
      if (!renew && !state.dirty && !moves) {
        // Merged onto the session as stored, this request changes nothing.
        return this.#kept(state, { ...from, version, data: loaded, stored });
      }
      let written: Written;
      if (renew) {
        const data = this.#contents.encode(state, loaded);
        const expiry = this.expiry(state);
        const { token, key } = yield* this.#newKey();
        written = { token, key, data, expiry, cookie: true };
        const writes = [
          {
            token: key,
            ifVersion: null,
            data,
            expiry: new Date(expiry),
            user: state.device?.user,
          },
          markerWrite(
            from.key,
            version,
            "renewed",
            stored?.expiry ?? this.#markerExpiry(),
            key,
          ),
        ];
        if (!(yield* write(writes))) {
          version = undefined;
          continue;
        }
      } else {
        const writing = this.#writeBack(
          state,
          from,
          version,
          stored,
          loaded,
          moves,
        );
        if (!(yield* write([writing.write]))) {
          version = undefined;
          continue;
        }
        written = writing;
      }
      const { token, key, data, expiry, cookie } = written;
      return this.#saved(state, key, token, data, expiry, cookie);
    }
    throw tooManyConflicts();
  }

  /**
   * The write of a session back where it came from, over `version` of
   * `stored`, whose bytes are `loaded`. The stored expiry stays unless it
   * `moves`: the cookie the browser holds carries it, and only a moved
   * expiry is sent again.
   */
  #writeBack(
    state: RequestSession,
    from: Origin,
    version: Version,
    stored: Origin["stored"],
    loaded: Uint8Array,
    moves: boolean,
  ): Written & { write: VersionedWrite } {
    const data = this.#contents.encode(state, loaded);
    const expiry = moves
      ? this.expiry(state)
      : stored?.expiry?.getTime() ?? this.expiry(state);
    const { token, key } = from;
    return {
      token,
      key,
      data,
      expiry,
      cookie: moves || state.rememberMeSet,
      write: {
        token: key,
        ifVersion: version,
        data,
        expiry: new Date(expiry),
        user: state.device?.user,
      },
    };
  }

  /**
   * The commonest changing save, without the steps of `#update` (their
   * generators cost more than the rest of it): a session of an in-memory
   * store written back over the version it was loaded with. `undefined`
   * when it is not that case, or another request saved meanwhile: the
   * steps then read, merge and try again.
   */
  #writtenInMemory(
    state: RequestSession,
    from: Origin,
    moves: boolean,
  ): SaveOutcome | undefined {
    if (from.version === undefined || (state.lent && state.dirty)) {
      return undefined;
    }
    const writing = this.#writeBack(
      state,
      from,
      from.version,
      from.stored,
      from.data,
      moves,
    );
    // An in-memory store answers synchronously: no promise.
    if (!(this.#access.write([writing.write]) as boolean)) return undefined;
    const { token, key, data, expiry, cookie } = writing;
    return this.#saved(state, key, token, data, expiry, cookie);
  }

  /**
   * When a marker ends where the store did not say when its session
   * expires: when the session would have, at the latest.
   */
  #markerExpiry = (): Date => {
    const { idleTimeout, lifetime } = this.#options;
    return new Date(deadlineIn(idleTimeout > 0 ? idleTimeout : lifetime));
  };

  /** After a write: the session now comes from there. */
  #saved(
    state: RequestSession,
    key: string,
    token: string,
    data: Uint8Array,
    expiry: number,
    cookie: boolean,
  ): SaveOutcome {
    // The version is unknown until read: a second save reads it first.
    state.saved({ key, token, version: undefined, data, stored: undefined });
    if (this.#access.inMemory) this.#contents.saved(data, state);
    return { kind: "saved", token, expiry, cookie };
  }

  /** Gives up a save whose session ended meanwhile: nothing is written. */
  #drop(state: RequestSession, found: Entry | undefined): SaveOutcome {
    state.ended();
    return {
      kind: "dropped",
      reason: found?.ended ? readMarker(found.data).reason : "expired",
    };
  }
}
