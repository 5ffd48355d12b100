// MemStore's options: the type (exported by the store's module), and their
// checks, with each default written once.

import { OptionChecker } from "./_options.ts";

/** Options for `MemStore`. */
export interface MemStoreOptions {
  /**
   * Milliseconds between sweeps of expired sessions. 0 turns the sweep off:
   * expired sessions are then never returned, but stay in memory until they
   * are committed again or deleted.
   *
   * @default {60000}
   */
  cleanupInterval?: number;
  /**
   * The most entries held at once: sessions, and the markers that ended
   * sessions leave for a while (see `VersionedStore`). A commit that would
   * go over drops expired entries first, then evicts the live ones closest
   * to expiry (with an idle timeout, the least recently used).
   *
   * @default {Infinity}
   */
  maxSessions?: number;
  /**
   * The most bytes held at once: every entry's data, plus one byte per
   * character of its token. Beyond it, entries make room as for
   * `maxSessions`; a single session larger than this is refused with a
   * `RangeError`.
   *
   * @default {Infinity}
   */
  maxBytes?: number;
}

/** MemStore's options, checked, with the defaults filled in. */
export interface MemStoreConfig {
  cleanupInterval: number;
  maxSessions: number;
  maxBytes: number;
}

/** Checks `MemStore`'s options. */
export function memStoreConfig(options: MemStoreOptions = {}): MemStoreConfig {
  const check = new OptionChecker("MemStore");
  check.object("options", options, [
    "cleanupInterval",
    "maxSessions",
    "maxBytes",
  ]);
  const limit = (option: string, value: unknown) =>
    check.number(
      option,
      value,
      Infinity,
      "must be a whole number >= 1 or Infinity",
      (n) => n >= 1 && (n === Infinity || Number.isInteger(n)),
    );
  return {
    cleanupInterval: check.interval(
      "cleanupInterval",
      options.cleanupInterval,
      60_000,
    ),
    maxSessions: limit("maxSessions", options.maxSessions),
    maxBytes: limit("maxBytes", options.maxBytes),
  };
}
