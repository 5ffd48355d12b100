// The markers ended sessions leave: destroying or renewing a session writes
// one under its key, in place of the session, saying why it ended (and where
// a renewal went), so that every request that loaded the session learns it.

import type { DropReason } from "./options.ts";
import type { Version, VersionedWrite } from "./store.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The write of a marker under `key`, over `version` of the session it
 * ends. It lasts until `expiry`, when the session would have expired.
 */
export function markerWrite(
  key: string,
  version: Version,
  reason: "destroyed" | "renewed",
  expiry: Date,
  to?: string,
): VersionedWrite {
  return {
    token: key,
    ifVersion: version,
    data: encoder.encode(JSON.stringify({ ended: reason, to })),
    expiry,
    ended: true,
  };
}

/** What a marker says: why its session ended, and where a renewal went. */
export function readMarker(
  data: Uint8Array,
): { reason: DropReason; to?: string } {
  try {
    const { ended, to } = JSON.parse(decoder.decode(data));
    if (ended === "renewed" && typeof to === "string") {
      return { reason: ended, to };
    }
    if (ended === "destroyed" || ended === "renewed") return { reason: ended };
  } catch {
    // not a marker of ours: the session is gone all the same
  }
  return { reason: "expired" };
}
