// KvStore's options: the type (exported by the store's module), and their
// checks, with each default written once.

import { OptionChecker } from "./_options.ts";

/**
 * A part of a Deno KV key (`Deno.KvKeyPart`), spelled out so that this
 * module's types need no `Deno` namespace where the package runs on Node or
 * Bun.
 */
export type KvKeyPart = string | number | bigint | boolean | Uint8Array;

/** Options for `KvStore`. */
export interface KvStoreOptions {
  /** The key parts every key of the store starts with. @default {["sessions"]} */
  prefix?: readonly KvKeyPart[];
}

/** KvStore's options, checked, with the defaults filled in. */
export interface KvStoreConfig {
  prefix: KvKeyPart[];
}

const KEY_PART_TYPES = new Set(["string", "number", "bigint", "boolean"]);

/** Checks `KvStore`'s options. */
export function kvStoreConfig(options: KvStoreOptions = {}): KvStoreConfig {
  const check = new OptionChecker("KvStore");
  check.object("options", options, ["prefix"]);
  const { prefix = ["sessions"] } = options;
  if (
    !Array.isArray(prefix) ||
    !prefix.every((part) =>
      KEY_PART_TYPES.has(typeof part) || part instanceof Uint8Array
    )
  ) {
    throw check.error(
      "prefix",
      "must be an array of key parts (strings, numbers, bigints, booleans or Uint8Arrays)",
      prefix,
    );
  }
  return { prefix: [...prefix] };
}
