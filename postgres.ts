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
import { setUnrefInterval } from "./_timers.ts";
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

/** Quotes a name part as a PostgreSQL identifier. */
function identifier(part: string): string {
  return `"${part.replaceAll('"', '""')}"`;
}

/** A random version: 16 hex digits. */
function newVersion(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return hex(bytes);
}

const HEX = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

/** Bytes as hex digits, as `decode(..., 'hex')` reads them. */
function hex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!];
  return out;
}

/** A `bytea` as a driver gives it: bytes, or text in the hex format. */
function bytesOf(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (typeof value === "string" && value.startsWith("\\x")) {
    const bytes = new Uint8Array((value.length - 2) / 2);
    for (let i = 0; i < bytes.length; i++) {
      bytes[i] = parseInt(value.slice(2 + 2 * i, 4 + 2 * i), 16);
    }
    return bytes;
  }
  throw new TypeError(
    `Cannot read session: the driver gave a bytea as ${typeof value}`,
  );
}

/** A row of the table as an entry. */
function entryOf(row: Record<string, unknown>): VersionedEntry {
  return {
    data: bytesOf(row.data),
    version: String(row.version),
    expiry: new Date(Number(row.expiry)),
    ended: row.ended === true,
  };
}

/**
 * The compare-and-set statement. $1 is now (ms); $2 to $8 are arrays,
 * one element per write: token, the version wanted (null: nothing live),
 * the bytes in hex, the expiry, whether it is a marker, its user, its new
 * version. It locks the rows there are (in token order), checks every
 * version against them, then deletes the rows whose write is past its
 * expiry and inserts or updates the others, updating only rows it
 * locked. A token created by another writer since (so not locked, and
 * not updated) leaves the write partial: the statement then fails, which
 * undoes it all, and `commitVersioned` answers false.
 */
function compareAndSet(table: string): string {
  return `WITH input AS (
      SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[],
        $6::boolean[], $7::text[], $8::text[])
        AS i(token, if_version, data, expiry, ended, user_id, version)
    ), locked AS (
      SELECT t.token, t.version, t.expiry FROM ${table} t
      WHERE t.token IN (SELECT token FROM input) ORDER BY t.token FOR UPDATE
    ), checked AS (
      SELECT coalesce(bool_and(CASE
        WHEN i.if_version IS NULL THEN l.token IS NULL OR l.expiry <= $1
        ELSE l.version IS NOT NULL AND l.version = i.if_version
          AND l.expiry > $1
      END), true) AS ok
      FROM input i LEFT JOIN locked l ON l.token = i.token
    ), removed AS (
      DELETE FROM ${table} t USING input i
      WHERE (SELECT ok FROM checked) AND t.token = i.token AND i.expiry <= $1
      RETURNING 1
    ), written AS (
      INSERT INTO ${table} AS t (token, data, expiry, version, ended, user_id)
      SELECT token, decode(data, 'hex'), expiry, version, ended, user_id
      FROM input WHERE (SELECT ok FROM checked) AND expiry > $1
      ON CONFLICT (token) DO UPDATE SET data = excluded.data,
        expiry = excluded.expiry, version = excluded.version,
        ended = excluded.ended, user_id = excluded.user_id
      WHERE t.version IN (SELECT version FROM locked l WHERE l.token = t.token)
      RETURNING 1
    )
    SELECT CASE
      WHEN NOT (SELECT ok FROM checked) THEN false
      WHEN (SELECT count(*) FROM written) =
        (SELECT count(*) FROM input WHERE expiry > $1) THEN true
      ELSE (SELECT 1 / (count(*) - count(*)) = 0 FROM input)
    END AS ok`;
}

/** SQLSTATE of the error the compare-and-set raises to undo a partial write. */
const UNDONE = "22012";

/** SQLSTATEs of a CREATE ... IF NOT EXISTS that raced another one. */
const RACED = new Set(["23505", "42P07", "42710"]);

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
  implements IterableStore, UserIndexStore, Disposable {
  #client: PostgresClient;
  #table: string;
  #name: string;
  #indexPrefix: string;
  #batch: number;
  /** The compare-and-set statement, for this table. */
  #cas: string;
  /** The write of one session where its version is still $7. */
  #update: string;
  /** The write of one session where nothing live is. */
  #create: string;
  #interval: ReturnType<typeof setInterval> | undefined;
  #cleaning = false;

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
    this.#table = config.table.map(identifier).join(".");
    this.#name = config.table.join(".");
    this.#indexPrefix = config.table.at(-1)!;
    this.#batch = config.cleanupBatch;
    const table = this.#table;
    this.#cas = compareAndSet(table);
    this.#update = `UPDATE ${table} SET data = decode($3, 'hex'), expiry = $4,
        version = $5, ended = false, user_id = $6
      WHERE token = $2 AND version = $7 AND expiry > $1 RETURNING 1`;
    this.#create = `INSERT INTO ${table} AS t
        (token, data, expiry, version, ended, user_id)
      VALUES ($2, decode($3, 'hex'), $4, $5, false, $6)
      ON CONFLICT (token) DO UPDATE SET data = excluded.data,
        expiry = excluded.expiry, version = excluded.version, ended = false,
        user_id = excluded.user_id
      WHERE t.expiry <= $1 RETURNING 1`;
    if (config.cleanupInterval > 0) {
      this.#interval = setUnrefInterval(
        () => void this.cleanup().catch(() => {}),
        config.cleanupInterval,
      );
    }
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
    const index = (suffix: string) =>
      identifier(`${this.#indexPrefix}_${suffix}`);
    const statements = [
      `CREATE TABLE IF NOT EXISTS ${this.#table} (
        token text PRIMARY KEY,
        data bytea NOT NULL,
        expiry bigint NOT NULL,
        version text NOT NULL,
        ended boolean NOT NULL DEFAULT false,
        user_id text
      )`,
      `CREATE INDEX IF NOT EXISTS ${
        index("expiry")
      } ON ${this.#table} (expiry)`,
      `CREATE INDEX IF NOT EXISTS ${
        index("user")
      } ON ${this.#table} (user_id) WHERE user_id IS NOT NULL`,
    ];
    for (const statement of statements) {
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
    await this.#client.query(
      `INSERT INTO ${this.#table} AS t (token, data, expiry, version, ended, user_id)
       VALUES ($1, decode($2, 'hex'), $3, $4, false, NULL)
       ON CONFLICT (token) DO UPDATE SET data = excluded.data,
         expiry = excluded.expiry, version = excluded.version, ended = false,
         user_id = NULL`,
      [token, hex(data), time, newVersion()],
    );
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
    await this.#client.query(`DELETE FROM ${this.#table} WHERE token = $1`, [
      token,
    ]);
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
      `SELECT token, data FROM ${this.#table} WHERE expiry > $1 AND NOT ended`,
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
      `SELECT data, version, expiry, ended FROM ${this.#table}
       WHERE token = $1 AND expiry > $2`,
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
      ended: [] as boolean[],
      user: [] as (string | null)[],
      version: [] as string[],
    };
    for (const { token, ifVersion, data, expiry, ended, user } of writes) {
      if (ifVersion !== null && typeof ifVersion !== "string") return false;
      columns.token.push(token);
      columns.ifVersion.push(ifVersion);
      columns.data.push(hex(data));
      columns.expiry.push(Math.floor(expiry.getTime()));
      columns.ended.push(ended === true);
      columns.user.push(ended === true ? null : user ?? null);
      columns.version.push(newVersion());
    }
    const now = Date.now();
    const single = writes.length === 1 && columns.expiry[0]! > now &&
      !columns.ended[0];
    if (single) {
      // One session written: one row, so a plain UPDATE (or INSERT) is
      // atomic on its own, and cheaper to plan than the general statement.
      const ifVersion = columns.ifVersion[0]!;
      const { rows } = await this.#client.query(
        ifVersion === null ? this.#create : this.#update,
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
      const { rows } = await this.#client.query(this.#cas, [
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
      `SELECT token, data, version, expiry, ended FROM ${this.#table}
       WHERE user_id = $1 AND expiry > $2 AND NOT ended`,
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
  async cleanup(): Promise<number> {
    if (this.#cleaning) return 0;
    this.#cleaning = true;
    try {
      let total = 0;
      for (;;) {
        const { rows } = await this.#client.query(
          `WITH lock AS (
             SELECT pg_try_advisory_xact_lock(
               hashtextextended('sessions cleanup ' || $1, 0)) AS got
           ), doomed AS (
             SELECT token FROM ${this.#table}
             WHERE (SELECT got FROM lock) AND expiry <= $2
             ORDER BY expiry LIMIT $3 FOR UPDATE SKIP LOCKED
           ), deleted AS (
             DELETE FROM ${this.#table}
             WHERE token IN (SELECT token FROM doomed) RETURNING 1
           )
           SELECT (SELECT got FROM lock) AS got,
             (SELECT count(*) FROM deleted)::int AS deleted`,
          [this.#name, Date.now(), this.#batch],
        );
        const { got, deleted } = rows[0] as { got: boolean; deleted: number };
        total += deleted;
        // Another server holds the lock, or nothing expired is left.
        if (!got || deleted < this.#batch) return total;
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    } finally {
      this.#cleaning = false;
    }
  }

  /**
   * Stops the cleanup timer; the store stays usable. Safe to call more
   * than once.
   *
   * @example Stopping the cleanup in a test
   * ```ts ignore
   * store.stopCleanup();
   * ```
   */
  stopCleanup(): void {
    clearInterval(this.#interval);
    this.#interval = undefined;
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
}
