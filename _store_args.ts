// Checks of the arguments a store is given, shared by the package's
// stores, so each says the same thing about the same mistake.

import { cannot } from "./_errors.ts";
import type { VersionedWrite } from "./store.ts";

/** `token`, when it is a string. */
export function checkToken(action: string, token: unknown): string {
  if (typeof token !== "string") {
    throw cannot(action, "token must be a string", token);
  }
  return token;
}

/** `data`, when it is a `Uint8Array`. */
export function checkData(action: string, data: unknown): Uint8Array {
  if (!(data instanceof Uint8Array)) {
    throw cannot(action, "data must be a Uint8Array", data);
  }
  return data;
}

/** The time of `expiry`, when it is a valid `Date`. */
export function timeOf(action: string, expiry: unknown): number {
  const time = expiry instanceof Date ? expiry.getTime() : NaN;
  if (Number.isNaN(time)) {
    throw cannot(action, "expiry must be a valid Date", expiry);
  }
  return time;
}

/** Checks the writes of `commitVersioned`; `each` checks more of a write. */
export function checkWrites(
  action: string,
  writes: readonly VersionedWrite[],
  each?: (write: VersionedWrite) => void,
): void {
  if (!Array.isArray(writes)) {
    throw cannot(action, "writes must be an Array", writes);
  }
  for (const write of writes) {
    if (typeof write !== "object" || write === null) {
      throw cannot(action, "each write must be an object", write);
    }
    checkToken(action, write.token);
    checkData(action, write.data);
    timeOf(action, write.expiry);
    if (write.ifVersion === undefined) {
      throw cannot(action, "ifVersion must be a version or null", undefined);
    }
    if (write.user !== undefined) checkUser(action, write.user);
    each?.(write);
  }
}

/** The most characters a user id may have. */
export const MAX_USER_LENGTH = 512;

/** A user id: a non-empty string of at most MAX_USER_LENGTH characters. */
export function checkUser(action: string, user: unknown): string {
  if (typeof user !== "string") {
    throw cannot(action, "user must be a string", user);
  }
  if (user.length === 0 || user.length > MAX_USER_LENGTH) {
    throw new TypeError(
      `Cannot ${action}: user must be 1 to ${MAX_USER_LENGTH} characters, received ${user.length}`,
    );
  }
  return user;
}

/** What `work` returns, as a promise: a throw becomes a rejection. */
export function settled<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error);
  }
}
