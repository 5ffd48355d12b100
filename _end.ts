// Ending a stored session, as a save of destroy() (or a revocation) does:
// its entry becomes the marker of its destruction, by compare-and-set, and
// a renewal that overlapped is followed to the session it led to.

import { markerWrite, readMarker } from "./_markers.ts";
import type { Origin } from "./_request_session.ts";
import {
  backoff,
  MAX_ATTEMPTS,
  pause,
  read,
  type Steps,
  tooManyConflicts,
  write,
} from "./_store_access.ts";

/** The most renewals a destroy follows to the session they led to. */
const MAX_HOPS = 8;

/**
 * Replaces a stored session with the marker of its destruction. When the
 * session was renewed meanwhile, the session it was renewed to is ended
 * instead: signing out ends a sign-in that overlapped it.
 */
export function* endSession(
  from: Origin,
  stale: boolean,
  markerExpiry: () => Date,
): Steps<void> {
  let { key } = from;
  let version = stale ? undefined : from.version;
  let stored = from.stored;
  for (let attempt = 1, hops = 0; attempt <= MAX_ATTEMPTS; attempt++) {
    if (version === undefined) {
      yield* pause(backoff(attempt));
      const found = yield* read(key);
      if (found === undefined) return; // gone already
      if (found.ended) {
        const { to } = readMarker(found.data);
        if (to === undefined || ++hops > MAX_HOPS) return; // ended already
        key = to;
        attempt = 0;
        continue;
      }
      version = found.version;
      stored = found;
    }
    const expiry = stored?.expiry ?? markerExpiry();
    const end = markerWrite(key, version, "destroyed", expiry);
    if (yield* write([end])) return;
    version = undefined;
  }
  throw tooManyConflicts();
}
