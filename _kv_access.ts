// How a KvStore reaches Deno KV: its keys, one atomic operation a write,
// retries while another process holds a local file's lock, the counts of
// what it did, and the read of an entry whole (a head and its chunks).

import {
  type Chunk,
  type Head,
  isHead,
  joinChunks,
  removeEntry,
} from "./_kv_layout.ts";
import { whileLocked } from "./_kv_lock.ts";
import { KnownExpiries } from "./_kv_versions.ts";
import type { VersionedEntry } from "./store.ts";

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

/** The key part after the prefix under which users' sessions are listed. */
const USERS = "users";

/** An entry read whole, with the user its session is listed under. */
export interface Read {
  entry: VersionedEntry;
  user: string | undefined;
}

/** A KvStore's access to its database, under `prefix`. */
export class KvAccess {
  readonly kv: Deno.Kv;
  readonly prefix: Deno.KvKey;
  readonly stats: KvStoreStats = {
    reads: 0,
    writes: 0,
    conflicts: 0,
    retries: 0,
  };
  /** What is known of the versionstamps read or written. */
  readonly expiries: KnownExpiries = new KnownExpiries();

  constructor(kv: Deno.Kv, prefix: Deno.KvKey) {
    this.kv = kv;
    this.prefix = prefix;
  }

  /** The key of a token's head, or of one of its chunks. */
  key(token: string, chunk?: number): Deno.KvKey {
    return chunk === undefined
      ? [...this.prefix, token]
      : [...this.prefix, token, chunk];
  }

  /** The keys of a token, for the layout's writes. */
  keyOf(token: string): (chunk?: number) => Deno.KvKey {
    return (chunk) => this.key(token, chunk);
  }

  /** The prefix of a user's index keys. */
  userPrefix(user: string): Deno.KvKey {
    return [...this.prefix, USERS, user];
  }

  /** The index key that lists `token` under `user`. */
  userKey(user: string, token: string): Deno.KvKey {
    return [...this.prefix, USERS, user, token];
  }

  /**
   * The live entry of a token, whole: a head and the chunks of its write.
   * A value that is not a head, or a head whose chunks are broken (the same
   * head read twice, its chunks missing or from another write), is no
   * entry; a broken one is removed.
   */
  async read(token: string): Promise<Read | undefined> {
    let previous: string | undefined;
    for (let attempt = 0;; attempt++) {
      const head = await this.locked(() => this.kv.get<Head>(this.key(token)));
      this.stats.reads++;
      const value = head.value;
      if (!isHead(value) || !(Date.now() < value.expiry)) return undefined;
      let data = value.data;
      if (data === undefined) {
        const keys = Array.from(
          { length: value.chunks },
          (_, i) => this.key(token, i),
        );
        const chunks = await this.locked(() => this.kv.getMany<Chunk[]>(keys));
        this.stats.reads++;
        data = joinChunks(value, chunks);
        if (data === undefined) {
          if (head.versionstamp === previous) {
            // No write landed between the reads: the chunk set is broken.
            await this.write((atomic) => {
              atomic.check(head);
              removeEntry(atomic, this.keyOf(token));
            });
            return undefined;
          }
          // A write landed between the two reads: read it again.
          previous = head.versionstamp!;
          if (attempt < 10) continue;
          throw new Error(`Cannot read session: it kept changing while read`);
        }
      }
      const version = head.versionstamp!;
      this.expiries.remember(version, token, value.expiry, value.user);
      return {
        entry: {
          data,
          version,
          expiry: new Date(value.expiry),
          ended: value.ended,
        },
        user: value.user,
      };
    }
  }

  /**
   * Builds and commits one atomic operation; whether its checks passed.
   * The versionstamp it gives each head is remembered with `written`.
   */
  async write(
    build: (atomic: Deno.AtomicOperation) => void,
    written: { token: string; expiry: number; user?: string | undefined }[] =
      [],
  ): Promise<boolean> {
    const result = await this.locked(() => {
      const atomic = this.kv.atomic();
      build(atomic);
      this.stats.writes++;
      return atomic.commit();
    });
    if (result.ok) {
      for (const { token, expiry, user } of written) {
        this.expiries.remember(result.versionstamp, token, expiry, user);
      }
    }
    return result.ok;
  }

  /** `work`, tried again while another process holds the file's lock. */
  locked<T>(work: () => Promise<T>): Promise<T> {
    return whileLocked(work, () => this.stats.retries++);
  }
}
