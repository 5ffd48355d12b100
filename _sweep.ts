// MemStore's background sweep: every interval, expired entries are removed
// in slices of about a millisecond, yielding to the event loop between
// slices, on timers that never keep the process alive.

import type { SlotTable } from "./_slots.ts";
import { setUnrefInterval, setUnrefTimeout } from "./_timers.ts";

/** How long one slice of a sweep may hold the event loop, in milliseconds. */
const SLICE_MS = 1;

/** The sweep of a table's expired entries, every `interval` ms. */
export class Sweep {
  #table: SlotTable;
  #interval: ReturnType<typeof setInterval> | undefined;
  #resume: ReturnType<typeof setTimeout> | undefined;

  /** Starts the sweep; 0 for none. */
  constructor(table: SlotTable, interval: number) {
    this.#table = table;
    if (interval > 0) {
      this.#interval = setUnrefInterval(() => {
        if (this.#resume === undefined) this.#slice();
      }, interval);
    }
  }

  /** Stops it; safe more than once. */
  stop(): void {
    clearInterval(this.#interval);
    clearTimeout(this.#resume);
    this.#interval = undefined;
    this.#resume = undefined;
  }

  /**
   * Removes expired entries, earliest first, for at most SLICE_MS; when
   * more are due, yields to the event loop and goes on in a new task.
   */
  #slice(): void {
    this.#resume = undefined;
    const started = performance.now();
    const more = this.#table.sweep(
      Date.now(),
      () => performance.now() - started >= SLICE_MS,
    );
    if (more) this.#resume = setUnrefTimeout(() => this.#slice(), 0);
  }
}
