// PostgresStore's table: its statements, each written once for the table
// (names quoted as identifiers, values always parameters), and how its rows
// map to entries.

import type { VersionedEntry } from "./store.ts";

/** Quotes a name part as a PostgreSQL identifier. */
function identifier(part: string): string {
  return `"${part.replaceAll('"', '""')}"`;
}

/** A random version: 16 hex digits. */
export function newVersion(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return hex(bytes);
}

const HEX = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

/** Bytes as hex digits, as `decode(..., 'hex')` reads them. */
export function hex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!];
  return out;
}

/** A `bytea` as a driver gives it: bytes, or text in the hex format. */
export function bytesOf(value: unknown): Uint8Array {
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
export function entryOf(row: Record<string, unknown>): VersionedEntry {
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
 * the bytes in hex, the expiry, whether it is a marker ("t" or "f"), its
 * user, its new version. It locks the rows there are (in token order),
 * checks every version against them, then deletes the rows whose write is
 * past its expiry and inserts or updates the others, updating only rows it
 * locked. A token created by another writer since (so not locked, and
 * not updated) leaves the write partial: the statement then fails, which
 * undoes it all, and `commitVersioned` answers false.
 */
function compareAndSet(table: string): string {
  return `WITH input AS (
      SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[],
        $6::text[], $7::text[], $8::text[])
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
      SELECT token, decode(data, 'hex'), expiry, version, ended::boolean,
        user_id
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
export const UNDONE = "22012";

/** SQLSTATEs of a CREATE ... IF NOT EXISTS that raced another one. */
export const RACED = new Set(["23505", "42P07", "42710"]);

/** The statements of a PostgresStore's table, written once. */
export class TableStatements {
  /** The table's name as given (`schema.table`), for the cleanup's lock. */
  readonly name: string;
  /** CREATE TABLE and its indexes, each IF NOT EXISTS. */
  readonly create: readonly string[];
  /** $1 token, $2 now. */
  readonly find: string;
  /** $1 token, $2 bytes in hex, $3 expiry, $4 version: a plain write. */
  readonly put: string;
  /** $1 token. */
  readonly delete: string;
  /** $1 now. */
  readonly all: string;
  /** $1 user, $2 now. */
  readonly byUser: string;
  /**
   * One session's write where its version is still $7: $1 now, $2 token,
   * $3 bytes in hex, $4 expiry, $5 new version, $6 user.
   */
  readonly update: string;
  /** The same where nothing live is (no $7). */
  readonly insert: string;
  /** The compare-and-set of several rows (see compareAndSet). */
  readonly compareAndSet: string;
  /** $1 the table's name, $2 now, $3 the most rows to delete. */
  readonly cleanup: string;

  /** @param parts `[table]` or `[schema, table]`. */
  constructor(parts: readonly string[]) {
    const table = parts.map(identifier).join(".");
    const index = (suffix: string) => identifier(`${parts.at(-1)}_${suffix}`);
    this.name = parts.join(".");
    this.create = [
      `CREATE TABLE IF NOT EXISTS ${table} (
        token text PRIMARY KEY,
        data bytea NOT NULL,
        expiry bigint NOT NULL,
        version text NOT NULL,
        ended boolean NOT NULL DEFAULT false,
        user_id text
      )`,
      `CREATE INDEX IF NOT EXISTS ${index("expiry")} ON ${table} (expiry)`,
      `CREATE INDEX IF NOT EXISTS ${
        index("user")
      } ON ${table} (user_id) WHERE user_id IS NOT NULL`,
    ];
    this.find = `SELECT data, version, expiry, ended FROM ${table}
      WHERE token = $1 AND expiry > $2`;
    this.put = `INSERT INTO ${table} AS t
        (token, data, expiry, version, ended, user_id)
      VALUES ($1, decode($2, 'hex'), $3, $4, false, NULL)
      ON CONFLICT (token) DO UPDATE SET data = excluded.data,
        expiry = excluded.expiry, version = excluded.version, ended = false,
        user_id = NULL`;
    this.delete = `DELETE FROM ${table} WHERE token = $1`;
    this.all =
      `SELECT token, data FROM ${table} WHERE expiry > $1 AND NOT ended`;
    this.byUser = `SELECT token, data, version, expiry, ended FROM ${table}
      WHERE user_id = $1 AND expiry > $2 AND NOT ended`;
    this.update = `UPDATE ${table} SET data = decode($3, 'hex'), expiry = $4,
        version = $5, ended = false, user_id = $6
      WHERE token = $2 AND version = $7 AND expiry > $1 RETURNING 1`;
    this.insert = `INSERT INTO ${table} AS t
        (token, data, expiry, version, ended, user_id)
      VALUES ($2, decode($3, 'hex'), $4, $5, false, $6)
      ON CONFLICT (token) DO UPDATE SET data = excluded.data,
        expiry = excluded.expiry, version = excluded.version, ended = false,
        user_id = excluded.user_id
      WHERE t.expiry <= $1 RETURNING 1`;
    this.compareAndSet = compareAndSet(table);
    this.cleanup = `WITH lock AS (
        SELECT pg_try_advisory_xact_lock(
          hashtextextended('sessions cleanup ' || $1, 0)) AS got
      ), doomed AS (
        SELECT token FROM ${table}
        WHERE (SELECT got FROM lock) AND expiry <= $2
        ORDER BY expiry LIMIT $3 FOR UPDATE SKIP LOCKED
      ), deleted AS (
        DELETE FROM ${table}
        WHERE token IN (SELECT token FROM doomed) RETURNING 1
      )
      SELECT (SELECT got FROM lock) AS got,
        (SELECT count(*) FROM deleted)::int AS deleted`;
  }
}
