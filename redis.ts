/**
 * {@linkcode RedisStore}: sessions in Redis, shared by every
 * process of a deployment, with compare-and-set writes so that overlapping
 * requests are merged and an ended session stays ended across processes.
 *
 * - One expiry rule: a session is live while `Date.now() < expiry` on the
 *   application's clock; the key also expires in Redis after the same span
 *   (`PX`), so nothing outlives it, whatever Redis's own clock says.
 * - A save is one round trip: a Lua script (`EVALSHA`) that writes only if
 *   the session is still the version the request read; a renewal writes the
 *   new session and the old token's marker in the same script.
 * - Each command has a `commandTimeout`: while Redis is down, requests answer
 *   through the manager's `onError` in that time, and recover by themselves.
 * - A value under a session key that the store did not write is no session.
 * - A per-user index (a `UserIndexStore`): one sorted set per user, of
 *   their session keys by expiry, updated in the same script as the
 *   session.
 * - One node or Redis Cluster: with a cluster client, sessions spread over
 *   every shard; a write of two keys (a renewal) goes key by key, in an
 *   order that is safe if interrupted (see {@linkcode RedisStore}).
 * - `waitReplicas`: after a write, `WAIT` until replicas have it.
 *
 * The application brings the node-redis client (npm `redis` 5 or 6); the
 * package does not depend on it.
 *
 * @module
 */

import { type RedisClient, RedisConnection, text } from "./_redis_client.ts";
import {
  decode,
  encode,
  globEscape,
  userIn,
  userListKey,
  writeArgs,
} from "./_redis_layout.ts";
import { redisStoreConfig, type RedisStoreOptions } from "./_redis_options.ts";
import {
  COMPARE_AND_SET,
  FIND_BY_USER,
  LIST_TOKENS,
  LIST_USER,
} from "./_redis_scripts.ts";
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
export type {
  RedisClient,
  RedisClusterClient,
  RedisNodeClient,
} from "./_redis_client.ts";
export type { RedisStoreOptions } from "./_redis_options.ts";
export type {
  IterableStore,
  Store,
  UserIndexStore,
  Version,
  VersionedEntry,
  VersionedStore,
  VersionedWrite,
} from "./store.ts";

/**
 * A session store in Redis: sessions live across restarts and
 * are shared by every process and machine that uses the same Redis. It is
 * a {@linkcode UserIndexStore}: a `SessionManager` over it merges
 * overlapping requests, keeps ended sessions ended across processes, and
 * lists one user's sessions.
 *
 * The application owns the client (`await createClient({ url }).connect()`
 * or `await createCluster({ rootNodes }).connect()` from npm `redis`) and
 * closes it; the store uses a view of it that reads values as bytes. Keys
 * are `prefix` + token. A session is live while `Date.now() < expiry` on
 * the application's clock; the key also expires in Redis after the same
 * span (`PX`), so nothing outlives it. `all()` walks the keys with `SCAN`
 * (on every master of a cluster), never `KEYS`. A save with compare-and-set
 * is one round trip (a Lua script, `EVALSHA`).
 *
 * On one node, a renewal writes its two keys in one script. On a cluster,
 * where they hash to different slots, it checks both versions, then writes
 * key by key: the old token's marker first, then the new session (and a
 * user's list entry before the session it lists). Interrupted between, the
 * user is signed out; the old token is never left alive, and no ended
 * session comes back.
 *
 * @example Sessions in Redis
 * ```ts ignore
 * import { createClient } from "redis";
 * import { SessionManager } from "@sessions/memstore";
 * import { RedisStore } from "@sessions/memstore/redis";
 *
 * const client = await createClient({ url: "redis://127.0.0.1:6379" }).connect();
 * const sessions = new SessionManager({ store: new RedisStore(client) });
 * Deno.serve(sessions.loadAndSave((_request, session) => {
 *   const visits = ((session.get("visits") as number) ?? 0) + 1;
 *   session.put("visits", visits);
 *   return new Response(`visit ${visits}`);
 * }));
 * ```
 */
export class RedisStore implements IterableStore, UserIndexStore {
  #redis: RedisConnection;
  #prefix: string;

  /**
   * Creates a store over a connected client.
   *
   * @param client A node-redis client (`createClient()`) or cluster client
   * (`createCluster()`), connected.
   * @param options The key prefix, the command timeout, and replicas to wait
   * for.
   * @throws {TypeError} When `client` is not a node-redis client, or an
   * option has the wrong type.
   * @throws {RangeError} When `commandTimeout` is not positive.
   *
   * @example A store with its own prefix
   * ```ts ignore
   * import { createClient } from "redis";
   * import { RedisStore } from "@sessions/memstore/redis";
   *
   * const client = await createClient().connect();
   * const store = new RedisStore(client, { prefix: "myapp:session:" });
   * ```
   */
  constructor(client: RedisClient, options: RedisStoreOptions = {}) {
    const config = redisStoreConfig(options);
    this.#redis = new RedisConnection(
      client,
      config.commandTimeout,
      config.waitReplicas,
    );
    this.#prefix = config.prefix;
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
    const entry = await this.#get(checkToken("find session", token));
    return entry === undefined || entry.ended ? undefined : entry.data;
  }

  /**
   * Inserts or replaces a session (one `SET`); an expiry at or before now
   * removes it.
   *
   * @param token The session token.
   * @param data The session's bytes.
   * @param expiry When the session stops being live.
   * @throws {TypeError} (as a rejection, with nothing written) When an
   * argument has the wrong type.
   *
   * @example Committing a session
   * ```ts ignore
   * await store.commit(token, bytes, new Date(Date.now() + 60_000));
   * ```
   */
  async commit(token: string, data: Uint8Array, expiry: Date): Promise<void> {
    const action = "commit session";
    const key = this.#prefix + checkToken(action, token);
    checkData(action, data);
    const time = timeOf(action, expiry);
    const span = Math.floor(time) - Date.now();
    if (span <= 0) {
      await this.#redis.send(key, ["DEL", key]);
    } else {
      await this.#redis.send(key, [
        "SET",
        key,
        encode(data, time, false),
        "PX",
        `${span}`,
      ]);
    }
    await this.#redis.replicated(key);
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
    const key = this.#prefix + checkToken("delete session", token);
    await this.#redis.send(key, ["DEL", key]);
    await this.#redis.replicated(key);
  }

  /**
   * Lists every live session, walking the prefix's keys with `SCAN`.
   *
   * @returns A new `Map` from token to each live session's bytes.
   *
   * @example Counting sessions
   * ```ts ignore
   * const count = (await store.all()).size;
   * ```
   */
  async all(): Promise<Map<string, Uint8Array>> {
    const sessions = new Map<string, Uint8Array>();
    const match = globEscape(this.#prefix) + "*";
    for await (const names of this.#redis.scan(match)) {
      if (names.length === 0) continue;
      const values = await this.#redis.values(names);
      const now = Date.now();
      names.forEach((name, i) => {
        const entry = decode(values[i]);
        if (
          entry !== undefined && !entry.ended && now < entry.expiry.getTime()
        ) {
          sessions.set(name.slice(this.#prefix.length), entry.data);
        }
      });
    }
    return sessions;
  }

  /**
   * Reads a live session or marker with its version (one `GET`).
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
    return this.#get(checkToken("find session", token));
  }

  /**
   * Writes entries, all or none, if each token's version is still the one
   * given: one round trip (a Lua script).
   *
   * @param writes The writes.
   * @returns Whether they were written.
   * @throws {TypeError} (as a rejection, with nothing written) When a write
   * is malformed.
   *
   * @example Creating a session only if its token is free
   * ```ts ignore
   * const created = await store.commitVersioned([
   *   { token, ifVersion: null, data: bytes, expiry: new Date(Date.now() + 60_000) },
   * ]);
   * ```
   */
  async commitVersioned(writes: readonly VersionedWrite[]): Promise<boolean> {
    checkWrites("commit versioned", writes);
    if (
      writes.some(({ ifVersion }) =>
        ifVersion !== null && typeof ifVersion !== "string"
      )
    ) {
      return false;
    }
    const now = Date.now();
    if (this.#redis.cluster) {
      return await this.#commitAcrossSlots(writes, now);
    }
    const keys = writes.map(({ token }) => this.#prefix + token);
    const args = [
      `${now}`,
      this.#prefix,
      "1",
      ...writes.flatMap((write) => writeArgs(write, now)),
    ];
    if (await this.#redis.script(COMPARE_AND_SET, keys, args) !== 1) {
      return false;
    }
    await this.#redis.replicated(keys[0]!);
    return true;
  }

  /**
   * `commitVersioned` on a cluster, where the keys of one write are in
   * different slots and no script may span them. Key by key, in an order
   * that is safe if interrupted:
   * 1. each live session is added to its user's list first, so a live
   *    session is never missing from it (an entry whose write then fails
   *    points at a session that is not the user's: lists skip it, and it
   *    leaves the list with its expiry, or at a list once that session has
   *    ended);
   * 2. markers and removals go before sessions: the old token of a renewal
   *    is ended before the new session exists. Interrupted there, the user
   *    is signed out; the old token is never left alive, and no ended
   *    session comes back, since every write is a compare-and-set.
   * Every version is checked first (a write that would fail writes
   * nothing: false); a version changed by another writer after that check
   * stops the writes there, the earlier ones done, with an error.
   */
  async #commitAcrossSlots(
    writes: readonly VersionedWrite[],
    now: number,
  ): Promise<boolean> {
    if (writes.length > 1) {
      const found = await Promise.all(
        writes.map(({ token }) => this.#get(token)),
      );
      const stale = writes.some(({ ifVersion }, i) =>
        ifVersion === null
          ? found[i] !== undefined
          : found[i]?.version !== ifVersion
      );
      if (stale) return false;
    }
    for (const { token, ended, expiry, user } of writes) {
      const time = Math.floor(expiry.getTime());
      if (ended !== true && time > now && user !== undefined) {
        await this.#redis.script(LIST_USER, [userListKey(this.#prefix, user)], [
          `${now}`,
          `${time}`,
          token,
        ]);
      }
    }
    const ending = (write: VersionedWrite) =>
      write.ended === true || write.expiry.getTime() <= now;
    const ordered = [
      ...writes.filter(ending),
      ...writes.filter((write) => !ending(write)),
    ];
    for (const [i, write] of ordered.entries()) {
      const key = this.#prefix + write.token;
      const args = [
        `${now}`,
        this.#prefix,
        "0",
        ...writeArgs(write, now),
      ];
      if (await this.#redis.script(COMPARE_AND_SET, [key], args) !== 1) {
        if (i === 0) return false;
        throw new Error(
          `Cannot finish a write of ${writes.length} keys on Redis Cluster: another writer changed ${write.token} after ${i} of them were written (the session was ended, not renewed)`,
        );
      }
      await this.#redis.replicated(key);
    }
    return true;
  }

  /**
   * Reads the live sessions listed under a user: one script that reads the
   * user's sorted set and their sessions, and drops from the set what has
   * ended or expired. O(that user's sessions).
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
    const now = Date.now();
    const list = userListKey(this.#prefix, user);
    const found = new Map<string, VersionedEntry>();
    if (!this.#redis.cluster) {
      const pairs = await this.#redis.script(FIND_BY_USER, [list], [
        `${now}`,
        this.#prefix,
        user,
      ]) as Uint8Array[];
      for (let i = 0; i + 1 < pairs.length; i += 2) {
        const entry = decode(pairs[i + 1]);
        if (entry !== undefined && !entry.ended) {
          found.set(text(pairs[i]), entry);
        }
      }
      return found;
    }
    // On a cluster the sessions are in other slots: the list first, then
    // each session. An entry of an ended session (a revocation, or a write
    // interrupted after its marker) is removed: its token never lives
    // again. Other entries not the user's live session are skipped, not
    // removed (the session may be a write away from being theirs); they
    // leave the list at their expiry.
    const tokens =
      (await this.#redis.script(LIST_TOKENS, [list], [`${now}`]) as unknown[])
        .map(text);
    const values = await this.#redis.values(
      tokens.map((token) => this.#prefix + token),
    );
    const ended: string[] = [];
    tokens.forEach((token, i) => {
      const entry = decode(values[i]);
      if (entry?.ended) ended.push(token);
      else if (
        entry !== undefined && now < entry.expiry.getTime() &&
        userIn(values[i] as Uint8Array) === user
      ) {
        found.set(token, entry);
      }
    });
    if (ended.length > 0) {
      await this.#redis.send(list, ["ZREM", list, ...ended]);
    }
    return found;
  }

  /** The entry under a token, live or not; `undefined` when there is none. */
  async #get(token: string): Promise<VersionedEntry | undefined> {
    const key = this.#prefix + token;
    const entry = decode(await this.#redis.send(key, ["GET", key]));
    return entry !== undefined && Date.now() < entry.expiry.getTime()
      ? entry
      : undefined;
  }
}
