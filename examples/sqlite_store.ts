// A session store of your own: sessions in SQLite (Deno's built-in
// node:sqlite), with compare-and-set writes, so processes sharing one
// database file merge their requests like the package's stores do. Its
// test runs the package's conformance kit on it (SQLite opens files, so
// it needs --allow-read --allow-write):
//
//   deno test --allow-read --allow-write examples/sqlite_store_test.ts
//
//   const store = new SqliteStore("sessions.db");
//   const sessions = new SessionManager({ store });

import { DatabaseSync } from "node:sqlite";
import type {
  IterableStore,
  Version,
  VersionedEntry,
  VersionedStore,
  VersionedWrite,
} from "../mod.ts";

function check(
  action: string,
  token: unknown,
  data?: unknown,
  expiry?: unknown,
) {
  if (typeof token !== "string") {
    throw new TypeError(`Cannot ${action}: token must be a string`);
  }
  if (arguments.length > 2 && !(data instanceof Uint8Array)) {
    throw new TypeError(`Cannot ${action}: data must be a Uint8Array`);
  }
  if (
    arguments.length > 3 &&
    !(expiry instanceof Date && !Number.isNaN(expiry.getTime()))
  ) {
    throw new TypeError(`Cannot ${action}: expiry must be a valid Date`);
  }
}

interface Row {
  data: Uint8Array;
  expiry: number;
  version: number;
  ended: number;
}

/** Sessions in a SQLite database; `":memory:"` for one that goes with the process. */
export class SqliteStore implements IterableStore, VersionedStore, Disposable {
  #db: DatabaseSync;

  constructor(path: string) {
    this.#db = new DatabaseSync(path);
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS sessions (
        token TEXT PRIMARY KEY,
        data BLOB NOT NULL,
        expiry INTEGER NOT NULL,
        version INTEGER NOT NULL,
        ended INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expiry);
      CREATE TABLE IF NOT EXISTS versions (n INTEGER NOT NULL);
      INSERT INTO versions SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM versions);
    `);
  }

  find(token: string): Promise<Uint8Array | undefined> {
    return this.#settle(() => {
      check("find session", token);
      const row = this.#live(token);
      return row && !row.ended ? row.data : undefined;
    });
  }

  commit(token: string, data: Uint8Array, expiry: Date): Promise<void> {
    return this.#settle(() => {
      check("commit session", token, data, expiry);
      this.#transaction(() => this.#write(token, data, expiry, false));
    });
  }

  delete(token: string): Promise<void> {
    return this.#settle(() => {
      check("delete session", token);
      this.#db.prepare("DELETE FROM sessions WHERE token = ?").run(token);
    });
  }

  all(): Promise<Map<string, Uint8Array>> {
    return this.#settle(() => {
      const rows = this.#db.prepare(
        "SELECT token, data FROM sessions WHERE expiry > ? AND ended = 0",
      ).all(Date.now()) as unknown as { token: string; data: Uint8Array }[];
      return new Map(rows.map((row) => [row.token, row.data]));
    });
  }

  findVersioned(token: string): Promise<VersionedEntry | undefined> {
    return this.#settle(() => {
      check("find session", token);
      const row = this.#live(token);
      return row && {
        data: row.data,
        version: row.version,
        expiry: new Date(row.expiry),
        ended: row.ended === 1,
      };
    });
  }

  commitVersioned(writes: readonly VersionedWrite[]): Promise<boolean> {
    return this.#settle(() => {
      if (!Array.isArray(writes)) {
        throw new TypeError("Cannot commit versioned: writes must be an Array");
      }
      for (const write of writes) {
        if (typeof write !== "object" || write === null) {
          throw new TypeError(
            "Cannot commit versioned: a write must be an object",
          );
        }
        check("commit versioned", write.token, write.data, write.expiry);
        if (write.ifVersion === undefined) {
          throw new TypeError("Cannot commit versioned: ifVersion is missing");
        }
      }
      return this.#transaction(() => {
        for (const { token, ifVersion } of writes) {
          if (!this.#holds(token, ifVersion)) return false;
        }
        for (const { token, data, expiry, ended } of writes) {
          this.#write(token, data, expiry, ended === true);
        }
        return true;
      });
    });
  }

  /** Deletes expired rows; call it now and then (a `setInterval`). */
  deleteExpired(): number {
    return Number(
      this.#db.prepare("DELETE FROM sessions WHERE expiry <= ?").run(Date.now())
        .changes,
    );
  }

  [Symbol.dispose](): void {
    this.#db.close();
  }

  #live(token: string): Row | undefined {
    const row = this.#db.prepare(
      "SELECT data, expiry, version, ended FROM sessions WHERE token = ?",
    ).get(token) as Row | undefined;
    return row !== undefined && Date.now() < row.expiry ? row : undefined;
  }

  #holds(token: string, version: Version | null): boolean {
    const row = this.#live(token);
    return version === null ? row === undefined : row?.version === version;
  }

  #write(token: string, data: Uint8Array, expiry: Date, ended: boolean): void {
    if (expiry.getTime() <= Date.now()) {
      this.#db.prepare("DELETE FROM sessions WHERE token = ?").run(token);
      return;
    }
    // Versions never repeat, even for a token deleted and written again.
    const { n } = this.#db.prepare(
      "UPDATE versions SET n = n + 1 RETURNING n",
    ).get() as { n: number };
    this.#db.prepare(
      `INSERT INTO sessions (token, data, expiry, version, ended)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (token) DO UPDATE SET data = excluded.data,
         expiry = excluded.expiry, version = excluded.version,
         ended = excluded.ended`,
    ).run(token, data, expiry.getTime(), n, ended ? 1 : 0);
  }

  #transaction<R>(work: () => R): R {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = work();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  #settle<R>(work: () => R): Promise<R> {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
