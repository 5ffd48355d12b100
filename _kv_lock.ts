// Local KV files shared by processes: SQLite answers "database is locked"
// while another process (or `deno serve --parallel` isolate) writes, and the
// operation is tried again.

import { jitteredBackoff } from "./_timers.ts";

/**
 * How long an operation keeps trying while the database is locked, in ms.
 * SQLite's lock is not fair: under a stream of writes from two isolates a
 * bound of 20 tries (about a second) was exhausted 6 times in 20,000 writes.
 */
export const LOCKED_WAIT = 4_000;

/** Whether `error` is SQLite saying another process holds the lock. */
export function isLocked(error: unknown): boolean {
  return /database is locked|SQLITE_BUSY/i.test(
    String((error as Error)?.message),
  );
}

/**
 * Runs `work`, and again after a jittered backoff (up to 50 ms) while
 * another process has the database locked, for up to `wait` ms; then the
 * lock error is thrown.
 */
export async function whileLocked<T>(
  work: () => Promise<T>,
  onRetry?: () => void,
  wait: number = LOCKED_WAIT,
): Promise<T> {
  const deadline = Date.now() + wait;
  for (let attempt = 1;; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isLocked(error) || Date.now() >= deadline) throw error;
      onRetry?.();
      const pause = jitteredBackoff(attempt);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}
