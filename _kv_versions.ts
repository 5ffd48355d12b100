// What a KvStore remembers of the versionstamps it read or wrote: when
// their entries expire, so that a compare-and-set write can go without
// reading the heads first (the checks of the atomic operation decide).

import type { VersionedWrite } from "./store.ts";

/** How many versionstamps' expiries a store remembers. */
const EXPIRIES_KEPT = 10_000;

/** When the entries of the versionstamps last read or written expire. */
export class KnownExpiries {
  #expiries = new Map<string, number>();

  /** Remembers when the entry of a versionstamp expires (a bounded record). */
  remember(versionstamp: string, expiry: number): void {
    const expiries = this.#expiries;
    expiries.set(versionstamp, expiry);
    if (expiries.size > EXPIRIES_KEPT) {
      expiries.delete(expiries.keys().next().value!);
    }
  }

  /**
   * The versionstamps the writes must find, when the expiry of every
   * version given is known and live; "expired" when one is past its expiry;
   * `undefined` when one is unknown.
   */
  stampsFor(
    writes: readonly VersionedWrite[],
  ): (string | null)[] | "expired" | undefined {
    const now = Date.now();
    const stamps: (string | null)[] = [];
    for (const { ifVersion } of writes) {
      if (ifVersion === null) {
        stamps.push(null);
        continue;
      }
      if (typeof ifVersion !== "string") return undefined;
      const expiry = this.#expiries.get(ifVersion);
      if (expiry === undefined) return undefined;
      if (expiry <= now) return "expired";
      stamps.push(ifVersion);
    }
    return stamps;
  }
}
