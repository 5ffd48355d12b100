// A way for SessionManager to reach a MemStore's bytes without copying
// them, kept out of the public API: only this package's modules import it.

/** Direct access to a MemStore's stored bytes. */
export interface FastPath {
  /** The stored bytes of a live session, not copied: never modify them. */
  peek(token: string): Uint8Array | undefined;
  /** Like `peek`, but not counted as a hit or a miss in `stats()`. */
  read(token: string): Uint8Array | undefined;
  /** Stores `data` itself, not a copy: the caller must never modify it. */
  adopt(token: string, data: Uint8Array, expiry: number): void;
  /** Deletes a session; a missing token is not an error. */
  drop(token: string): void;
}

/** The fast paths of the MemStores created so far. */
export const fastPaths: WeakMap<object, FastPath> = new WeakMap();
