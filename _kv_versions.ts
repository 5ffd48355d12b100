// What a KvStore remembers of the versionstamps it read or wrote: when
// their entries expire, so that a compare-and-set write can go without
// reading the heads first (the checks of the atomic operation decide).

import type { VersionedWrite } from "./store.ts";

/** How many versionstamps' expiries a store remembers. */
/** What is known of a versionstamp's entry. */
interface Known {
  expiry: number;
  /** The user its session is listed under, if any. */
  user: string | undefined;
}

/** A head a write checks, and the user the entry there is listed under. */
export interface Checked {
  versionstamp: string | null;
  user: string | undefined;
}

const EXPIRIES_KEPT = 10_000;

/** When the entries of the versionstamps last read or written expire. */
export class KnownExpiries {
  #expiries = new Map<string, Known>();

  /** Remembers when the entry of a versionstamp expires (a bounded record). */
  remember(
    versionstamp: string,
    token: string,
    expiry: number,
    user?: string,
  ): void {
    const expiries = this.#expiries;
    // One atomic operation gives all its keys one versionstamp.
    expiries.set(`${versionstamp} ${token}`, { expiry, user });
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
  ): Checked[] | "expired" | undefined {
    const now = Date.now();
    const stamps: Checked[] = [];
    for (const { token, ifVersion } of writes) {
      if (ifVersion === null) {
        stamps.push({ versionstamp: null, user: undefined });
        continue;
      }
      if (typeof ifVersion !== "string") return undefined;
      const known = this.#expiries.get(`${ifVersion} ${token}`);
      if (known === undefined) return undefined;
      if (known.expiry <= now) return "expired";
      stamps.push({ versionstamp: ifVersion, user: known.user });
    }
    return stamps;
  }
}
