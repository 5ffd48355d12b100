// PostgresStore's cleanup: expired rows deleted in batches under an
// advisory lock (one server at a time), every interval, on a timer that
// never keeps the process alive.

import type { TableStatements } from "./_postgres_sql.ts";
import { setUnrefInterval } from "./_timers.ts";

/** What the cleanup needs of the client: one statement at a time. */
type Query = (
  text: string,
  values: unknown[],
) => Promise<{ rows: Record<string, unknown>[] }>;

/** The cleanup of one table's expired rows. */
export class Cleanup {
  #query: Query;
  #sql: TableStatements;
  #batch: number;
  #interval: ReturnType<typeof setInterval> | undefined;
  #running: Promise<number> | undefined;
  #stops = 0;

  /** Starts the timer; an interval of 0 for none. */
  constructor(
    query: Query,
    sql: TableStatements,
    batch: number,
    interval: number,
  ) {
    this.#query = query;
    this.#sql = sql;
    this.#batch = batch;
    if (interval > 0) {
      this.#interval = setUnrefInterval(
        () => void this.run().catch(() => {}),
        interval,
      );
    }
  }

  /** Deletes expired rows, batch after batch; 0 while one is running. */
  run(): Promise<number> {
    if (this.#running) return Promise.resolve(0);
    const running = this.#deleteExpired().finally(() => {
      this.#running = undefined;
    });
    this.#running = running;
    return running;
  }

  /** Stops the timer, and a running cleanup after its batch. */
  stop(): void {
    this.#stops++;
    clearInterval(this.#interval);
    this.#interval = undefined;
  }

  /** Settles when no cleanup is running. */
  async settled(): Promise<void> {
    await this.#running?.catch(() => {});
  }

  async #deleteExpired(): Promise<number> {
    const stops = this.#stops;
    let total = 0;
    for (;;) {
      const { rows } = await this.#query(
        this.#sql.cleanup,
        [this.#sql.name, Date.now(), this.#batch],
      );
      const { got, deleted } = rows[0] as { got: boolean; deleted: number };
      total += deleted;
      // Another server holds the lock, nothing expired is left, or the
      // cleanup was stopped meanwhile.
      if (!got || deleted < this.#batch || stops !== this.#stops) {
        return total;
      }
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
}
