// RedisStore's options: the type (exported by the store's module), and their
// checks, with each default written once.

import { MAX_TIMER_DELAY, OptionChecker } from "./_options.ts";

/** Options for `RedisStore`. */
export interface RedisStoreOptions {
  /** What every key of the store starts with. @default {"session:"} */
  prefix?: string;
  /**
   * Milliseconds a Redis command may take. Past that it fails with a
   * `DOMException` named `"TimeoutError"`; a command still waiting to be
   * sent (Redis is down and the client reconnecting) is dropped, so it
   * never runs late.
   *
   * @default {2000}
   */
  commandTimeout?: number;
  /**
   * After each write, wait (`WAIT`) until this many replicas of the key's
   * master have it, at most half of `commandTimeout`; fewer in time fails the
   * write's request (through `onError`), though the write stays on the
   * master. Redis replicates asynchronously: without it, a write
   * acknowledged just before a failover can be lost (a sign-out undone, a
   * change forgotten). 0 does not wait.
   *
   * @default {0}
   */
  waitReplicas?: number;
}

/** RedisStore's options, checked, with the defaults filled in. */
export interface RedisStoreConfig {
  prefix: string;
  commandTimeout: number;
  waitReplicas: number;
}

/** Checks `RedisStore`'s options. */
export function redisStoreConfig(
  options: RedisStoreOptions = {},
): RedisStoreConfig {
  const check = new OptionChecker("RedisStore");
  check.object("options", options, [
    "prefix",
    "commandTimeout",
    "waitReplicas",
  ]);
  const { prefix = "session:" } = options;
  if (typeof prefix !== "string") {
    throw check.error("prefix", "must be a string", prefix);
  }
  return {
    prefix,
    commandTimeout: check.number(
      "commandTimeout",
      options.commandTimeout,
      2_000,
      `must be > 0 and at most ${MAX_TIMER_DELAY}`,
      (n) => n > 0 && n <= MAX_TIMER_DELAY,
      "a number of milliseconds",
    ),
    waitReplicas: check.number(
      "waitReplicas",
      options.waitReplicas,
      0,
      "must be a whole number >= 0",
      (n) => Number.isInteger(n) && n >= 0,
    ),
  };
}
