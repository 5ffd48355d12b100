/**
 * {@linkcode PostgresStore}: sessions in the PostgreSQL database the
 * application already runs, shared by every process, with compare-and-set
 * writes so that overlapping requests are merged and an ended session stays
 * ended across processes.
 *
 * - The application brings its own pool: anything with
 *   `query(text, values)` resolving to `{ rows }`, as npm `pg`'s `Pool`
 *   is; the package depends on no driver.
 * - One expiry rule: a session is live while `Date.now() < expiry` on the
 *   application's clock, which every statement is given (the database's
 *   `now()` is never used).
 * - A save is one statement: a compare-and-set of every row it writes,
 *   all or none; a renewal writes the new session and the old token's
 *   marker in that one statement.
 * - Expired rows are deleted in batches, by one server at a time (an
 *   advisory lock), on a timer that never keeps the process alive.
 * - A per-user index (a `UserIndexStore`): the user of each session is a
 *   column of its row, written with it.
 *
 * @module
 */

import { Cleanup } from "./_postgres_cleanup.ts";
import {
  postgresStoreConfig,
  type PostgresStoreOptions,
} from "./_postgres_options.ts";
import {
  checkData,
  checkToken,
  checkUser,
  checkWrites,
  timeOf,
} from "./_store_args.ts";
import {
  bytesOf,
  entryOf,
  hex,
  newVersion,
  RACED,
  TableStatements,
  UNDONE,
} from "./_postgres_sql.ts";
import type {
  IterableStore,
  UserIndexStore,
  VersionedEntry,
  VersionedWrite,
} from "./store.ts";

// The types its API names, for readers of this module alone.
export type { PostgresStoreOptions } from "./_postgres_options.ts";
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
 * What `PostgresStore` needs of a database client: npm `pg`'s `Pool` (or
 * `Client`) as it is. Other drivers take a few lines, as for postgres.js:
 * `{ query: (text, values) => sql.unsafe(text, values).then((rows) => ({ rows })) }`.
 */
export interface PostgresClient {
  /**
   * Runs one statement with `$1`, `$2`... parameters.
   *
   * @param text The statement.
   * @param values The parameters: strings, numbers, booleans, `null`, and
   * arrays of them.
   * @returns Its rows, as objects by column name.
   */
  query(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: Record<string, unknown>[] }>;
}

/**
 * A session store in PostgreSQL: sessions live across restarts and are
 * shared by every process that uses the database. It is a
 * {@linkcode UserIndexStore}: a `SessionManager` over it merges overlapping
 * requests, keeps ended sessions ended across processes, and lists one
 * user's sessions.
 *
 * The table (create it with {@linkcode PostgresStore.createTable}, or with
 * the DDL in the guide):
 *
 * ```sql
 * CREATE TABLE sessions (
 *   token   text PRIMARY KEY,  -- the token, or its hash
 *   data    bytea NOT NULL,    -- the encoded session, or an ended session's marker
 *   expiry  bigint NOT NULL,   -- ms since 1970 on the application's clock
 *   version text NOT NULL,     -- random, new with every write
 *   ended   boolean NOT NULL DEFAULT false,
 *   user_id text               -- the user the session is bound to
 * );
 * CREATE INDEX sessions_expiry ON sessions (expiry);
 * CREATE INDEX sessions_user ON sessions (user_id) WHERE user_id IS NOT NULL;
 * ```
 *
 * @example Sessions in PostgreSQL
 * ```ts ignore
 * import pg from "npm:pg@8";
 * import { SessionManager } from "@sessions/memstore";
 * import { PostgresStore } from "@sessions/memstore/postgres";
 *
 * const pool = new pg.Pool({ connectionString: Deno.env.get("DATABASE_URL") });
 * using store = new PostgresStore(pool);
 * await store.createTable();
 * const sessions = new SessionManager({ store });
 * Deno.serve(sessions.loadAndSave((_request, session) => {
 *   const visits = ((session.get("visits") as number) ?? 0) + 1;
 *   session.put("visits", visits);
 *   return new Response(`visit ${visits}`);
 * }));
 * ```
 */
export class PostgresStore
  implements IterableStore, UserIndexStore, Disposable, AsyncDisposable {
  #client: PostgresClient;
  #sql: TableStatements;
  #cleanup: Cleanup;

  /**
   * Creates a store over the application's pool, and starts the cleanup.
   *
   * @param client The pool (npm `pg`'s `Pool`), or any
   * {@linkcode PostgresClient}. The application closes it.
   * @param options The table and the cleanup.
   * @throws {TypeError} When `client` has no `query` method, or an option
   * is wrong.
   *
   * @example A table in a schema of its own, cleaned every 5 minutes
   * ```ts ignore
   * using store = new PostgresStore(pool, {
   *   table: "auth.sessions",
   *   cleanupInterval: 5 * 60_000,
   * });
   * ```
   */
  constructor(client: PostgresClient, options: PostgresStoreOptions = {}) {
    const config = postgresStoreConfig(options);
    if (
      typeof client !== "object" || client === null ||
      typeof client.query !== "function"
    ) {
      throw new TypeError(
        "Cannot create PostgresStore: client must have a query(text, values) method, as npm pg's Pool has",
      );
    }
    this.#client = client;
    this.#sql = new TableStatements(config.table);
    this.#cleanup = new Cleanup(
      (text, values) => client.query(text, values),
      this.#sql,
      config.cleanupBatch,
      config.cleanupInterval,
    );
  }

  /**
   * Creates the table and its indexes if they are missing. Safe to call
   * from every server at start-up, even at once.
   *
   * @example At start-up
   * ```ts ignore
   * await store.createTable();
   * ```
   */
  async createTable(): Promise<void> {
    for (const statement of this.#sql.create) {
      for (let attempt = 1;; attempt++) {
        try {
          await this.#client.query(statement);
          break;
        } catch (error) {
          // Two servers creating it at once: the other one won.
          const code = (error as { code?: unknown })?.code;
          if (!RACED.has(String(code)) || attempt >= 3) throw error;
        }
      }
    }
  }

  /**
   * Looks up a live session: one `SELECT`.
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
    const entry = await this.findVersioned(token);
    return entry === undefined || entry.ended ? undefined : entry.data;
  }

  /**
   * Inserts or replaces a session; an expiry at or before now removes it.
   *
   * @param token The session token.
   * @param data The session's bytes.
   * @param expiry When the session stops being live.
   * @throws {TypeError} (as a rejection, with nothing written) When an
   * argument has the wrong type.
   *
   * @example Storing a session for an hour
   * ```ts ignore
   * await store.commit(token, bytes, new Date(Date.now() + 3_600_000));
   * ```
   */
  async commit(token: string, data: Uint8Array, expiry: Date): Promise<void> {
    const action = "commit session";
    checkToken(action, token);
    checkData(action, data);
    const time = Math.floor(timeOf(action, expiry));
    if (time <= Date.now()) return await this.delete(token);
    await this.#client.query(this.#sql.put, [
      token,
      hex(data),
      time,
      newVersion(),
    ]);
  }

  /**
   * Removes a session; a missing token is not an error.
   *
   * @param token The session token.
   * @throws {TypeError} (as a rejection) When `token` is not a string.
   *
   * @example Removing a session
   * ```ts ignore
   * await store.delete(token);
   * ```
   */
  async delete(token: string): Promise<void> {
    checkToken("delete session", token);
    await this.#client.query(this.#sql.delete, [token]);
  }

  /**
   * Lists every live session: one `SELECT` of the live rows.
   *
   * @returns A new `Map` from token to each live session's bytes.
   *
   * @example Counting live sessions
   * ```ts ignore
   * const live = (await store.all()).size;
   * ```
   */
  async all(): Promise<Map<string, Uint8Array>> {
    const { rows } = await this.#client.query(
      this.#sql.all,
      [Date.now()],
    );
    return new Map(rows.map((row) => [String(row.token), bytesOf(row.data)]));
  }

  /**
   * Reads a live session or marker with its version: one `SELECT`.
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
    checkToken("find session", token);
    const { rows } = await this.#client.query(
      this.#sql.find,
      [token, Date.now()],
    );
    return rows.length === 0 ? undefined : entryOf(rows[0]!);
  }

  /**
   * Writes entries, all or none, if each token's version is still the one
   * given: one statement (for one session, an `UPDATE ... WHERE version =`
   * or an `INSERT ... ON CONFLICT`; for several rows, one that locks the
   * rows it reads, checks every version, then writes every row or none),
   * each write's `user` with it.
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
    const columns = {
      token: [] as string[],
      ifVersion: [] as (string | null)[],
      data: [] as string[],
      expiry: [] as number[],
      // "t" or "f": a driver may type a boolean array as one boolean.
      ended: [] as string[],
      user: [] as (string | null)[],
      version: [] as string[],
    };
    for (const { token, ifVersion, data, expiry, ended, user } of writes) {
      if (ifVersion !== null && typeof ifVersion !== "string") return false;
      columns.token.push(token);
      columns.ifVersion.push(ifVersion);
      columns.data.push(hex(data));
      columns.expiry.push(Math.floor(expiry.getTime()));
      columns.ended.push(ended === true ? "t" : "f");
      columns.user.push(ended === true ? null : user ?? null);
      columns.version.push(newVersion());
    }
    const now = Date.now();
    const single = writes.length === 1 && columns.expiry[0]! > now &&
      columns.ended[0] === "f";
    if (single) {
      // One session written: one row, so a plain UPDATE (or INSERT) is
      // atomic on its own, and cheaper to plan than the general statement.
      const ifVersion = columns.ifVersion[0]!;
      const { rows } = await this.#client.query(
        ifVersion === null ? this.#sql.insert : this.#sql.update,
        [
          now,
          columns.token[0],
          columns.data[0],
          columns.expiry[0],
          columns.version[0],
          columns.user[0],
          ...(ifVersion === null ? [] : [ifVersion]),
        ],
      );
      return rows.length === 1;
    }
    try {
      const { rows } = await this.#client.query(this.#sql.compareAndSet, [
        now,
        ...Object.values(columns),
      ]);
      return rows[0]?.ok === true;
    } catch (error) {
      if ((error as { code?: unknown })?.code === UNDONE) return false;
      throw error;
    }
  }

  /**
   * Reads the live sessions bound to a user: one `SELECT` on the user
   * column's index. O(that user's sessions).
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
    const { rows } = await this.#client.query(
      this.#sql.byUser,
      [user, Date.now()],
    );
    return new Map(rows.map((row) => [String(row.token), entryOf(row)]));
  }

  /**
   * Deletes expired rows now, `cleanupBatch` at a time, unless another
   * server is cleaning this table (then it does nothing). The timer calls
   * it every `cleanupInterval`.
   *
   * @returns How many rows it deleted.
   *
   * @example Cleaning up after a test
   * ```ts ignore
   * const deleted = await store.cleanup();
   * ```
   */
  cleanup(): Promise<number> {
    return this.#cleanup.run();
  }

  /**
   * Stops the cleanup timer, and a running cleanup after its current
   * batch; the store stays usable. Safe to call more than once.
   *
   * @example Stopping the cleanup in a test
   * ```ts ignore
   * store.stopCleanup();
   * ```
   */
  stopCleanup(): void {
    this.#cleanup.stop();
  }

  /**
   * Stops the cleanup timer, so `using store = new PostgresStore(pool)`
   * stops it at the end of the block. The pool stays open: it is the
   * application's.
   *
   * @example Scoping a store to a block
   * ```ts ignore
   * {
   *   using store = new PostgresStore(pool);
   * } // the cleanup stops here
   * ```
   */
  [Symbol.dispose](): void {
    this.stopCleanup();
  }

  /**
   * Stops the cleanup timer and waits for the batch already under way, so
   * that after `await using store = new PostgresStore(pool)` no statement
   * of the store is left running and the pool can be closed.
   *
   * @example Closing the pool after the store's block
   * ```ts ignore
   * {
   *   await using store = new PostgresStore(pool);
   * } // the cleanup stops, and a running one has ended
   * await pool.end();
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#cleanup.stop();
    await this.#cleanup.settled();
  }
}
