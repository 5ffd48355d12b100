// How RedisStore lays out an entry in Redis: one string per key, a header
// then the bytes, and the keys of users' lists.

import { Buffer } from "node:buffer";
import type { VersionedEntry, VersionedWrite } from "./store.ts";

// An entry is one Redis string: a 33-byte ASCII header, then the bytes.
// The header holds the version (16 hex digits, random for every write), the
// expiry (16 decimal digits of ms since the epoch: up to the last valid
// Date, 8.64e15), and "s" for a session, "u" for a session bound to a
// user, or "e" for the marker of an ended session. After a "u" header, 4
// hex digits give the byte length of the user id that follows them; then
// the bytes. The sessions of a user are listed in a sorted set under
// <prefix>user:<user id>, each key (without the prefix) scored by its
// expiry; the set expires with its last session. The expiry in the header decides: live while Date.now() <
// expiry, on the application's clock. The key also expires in Redis, after
// the same span (PX, counted from the application's clock, so a Redis host
// whose clock differs neither cuts a session short nor keeps it longer
// than that span). A value that is not one of ours reads as no entry.
const HEADER = 33;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A random version: 16 hex digits. */
function newVersion(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A stored value: the header, the user it is bound to (if any, never for a
 * marker), then `data`.
 */
export function encode(
  data: Uint8Array,
  expiry: number,
  ended: boolean,
  user?: string,
): Buffer {
  const bound = !ended && user !== undefined;
  const header = `${newVersion()}${
    String(Math.max(0, Math.floor(expiry))).padStart(16, "0")
  }${ended ? "e" : bound ? "u" : "s"}`;
  const userBytes = bound ? encoder.encode(user) : undefined;
  const at = HEADER + (userBytes === undefined ? 0 : 4 + userBytes.byteLength);
  const value = Buffer.allocUnsafe(at + data.byteLength);
  encoder.encodeInto(header, value);
  if (userBytes !== undefined) {
    encoder.encodeInto(
      userBytes.byteLength.toString(16).padStart(4, "0"),
      value.subarray(HEADER),
    );
    value.set(userBytes, HEADER + 4);
  }
  value.set(data, at);
  return value;
}

/**
 * The arguments of one write to the compare-and-set script: the version
 * wanted ("" for none live), the value, the ms left until its expiry, and
 * the user it is listed under ("" for none).
 */
export function writeArgs(
  { ifVersion, data, expiry, ended, user }: VersionedWrite,
  now: number,
): (string | Buffer)[] {
  const time = Math.floor(expiry.getTime());
  const listed = ended === true ? undefined : user;
  return [
    (ifVersion as string | null) ?? "",
    encode(data, time, ended === true, listed),
    `${time - now}`,
    listed ?? "",
  ];
}

/** What a stored value holds; `undefined` when it is not one of ours. */
export function decode(value: unknown): VersionedEntry | undefined {
  if (!(value instanceof Uint8Array) || value.byteLength < HEADER) {
    return undefined;
  }
  const header = decoder.decode(value.subarray(0, HEADER));
  const digits = header.slice(16, 32);
  const kind = header[32];
  if (
    !/^\d{16}$/.test(digits) || (kind !== "s" && kind !== "e" && kind !== "u")
  ) {
    return undefined;
  }
  let at = HEADER;
  if (kind === "u") {
    const length = value.byteLength < HEADER + 4
      ? NaN
      : parseInt(decoder.decode(value.subarray(HEADER, HEADER + 4)), 16);
    if (!(length >= 0) || HEADER + 4 + length > value.byteLength) {
      return undefined;
    }
    at = HEADER + 4 + length;
  }
  const expiry = Number(digits);
  return {
    // A copy of the bytes alone (Buffer's own slice() would be a view).
    data: new Uint8Array(value.subarray(at)),
    version: header.slice(0, 16),
    expiry: new Date(expiry),
    ended: kind === "e",
  };
}

/** The user a stored session is bound to, if any ("u" values). */
export function userIn(value: Uint8Array): string | undefined {
  if (value[32] !== 0x75) return undefined; // "u"
  const length = parseInt(
    decoder.decode(value.subarray(HEADER, HEADER + 4)),
    16,
  );
  return decoder.decode(value.subarray(HEADER + 4, HEADER + 4 + length));
}

/** The key of a user's list of sessions (the scripts build it alike). */
export function userListKey(prefix: string, user: string): string {
  return `${prefix}user:${user}`;
}

/** `pattern` matched literally by SCAN's MATCH. */
export function globEscape(pattern: string): string {
  return pattern.replace(/[*?[\]\\]/g, "\\$&");
}
