/**
 * {@linkcode KvStore}: sessions in Deno KV, for Deno Deploy and for several
 * processes (or `deno serve --parallel` isolates) on one local KV file, with
 * compare-and-set writes. Deno 2.9 needs `--unstable-kv` (or
 * `"unstable": ["kv"]` in `deno.json`) to open a `Deno.Kv`.
 *
 * - A save is one atomic operation checked against the versionstamp the
 *   request read.
 * - Exact expiry: KV's own `expireIn` is eventual, so the store keeps each
 *   session's expiry and checks it on every read.
 * - Sessions up to 256 KiB, in chunks written by one atomic operation and
 *   read whole; a broken chunk set or a value the store did not write is no
 *   session.
 * - Several processes on one local file: "database is locked" is tried
 *   again for up to 4 seconds ({@linkcode openSharedKv} opens the file the
 *   same way).
 *
 * @module
 */

import {
  checkSize,
  type Chunk,
  expireInOf,
  type Head,
  isHead,
  joinChunks,
  putEntry,
  removeEntry,
} from "./_kv_layout.ts";
import { whileLocked } from "./_kv_lock.ts";
import { type Checked, KnownExpiries } from "./_kv_versions.ts";
import { kvStoreConfig, type KvStoreOptions } from "./_kv_options.ts";
import {
  checkData,
  checkToken,
  checkUser,
  checkWrites,
  timeOf,
} from "./_store_args.ts";
import type {
  IterableStore,
  UserIndexStore,
  VersionedEntry,
  VersionedWrite,
} from "./store.ts";

/** The key part after the prefix under which users' sessions are listed. */
const USERS = "users";

// The types its API names, for readers of this module alone.
export type { KvKeyPart, KvStoreOptions } from "./_kv_options.ts";
export type {
  IterableStore,
  Store,
  UserIndexStore,
  Version,
  VersionedEntry,
  VersionedStore,
  VersionedWrite,
} from "./store.ts";

export { KV_MAX_SESSION_BYTES } from "./_kv_layout.ts";

/** Counts kept by a {@linkcode KvStore} since it was created. */
export interface KvStoreStats {
  /** Read operations sent to KV (`get`, `getMany`, `list`). */
  reads: number;
  /** Atomic operations committed (or tried) on KV. */
  writes: number;
  /** Compare-and-set writes refused because the entry had changed. */
  conflicts: number;
  /** Operations tried again because another process had the database locked. */
  retries: number;
}

/**
 * `Deno.openKv(path)`, tried again while another process has the file
 * locked: several processes opening one local KV file at once (`deno serve
 * --parallel`, a restart) can otherwise fail with "database is locked".
 *
 * @param path A KV file; Deno's default database when left out.
 * @returns The open database.
 *
 * @example Opening a KV file shared by several processes
 * ```ts ignore
 * import { KvStore, openSharedKv } from "@sessions/memstore/kv";
 *
 * const store = new KvStore(await openSharedKv("./sessions.kv"));
 * ```
 */
export function openSharedKv(path?: string): Promise<Deno.Kv> {
  return whileLocked(() => Deno.openKv(path));
}

/**
 * A session store in Deno KV: FoundationDB-backed and global on Deno
 * Deploy, SQLite on a local machine (shared by every process that opens the
 * same file), or a self-hosted `denokv`. It is a {@linkcode VersionedStore}
 * (compare-and-set with KV's versionstamps), so a `SessionManager` over it
 * merges overlapping requests and keeps ended sessions ended across
 * processes and isolates.
 *
 * The application opens and closes the `Deno.Kv`. Keys are
 * `[...prefix, token]`. KV's own expiry (`expireIn`) is eventual, so the
 * store keeps each session's expiry with it and checks it on every read:
 * a session is live while `Date.now() < expiry`, and a compare-and-set never
 * brings back an expired entry. Sessions up to 256 KiB are stored in chunks
 * that are written, and read, as one; a larger one is refused with a
 * `RangeError`. When another process has a local KV file locked, the store
 * tries again, with short random waits, for up to 4 seconds.
 *
 * @example Sessions in Deno KV
 * ```ts ignore
 * import { SessionManager } from "@sessions/memstore";
 * import { KvStore } from "@sessions/memstore/kv";
 *
 * const kv = await Deno.openKv(); // deno run --unstable-kv
 * const sessions = new SessionManager({ store: new KvStore(kv) });
 * Deno.serve(sessions.loadAndSave((_request, session) => {
 *   const visits = ((session.get("visits") as number) ?? 0) + 1;
 *   session.put("visits", visits);
 *   return new Response(`visit ${visits}`);
 * }));
 * ```
 */
export class KvStore implements IterableStore, UserIndexStore {
  #kv: Deno.Kv;
  #prefix: Deno.KvKey;
  #stats: KvStoreStats = { reads: 0, writes: 0, conflicts: 0, retries: 0 };
  #expiries = new KnownExpiries();

  /**
   * Creates a store over an open `Deno.Kv`.
   *
   * @param kv The database, from `Deno.openKv()`.
   * @param options The key prefix.
   * @throws {TypeError} When `kv` is not a `Deno.Kv`, or the prefix is not
   * an array of key parts.
   *
   * @example A store with its own prefix
   * ```ts ignore
   * import { KvStore } from "@sessions/memstore/kv";
   *
   * const store = new KvStore(await Deno.openKv(), { prefix: ["myapp", "sessions"] });
   * ```
   */
  constructor(kv: Deno.Kv, options: KvStoreOptions = {}) {
    const config = kvStoreConfig(options);
    if (
      typeof kv !== "object" || kv === null ||
      typeof (kv as Partial<Deno.Kv>).atomic !== "function"
    ) {
      throw new TypeError(
        "Cannot create KvStore: kv must be a Deno.Kv (from Deno.openKv())",
      );
    }
    this.#kv = kv;
    this.#prefix = config.prefix;
  }

  /**
   * Counts of the KV operations the store made since it was created.
   *
   * @returns A new object with the counts.
   *
   * @example Reading the counts
   * ```ts ignore
   * const { reads, writes, conflicts } = store.stats();
   * ```
   */
  stats(): KvStoreStats {
    return { ...this.#stats };
  }

  /**
   * Looks up a live session.
   *
   * @param token The session token.
   * @returns The session's bytes, or `undefined`.
   * @throws {TypeError} (as a rejection) When `token` is not a string.
   *
   * @example Finding a session
   * ```ts ignore
   * const bytes = await store.find(token);
   * ```
   */
  async find(token: string): Promise<Uint8Array | undefined> {
    const entry = await this.#read(checkToken("find session", token));
    return entry === undefined || entry.ended ? undefined : entry.data;
  }

  /**
   * Inserts or replaces a session; an expiry at or before now removes it.
   *
   * @param token The session token.
   * @param data The session's bytes, at most 256 KiB.
   * @param expiry When the session stops being live.
   * @throws {TypeError} (as a rejection, with nothing written) When an
   * argument has the wrong type.
   * @throws {RangeError} (as a rejection, with nothing written) When `data`
   * is larger than 256 KiB.
   *
   * @example Committing a session
   * ```ts ignore
   * await store.commit(token, bytes, new Date(Date.now() + 60_000));
   * ```
   */
  async commit(token: string, data: Uint8Array, expiry: Date): Promise<void> {
    const action = "commit session";
    checkToken(action, token);
    checkSize(action, checkData(action, data));
    const time = timeOf(action, expiry);
    await this.#write((atomic) =>
      putEntry(atomic, this.#keyOf(token), data, time, false)
    );
  }

  /**
   * Removes a session (or marker); a token not held is not an error.
   *
   * @param token The session token.
   * @throws {TypeError} (as a rejection) When `token` is not a string.
   *
   * @example Deleting a session
   * ```ts ignore
   * await store.delete(token);
   * ```
   */
  async delete(token: string): Promise<void> {
    checkToken("delete session", token);
    await this.#write((atomic) => removeEntry(atomic, this.#keyOf(token)));
  }

  /**
   * Lists every live session.
   *
   * @returns A new `Map` from token to each live session's bytes.
   *
   * @example Counting sessions
   * ```ts ignore
   * const count = (await store.all()).size;
   * ```
   */
  async all(): Promise<Map<string, Uint8Array>> {
    const depth = this.#prefix.length + 1;
    const now = Date.now();
    const { sessions, chunked } = await this.#locked(async () => {
      const sessions = new Map<string, Uint8Array>();
      const chunked: string[] = [];
      this.#stats.reads++;
      for await (
        const { key, value } of this.#kv.list<Head>({ prefix: this.#prefix })
      ) {
        const token = key[depth - 1];
        if (key.length !== depth || typeof token !== "string") continue; // a chunk
        if (!isHead(value) || value.ended || !(now < value.expiry)) continue;
        if (value.data !== undefined) sessions.set(token, value.data);
        else chunked.push(token);
      }
      return { sessions, chunked };
    });
    for (const token of chunked) {
      // Chunked sessions are read whole, one at a time.
      const entry = await this.#read(token);
      if (entry !== undefined && !entry.ended) sessions.set(token, entry.data);
    }
    return sessions;
  }

  /**
   * Reads a live session or marker with its version (the head's
   * versionstamp).
   *
   * @param token The token.
   * @returns The entry, or `undefined`.
   * @throws {TypeError} (as a rejection) When `token` is not a string.
   *
   * @example Reading a version
   * ```ts ignore
   * const entry = await store.findVersioned(token);
   * ```
   */
  findVersioned(token: string): Promise<VersionedEntry | undefined> {
    return this.#read(checkToken("find session", token));
  }

  /**
   * Writes entries, all or none, in one atomic operation checked against
   * each head's versionstamp.
   *
   * @param writes The writes.
   * @returns Whether they were written.
   * @throws {TypeError} (as a rejection, with nothing written) When a write
   * is malformed.
   * @throws {RangeError} (as a rejection, with nothing written) When a
   * session is larger than 256 KiB.
   *
   * @example Creating a session only if its token is free
   * ```ts ignore
   * const created = await store.commitVersioned([
   *   { token, ifVersion: null, data: bytes, expiry: new Date(Date.now() + 60_000) },
   * ]);
   * ```
   */
  async commitVersioned(writes: readonly VersionedWrite[]): Promise<boolean> {
    const action = "commit versioned";
    checkWrites(action, writes, (write) => checkSize(action, write.data));
    // Without reading first, when every version's expiry is known: the
    // checks of the atomic operation decide. Otherwise, or when they fail (a conflict, or
    // an expired entry that KV has not removed yet), read the heads first.
    const known = this.#expiries.stampsFor(writes);
    if (known === "expired") {
      this.#stats.conflicts++;
      return false;
    }
    if (known !== undefined && await this.#commitChecked(writes, known)) {
      return true;
    }
    const heads = await this.#locked(() =>
      this.#kv.getMany<Head[]>(writes.map(({ token }) => this.#key(token)))
    );
    this.#stats.reads++;
    const now = Date.now();
    for (const [i, { ifVersion }] of writes.entries()) {
      const head = heads[i]!;
      // An expired head counts as nothing; a version read before it expired
      // no longer matches.
      const live = head.value !== null && now < head.value.expiry;
      const ok = ifVersion === null
        ? !live
        : live && head.versionstamp === ifVersion;
      if (!ok) {
        this.#stats.conflicts++;
        return false;
      }
    }
    const stamps = heads.map(({ value, versionstamp }) => ({
      versionstamp,
      user: isHead(value) ? value.user : undefined,
    }));
    if (await this.#commitChecked(writes, stamps)) return true;
    this.#stats.conflicts++;
    return false;
  }

  /** One atomic operation: the writes, if each head has its versionstamp. */
  #commitChecked(
    writes: readonly VersionedWrite[],
    checked: Checked[],
  ): Promise<boolean> {
    const now = Date.now();
    const written = writes.map(({ token, expiry, ended, user }) => ({
      token,
      expiry: expiry.getTime(),
      // Listed: a live session with a user.
      user: ended === true || expiry.getTime() <= now ? undefined : user,
    }));
    return this.#write((atomic) => {
      for (const [i, { token, data, ended }] of writes.entries()) {
        const { versionstamp, user: old } = checked[i]!;
        const { expiry, user } = written[i]!;
        atomic.check({ key: this.#key(token), versionstamp });
        putEntry(
          atomic,
          this.#keyOf(token),
          data,
          expiry,
          ended === true,
          user,
        );
        if (old !== undefined && old !== user) {
          atomic.delete(this.#userKey(old, token));
        }
        if (user !== undefined) {
          atomic.set(this.#userKey(user, token), expiry, {
            expireIn: expireInOf(expiry, now),
          });
        }
      }
    }, written);
  }

  /**
   * Reads the live sessions listed under a user: a list of the user's index
   * keys, then their heads (and chunks, for large sessions). Index keys of
   * sessions no longer the user's are removed (if the session has not
   * changed since). O(that user's sessions).
   *
   * @param user The user.
   * @returns A new `Map` from token to entry; empty for an unknown user.
   * @throws {TypeError} (as a rejection) When `user` is not a non-empty
   * string.
   *
   * @example A user's sessions
   * ```ts ignore
   * const sessions = await store.findByUser("ada");
   * ```
   */
  async findByUser(user: string): Promise<Map<string, VersionedEntry>> {
    checkUser("find sessions by user", user);
    const tokens = await this.#locked(async () => {
      const tokens: string[] = [];
      const prefix = [...this.#prefix, USERS, user];
      for await (const { key } of this.#kv.list({ prefix })) {
        const token = key[prefix.length];
        if (key.length === prefix.length + 1 && typeof token === "string") {
          tokens.push(token);
        }
      }
      return tokens;
    });
    this.#stats.reads++;
    const found = new Map<string, VersionedEntry>();
    for (const token of tokens) {
      const head = await this.#locked(() =>
        this.#kv.get<Head>(this.#key(token))
      );
      this.#stats.reads++;
      const value = head.value;
      if (
        isHead(value) && value.user === user && !value.ended &&
        Date.now() < value.expiry
      ) {
        let entry: VersionedEntry | undefined;
        if (value.data === undefined) entry = await this.#read(token);
        else {
          this.#expiries.remember(
            head.versionstamp!,
            token,
            value.expiry,
            user,
          );
          entry = this.#entry(head.versionstamp!, value, value.data);
        }
        if (entry !== undefined && !entry.ended) found.set(token, entry);
        continue;
      }
      await this.#write((atomic) => {
        atomic.check(head);
        atomic.delete(this.#userKey(user, token));
      });
    }
    return found;
  }

  /** The index key that lists `token` under `user`. */
  #userKey(user: string, token: string): Deno.KvKey {
    return [...this.#prefix, USERS, user, token];
  }

  #key(token: string, chunk?: number): Deno.KvKey {
    return chunk === undefined
      ? [...this.#prefix, token]
      : [...this.#prefix, token, chunk];
  }

  #keyOf(token: string): (chunk?: number) => Deno.KvKey {
    return (chunk) => this.#key(token, chunk);
  }

  /**
   * The live entry of a token, whole: a head and the chunks of its write.
   * A value that is not a head, or a head whose chunks are broken (the same
   * head read twice, its chunks missing or from another write), is no
   * entry; a broken one is removed.
   */
  async #read(token: string): Promise<VersionedEntry | undefined> {
    let previous: string | undefined;
    for (let attempt = 0;; attempt++) {
      const head = await this.#locked(() =>
        this.#kv.get<Head>(this.#key(token))
      );
      this.#stats.reads++;
      const value = head.value;
      if (!isHead(value) || !(Date.now() < value.expiry)) return undefined;
      let data = value.data;
      if (data === undefined) {
        const keys = Array.from(
          { length: value.chunks },
          (_, i) => this.#key(token, i),
        );
        const chunks = await this.#locked(() =>
          this.#kv.getMany<Chunk[]>(keys)
        );
        this.#stats.reads++;
        data = joinChunks(value, chunks);
        if (data === undefined) {
          if (head.versionstamp === previous) {
            // No write landed between the reads: the chunk set is broken.
            await this.#write((atomic) => {
              atomic.check(head);
              removeEntry(atomic, this.#keyOf(token));
            });
            return undefined;
          }
          // A write landed between the two reads: read it again.
          previous = head.versionstamp!;
          if (attempt < 10) continue;
          throw new Error(`Cannot read session: it kept changing while read`);
        }
      }
      this.#expiries.remember(
        head.versionstamp!,
        token,
        value.expiry,
        value.user,
      );
      return this.#entry(head.versionstamp!, value, data);
    }
  }

  /** The entry of a head read with `versionstamp`, and its bytes. */
  #entry(versionstamp: string, head: Head, data: Uint8Array): VersionedEntry {
    return {
      data,
      version: versionstamp,
      expiry: new Date(head.expiry),
      ended: head.ended,
    };
  }

  /**
   * Builds and commits one atomic operation; whether its checks passed.
   * The versionstamp it gives each head is remembered with `expiries`.
   */
  async #write(
    build: (atomic: Deno.AtomicOperation) => void,
    written: { token: string; expiry: number; user?: string | undefined }[] =
      [],
  ): Promise<boolean> {
    const result = await this.#locked(() => {
      const atomic = this.#kv.atomic();
      build(atomic);
      this.#stats.writes++;
      return atomic.commit();
    });
    if (result.ok) {
      for (const { token, expiry, user } of written) {
        this.#expiries.remember(result.versionstamp, token, expiry, user);
      }
    }
    return result.ok;
  }

  #locked<T>(work: () => Promise<T>): Promise<T> {
    return whileLocked(work, () => this.#stats.retries++);
  }
}
