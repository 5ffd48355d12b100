/**
 * {@linkcode RedisStore}: sessions in Redis (or Valkey), shared by every
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

import { Buffer } from "node:buffer";
import { redisStoreConfig, type RedisStoreOptions } from "./_redis_options.ts";
import {
  checkData,
  checkToken,
  checkUser,
  checkWrites,
  timeOf,
} from "./_store_args.ts";
import { withTimeout } from "./_timers.ts";
import type {
  IterableStore,
  UserIndexStore,
  VersionedEntry,
  VersionedWrite,
} from "./store.ts";

// The types its API names, for readers of this module alone.
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

/** RESP's code for a bulk string (node-redis's `RESP_TYPES.BLOB_STRING`). */
const BLOB_STRING = 36;

/**
 * What `RedisStore` needs of a node-redis client of one node
 * (`createClient()` from npm `redis`, version 5 or 6): the package does not
 * depend on `redis` itself, so it works with the application's own copy.
 */
export interface RedisNodeClient {
  /**
   * A view of the client whose replies are mapped as `typeMapping` says
   * (36 is RESP's code for a bulk string).
   */
  withTypeMapping(typeMapping: { 36: typeof Buffer }): {
    sendCommand(
      args: ReadonlyArray<string | Buffer>,
      options?: { abortSignal?: AbortSignal },
    ): Promise<unknown>;
  };
}

/**
 * What `RedisStore` needs of a node-redis Redis Cluster client
 * (`createCluster()` from npm `redis` 5 or 6).
 */
export interface RedisClusterClient {
  /** The view whose replies are mapped as `typeMapping` says. */
  withTypeMapping(typeMapping: { 36: typeof Buffer }): {
    sendCommand(
      firstKey: string | Buffer | undefined,
      isReadonly: boolean | undefined,
      args: ReadonlyArray<string | Buffer>,
      options?: { abortSignal?: AbortSignal },
    ): Promise<unknown>;
  };
  /** The masters, as the client knows them now. */
  readonly masters: readonly object[];
  /** The client of one node, to `SCAN` it. */
  nodeClient(node: never): Promise<{
    sendCommand(args: ReadonlyArray<string | Buffer>): Promise<unknown>;
  }>;
  /** The master that serves a hash slot (what tells a cluster client). */
  getSlotMaster(slot: number): unknown;
}

/** A node-redis client of one node, or of a Redis Cluster. */
export type RedisClient = RedisNodeClient | RedisClusterClient;

// An entry is one Redis string: a 33-byte ASCII header, then the bytes.
// The header holds the version (16 hex digits, random for every write), the
// expiry (16 decimal digits of ms since the epoch: up to the last valid
// Date, 8.64e15), and "s" for a session, "u" for a session bound to a
// user, or "e" for the marker of an ended session. After a "u" header, 4
// hex digits give the byte length of the user id that follows them; then
// the bytes. The sessions of a user are listed in a sorted set under
// <prefix>user:<user id>, each key (without the prefix) scored by its
// expiry; the set expires with its last session. The expiry in the header decides: live while Date.now() <
// expiry, on the application's clock. The key also expires in Redis, after
// the same span (PX, counted from the application's clock, so a Redis host
// whose clock differs neither cuts a session short nor keeps it longer
// than that span). A value that is not one of ours reads as no entry.
const HEADER = 33;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Writes all of KEYS, or none: each key's version must still be the one
 * given ("" for no live entry). ARGV[1] is now (ms, the application's
 * clock); then for each key, the version wanted, the new value, and the ms
 * left until its expiry (at most 0: the key is removed).
 */
const ENTRY = `
local function expiry(value)
  if type(value) ~= 'string' or #value < 33 then return nil end
  local kind = string.sub(value, 33, 33)
  local digits = string.sub(value, 17, 32)
  if (kind ~= 's' and kind ~= 'e' and kind ~= 'u')
    or not string.match(digits, '^%d+$') then
    return nil
  end
  return tonumber(digits)
end
local function userOf(value)
  if expiry(value) == nil or string.sub(value, 33, 33) ~= 'u' then
    return ''
  end
  local length = tonumber(string.sub(value, 34, 37), 16)
  if length == nil then return '' end
  return string.sub(value, 38, 37 + length)
end
`;

/**
 * Writes all of KEYS, or none: each key's version must still be the one
 * given ("" for no live entry). ARGV[1] is now (ms, the application's
 * clock), ARGV[2] the key prefix, ARGV[3] "1" to change the user lists in
 * the script too (one node) or "0" (a cluster, where they are in other
 * slots: the store changes them around the script); then for each key, the
 * version wanted, the new value, the ms left until its expiry (at most 0:
 * the key is removed), and the user it is listed under ("" for none).
 */
const COMPARE_AND_SET = ENTRY + `
local now = tonumber(ARGV[1])
local prefix = ARGV[2]
local indexed = ARGV[3] == '1'
local current = {}
for i = 1, #KEYS do
  local wanted = ARGV[4 * i]
  current[i] = redis.call('GET', KEYS[i])
  local expires = expiry(current[i])
  local live = expires ~= nil and expires > now
  if wanted == '' then
    if live then return 0 end
  elseif not live or string.sub(current[i], 1, 16) ~= wanted then
    return 0
  end
end
for i = 1, #KEYS do
  local value, span, user = ARGV[4 * i + 1], ARGV[4 * i + 2], ARGV[4 * i + 3]
  local token = string.sub(KEYS[i], #prefix + 1)
  local old = userOf(current[i])
  if not indexed then old, user = '', '' end
  if old ~= '' and old ~= user then
    redis.call('ZREM', prefix .. 'user:' .. old, token)
  end
  if tonumber(span) <= 0 then
    redis.call('DEL', KEYS[i])
  else
    redis.call('SET', KEYS[i], value, 'PX', span)
    if user ~= '' then
      local list = prefix .. 'user:' .. user
      redis.call('ZREMRANGEBYSCORE', list, '-inf', now)
      redis.call('ZADD', list, now + tonumber(span), token)
      if redis.call('PTTL', list) < tonumber(span) then
        redis.call('PEXPIRE', list, span)
      end
    end
  end
end
return 1
`;

/**
 * Lists a token under a user, on a cluster (the list alone): KEYS[1] is the
 * user's list; ARGV[1] now, ARGV[2] the session's expiry, ARGV[3] the
 * token. Drops expired entries; the list expires with its last session.
 */
const LIST_USER = `
local now, expiry = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], expiry, ARGV[3])
if redis.call('PTTL', KEYS[1]) < expiry - now then
  redis.call('PEXPIRE', KEYS[1], expiry - now)
end
return 1
`;

/** The tokens of a user's list, expired entries dropped first. */
const LIST_TOKENS = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]))
return redis.call('ZRANGE', KEYS[1], 0, -1)
`;

/**
 * The live sessions listed under a user: KEYS[1] is the user's list,
 * ARGV[1] now, ARGV[2] the key prefix, ARGV[3] the user. Returns token and
 * value pairs; removes from the list what is no longer that user's live
 * session.
 */
const FIND_BY_USER = ENTRY + `
local now = tonumber(ARGV[1])
local prefix, user = ARGV[2], ARGV[3]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local found = {}
for _, token in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local value = redis.call('GET', prefix .. token)
  local expires = expiry(value)
  if expires ~= nil and expires > now and userOf(value) == user then
    found[#found + 1] = token
    found[#found + 1] = value
  else
    redis.call('ZREM', KEYS[1], token)
  end
end
return found
`;

/** A random version: 16 hex digits. */
function newVersion(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A stored value: the header, the user it is bound to (if any, never for a
 * marker), then `data`.
 */
function encode(
  data: Uint8Array,
  expiry: number,
  ended: boolean,
  user?: string,
): Buffer {
  const bound = !ended && user !== undefined;
  const header = `${newVersion()}${
    String(Math.max(0, Math.floor(expiry))).padStart(16, "0")
  }${ended ? "e" : bound ? "u" : "s"}`;
  const userBytes = bound ? encoder.encode(user) : undefined;
  const at = HEADER + (userBytes === undefined ? 0 : 4 + userBytes.byteLength);
  const value = Buffer.allocUnsafe(at + data.byteLength);
  encoder.encodeInto(header, value);
  if (userBytes !== undefined) {
    encoder.encodeInto(
      userBytes.byteLength.toString(16).padStart(4, "0"),
      value.subarray(HEADER),
    );
    value.set(userBytes, HEADER + 4);
  }
  value.set(data, at);
  return value;
}

/** What a stored value holds; `undefined` when it is not one of ours. */
function decode(value: unknown): VersionedEntry | undefined {
  if (!(value instanceof Uint8Array) || value.byteLength < HEADER) {
    return undefined;
  }
  const header = decoder.decode(value.subarray(0, HEADER));
  const digits = header.slice(16, 32);
  const kind = header[32];
  if (
    !/^\d{16}$/.test(digits) || (kind !== "s" && kind !== "e" && kind !== "u")
  ) {
    return undefined;
  }
  let at = HEADER;
  if (kind === "u") {
    const length = value.byteLength < HEADER + 4
      ? NaN
      : parseInt(decoder.decode(value.subarray(HEADER, HEADER + 4)), 16);
    if (!(length >= 0) || HEADER + 4 + length > value.byteLength) {
      return undefined;
    }
    at = HEADER + 4 + length;
  }
  const expiry = Number(digits);
  return {
    // A copy of the bytes alone (Buffer's own slice() would be a view).
    data: new Uint8Array(value.subarray(at)),
    version: header.slice(0, 16),
    expiry: new Date(expiry),
    ended: kind === "e",
  };
}

/** `pattern` matched literally by SCAN's MATCH. */
/** A reply as text: bytes decoded, anything else as a string. */
function text(reply: unknown): string {
  return reply instanceof Uint8Array ? decoder.decode(reply) : String(reply);
}

/** The user a stored session is bound to, if any ("u" values). */
function userIn(value: Uint8Array): string | undefined {
  if (value[32] !== 0x75) return undefined; // "u"
  const length = parseInt(
    decoder.decode(value.subarray(HEADER, HEADER + 4)),
    16,
  );
  return decoder.decode(value.subarray(HEADER + 4, HEADER + 4 + length));
}

function globEscape(pattern: string): string {
  return pattern.replace(/[*?[\]\\]/g, "\\$&");
}

/**
 * A session store in Redis (or Valkey): sessions live across restarts and
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
  /** Sends a command for `key` (routed by it on a cluster). */
  #sender: (
    key: string | undefined,
    args: (string | Buffer)[],
    abortSignal: AbortSignal | undefined,
  ) => Promise<unknown>;
  /** The cluster client, when it is one. */
  #cluster: RedisClusterClient | undefined;
  #prefix: string;
  #timeout: number;
  #waitReplicas: number;
  /** The SHA1 of each script loaded, by script. */
  #shas = new Map<string, string>();

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
    if (
      typeof client !== "object" || client === null ||
      typeof client.withTypeMapping !== "function"
    ) {
      throw new TypeError(
        "Cannot create RedisStore: client must be a node-redis client (createClient() from npm redis)",
      );
    }
    if (
      typeof (client as Partial<RedisClusterClient>).getSlotMaster ===
        "function"
    ) {
      const cluster = client as RedisClusterClient;
      const view = cluster.withTypeMapping({ [BLOB_STRING]: Buffer });
      this.#cluster = cluster;
      this.#sender = (key, args, abortSignal) =>
        view.sendCommand(key, false, args, abortSignal ? { abortSignal } : {});
    } else {
      const view = (client as RedisNodeClient).withTypeMapping({
        [BLOB_STRING]: Buffer,
      });
      this.#sender = (_key, args, abortSignal) =>
        view.sendCommand(args, abortSignal ? { abortSignal } : {});
    }
    this.#prefix = config.prefix;
    this.#timeout = config.commandTimeout;
    this.#waitReplicas = config.waitReplicas;
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
      await this.#send(key, ["DEL", key]);
    } else {
      await this.#send(key, [
        "SET",
        key,
        encode(data, time, false),
        "PX",
        `${span}`,
      ]);
    }
    await this.#replicated(key);
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
    await this.#send(key, ["DEL", key]);
    await this.#replicated(key);
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
    for await (const names of this.#scan()) {
      if (names.length === 0) continue;
      // One MGET on one node; a GET a key on a cluster, whose keys of one
      // node are in different slots.
      const values = this.#cluster === undefined
        ? await this.#send(undefined, ["MGET", ...names]) as unknown[]
        : await Promise.all(names.map((key) => this.#send(key, ["GET", key])));
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
    if (this.#cluster !== undefined) {
      return await this.#commitAcrossSlots(writes, now);
    }
    const keys = writes.map(({ token }) => this.#prefix + token);
    const args = [
      `${now}`,
      this.#prefix,
      "1",
      ...writes.flatMap((write) => this.#writeArgs(write, now)),
    ];
    if (await this.#script(COMPARE_AND_SET, keys, args) !== 1) return false;
    await this.#replicated(keys[0]!);
    return true;
  }

  /**
   * `commitVersioned` on a cluster, where the keys of one write are in
   * different slots and no script may span them. Key by key, in an order
   * that is safe if interrupted:
   * 1. each live session is added to its user's list first, so a live
   *    session is never missing from it (an entry whose write then fails
   *    points at a session that is not the user's: lists skip it, and it
   *    leaves the list with its expiry);
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
        await this.#script(LIST_USER, [`${this.#prefix}user:${user}`], [
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
        ...this.#writeArgs(write, now),
      ];
      if (await this.#script(COMPARE_AND_SET, [key], args) !== 1) {
        if (i === 0) return false;
        throw new Error(
          `Cannot finish a write of ${writes.length} keys on Redis Cluster: another writer changed ${write.token} after ${i} of them were written (the session was ended, not renewed)`,
        );
      }
      await this.#replicated(key);
    }
    return true;
  }

  /** The script arguments of one write. */
  #writeArgs(
    { ifVersion, data, expiry, ended, user }: VersionedWrite,
    now: number,
  ): (string | Buffer)[] {
    const time = Math.floor(expiry.getTime());
    const listed = ended === true ? undefined : user;
    return [
      (ifVersion as string | null) ?? "",
      encode(data, time, ended === true, listed),
      `${time - now}`,
      listed ?? "",
    ];
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
    const list = `${this.#prefix}user:${user}`;
    const found = new Map<string, VersionedEntry>();
    if (this.#cluster === undefined) {
      const pairs = await this.#script(FIND_BY_USER, [list], [
        `${now}`,
        this.#prefix,
        user,
      ]) as Uint8Array[];
      for (let i = 0; i + 1 < pairs.length; i += 2) {
        const entry = decode(pairs[i + 1]);
        if (entry !== undefined && !entry.ended) {
          found.set(decoder.decode(pairs[i]), entry);
        }
      }
      return found;
    }
    // On a cluster the sessions are in other slots: the list first, then
    // each session. Entries of sessions no longer the user's are skipped
    // (they leave the list at their expiry).
    const tokens =
      (await this.#script(LIST_TOKENS, [list], [`${now}`]) as unknown[]).map(
        text,
      );
    const values = await Promise.all(
      tokens.map((token) =>
        this.#send(this.#prefix + token, ["GET", this.#prefix + token])
      ),
    );
    tokens.forEach((token, i) => {
      const entry = decode(values[i]);
      if (
        entry !== undefined && !entry.ended && now < entry.expiry.getTime() &&
        userIn(values[i] as Uint8Array) === user
      ) {
        found.set(token, entry);
      }
    });
    return found;
  }

  /** The entry under a token, live or not; `undefined` when there is none. */
  async #get(token: string): Promise<VersionedEntry | undefined> {
    const key = this.#prefix + token;
    const entry = decode(await this.#send(key, ["GET", key]));
    return entry !== undefined && Date.now() < entry.expiry.getTime()
      ? entry
      : undefined;
  }

  /** The keys under the prefix, in batches, from every master on a cluster. */
  async *#scan(): AsyncGenerator<string[]> {
    const match = globEscape(this.#prefix) + "*";
    const scanners = this.#cluster === undefined
      ? [(args: string[]) => this.#send(undefined, args)]
      : await Promise.all(
        this.#cluster.masters.map(async (master) => {
          const node = await this.#cluster!.nodeClient(master as never);
          return (args: string[]) =>
            withTimeout(this.#timeout, "Redis", () => node.sendCommand(args));
        }),
      );
    for (const scan of scanners) {
      let cursor = "0";
      do {
        const [next, keys] = await scan([
          "SCAN",
          cursor,
          "MATCH",
          match,
          "COUNT",
          "500",
        ]) as [unknown, unknown[]];
        cursor = text(next);
        yield keys.map(text);
      } while (cursor !== "0");
    }
  }

  /**
   * With `waitReplicas`, waits until that many replicas of `key`'s master
   * have its last write.
   */
  async #replicated(key: string): Promise<void> {
    const wanted = this.#waitReplicas;
    if (wanted === 0) return;
    // WAIT gives up at half the command's own timeout, so its answer (how
    // many replicas have the write) comes back before that timeout.
    const within = Math.max(1, Math.floor(this.#timeout / 2));
    const acked = Number(
      await this.#send(key, ["WAIT", `${wanted}`, `${within}`]),
    );
    if (acked < wanted) {
      throw new Error(
        `Cannot confirm the session write: ${acked} of ${wanted} replicas had it after ${within} ms (it is on the master, and may be lost if the master fails)`,
      );
    }
  }

  /** Runs the compare-and-set script by its hash, loading it when Redis lost it. */
  async #script(
    script: string,
    keys: string[],
    args: (string | Buffer)[],
  ): Promise<unknown> {
    const tail = [`${keys.length}`, ...keys, ...args];
    const key = keys[0];
    const sha = this.#shas.get(script);
    if (sha !== undefined) {
      try {
        return await this.#send(key, ["EVALSHA", sha, ...tail]);
      } catch (error) {
        if (!String((error as Error)?.message).startsWith("NOSCRIPT")) {
          throw error;
        }
      }
    }
    // Loaded on the node that serves the key (on a cluster, each master
    // loads it the first time it is asked).
    const loaded = text(await this.#send(key, ["SCRIPT", "LOAD", script]));
    this.#shas.set(script, loaded);
    return await this.#send(key, ["EVALSHA", loaded, ...tail]);
  }

  #send(
    key: string | undefined,
    args: (string | Buffer)[],
  ): Promise<unknown> {
    return withTimeout(
      this.#timeout,
      "Redis",
      (abortSignal) => this.#sender(key, args, abortSignal),
    );
  }
}
