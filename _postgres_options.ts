// PostgresStore's options: the type (exported by the store's module), and
// their checks, with each default written once.

import { OptionChecker } from "./_options.ts";

/** Options for `PostgresStore`. */
export interface PostgresStoreOptions {
  /**
   * The table sessions are kept in: a name, or `schema.table`. Each part is
   * quoted as an identifier, so any name works and none is read as SQL.
   *
   * @default {"sessions"}
   */
  table?: string;
  /**
   * Milliseconds between cleanups of expired rows; 0 for none. One server
   * at a time cleans (an advisory lock): the others skip that round.
   *
   * @default {60000}
   */
  cleanupInterval?: number;
  /**
   * The most rows one cleanup statement deletes; a cleanup runs statements
   * until no expired row is left, so none holds its locks for long.
   *
   * @default {1000}
   */
  cleanupBatch?: number;
}

/** PostgresStore's options, checked, with the defaults filled in. */
export interface PostgresStoreConfig {
  /** The table's name parts: `[table]` or `[schema, table]`. */
  table: string[];
  cleanupInterval: number;
  cleanupBatch: number;
}

/** Checks `PostgresStore`'s options. */
export function postgresStoreConfig(
  options: PostgresStoreOptions = {},
): PostgresStoreConfig {
  const check = new OptionChecker("PostgresStore");
  check.object("options", options, [
    "table",
    "cleanupInterval",
    "cleanupBatch",
  ]);
  const { table = "sessions" } = options;
  const parts = typeof table === "string" ? table.split(".") : [];
  if (
    parts.length < 1 || parts.length > 2 ||
    parts.some((part) => part === "" || part.includes("\0"))
  ) {
    throw check.error(
      "table",
      'must be a table name or "schema.table" (no empty part, no NUL)',
      table,
    );
  }
  return {
    table: parts,
    cleanupInterval: check.interval(
      "cleanupInterval",
      options.cleanupInterval,
      60_000,
    ),
    cleanupBatch: check.number(
      "cleanupBatch",
      options.cleanupBatch,
      1_000,
      "must be a whole number from 1 to 100000",
      (n) => Number.isInteger(n) && n >= 1 && n <= 100_000,
    ),
  };
}
