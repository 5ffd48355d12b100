// Local KV files shared by processes: SQLite answers "database is locked"
// while another process writes, and the operation is tried again.

/** Tries of an operation that finds the database locked by another process. */
const LOCKED_TRIES = 20;

/** Whether `error` is SQLite saying another process holds the lock. */
export function isLocked(error: unknown): boolean {
  return /database is locked|SQLITE_BUSY/i.test(
    String((error as Error)?.message),
  );
}

/**
 * Runs `work`, and again after a short random wait while another process
 * has the database locked, up to 20 times in all.
 */
export async function whileLocked<T>(
  work: () => Promise<T>,
  onRetry?: () => void,
): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isLocked(error) || attempt >= LOCKED_TRIES) throw error;
      onRetry?.();
      const wait = Math.random() * Math.min(100, 2 ** attempt);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
