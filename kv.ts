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
  expireInOf,
  type Head,
  isHead,
  putEntry,
  removeEntry,
} from "./_kv_layout.ts";
import { whileLocked } from "./_kv_lock.ts";
import type { Checked } from "./_kv_versions.ts";
import { KvAccess, type KvStoreStats } from "./_kv_access.ts";
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

// The types its API names, for readers of this module alone.
export type { KvStoreStats } from "./_kv_access.ts";
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
 * same file), or a self-hosted `denokv`. It is a {@linkcode UserIndexStore}
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
  #kv: KvAccess;

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
    this.#kv = new KvAccess(kv, config.prefix);
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
    return { ...this.#kv.stats };
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
    const entry = (await this.#kv.read(checkToken("find session", token)))
      ?.entry;
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
    await this.#kv.write((atomic) =>
      putEntry(atomic, this.#kv.keyOf(token), data, time, false)
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
    await this.#kv.write((atomic) =>
      removeEntry(atomic, this.#kv.keyOf(token))
    );
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
    const depth = this.#kv.prefix.length + 1;
    const now = Date.now();
    const { sessions, chunked } = await this.#kv.locked(async () => {
      const sessions = new Map<string, Uint8Array>();
      const chunked: string[] = [];
      this.#kv.stats.reads++;
      for await (
        const { key, value } of this.#kv.kv.list<Head>({
          prefix: this.#kv.prefix,
        })
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
      const entry = (await this.#kv.read(token))?.entry;
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
  async findVersioned(token: string): Promise<VersionedEntry | undefined> {
    return (await this.#kv.read(checkToken("find session", token)))?.entry;
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
    const known = this.#kv.expiries.stampsFor(writes);
    if (known === "expired") {
      this.#kv.stats.conflicts++;
      return false;
    }
    if (known !== undefined && await this.#commitChecked(writes, known)) {
      return true;
    }
    const heads = await this.#kv.locked(() =>
      this.#kv.kv.getMany<Head[]>(
        writes.map(({ token }) => this.#kv.key(token)),
      )
    );
    this.#kv.stats.reads++;
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
        this.#kv.stats.conflicts++;
        return false;
      }
    }
    const stamps = heads.map(({ value, versionstamp }) => ({
      versionstamp,
      user: isHead(value) ? value.user : undefined,
    }));
    if (await this.#commitChecked(writes, stamps)) return true;
    this.#kv.stats.conflicts++;
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
    return this.#kv.write((atomic) => {
      for (const [i, { token, data, ended }] of writes.entries()) {
        const { versionstamp, user: old } = checked[i]!;
        const { expiry, user } = written[i]!;
        atomic.check({ key: this.#kv.key(token), versionstamp });
        putEntry(
          atomic,
          this.#kv.keyOf(token),
          data,
          expiry,
          ended === true,
          user,
        );
        if (old !== undefined && old !== user) {
          atomic.delete(this.#kv.userKey(old, token));
        }
        if (user !== undefined) {
          atomic.set(this.#kv.userKey(user, token), expiry, {
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
    const kv = this.#kv;
    const listed = await kv.locked(async () => {
      const listed: Deno.KvEntry<unknown>[] = [];
      for await (const entry of kv.kv.list({ prefix: kv.userPrefix(user) })) {
        listed.push(entry);
      }
      return listed;
    });
    kv.stats.reads++;
    const found = new Map<string, VersionedEntry>();
    for (const index of listed) {
      const token = index.key.at(-1);
      if (typeof token !== "string") continue;
      const read = await kv.read(token);
      if (read !== undefined && read.user === user && !read.entry.ended) {
        found.set(token, read.entry);
        continue;
      }
      // No longer the user's session: the index key goes, unless it was
      // written again since it was listed (the session bound anew).
      await kv.write((atomic) => {
        atomic.check(index);
        atomic.delete(index.key);
      });
    }
    return found;
  }
}
