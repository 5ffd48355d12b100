// Session tokens: 32 random bytes, base64url without padding (43 chars).

/** base64url's alphabet. */
const DIGITS =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/** 1 for each character a token may hold: base64url's alphabet. */
const ALPHABET = new Uint8Array(128);
for (const c of DIGITS) ALPHABET[c.charCodeAt(0)] = 1;
const encoder = new TextEncoder();

/**
 * base64url without padding. By hand: `Uint8Array.prototype.toBase64` is
 * missing on Node 20, and `btoa` would need a string of the bytes first.
 */
export function base64url(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += DIGITS[n >> 18]! + DIGITS[(n >> 12) & 63]! + DIGITS[(n >> 6) & 63]! +
      DIGITS[n & 63]!;
  }
  const left = bytes.length - i;
  if (left > 0) {
    const n = (bytes[i]! << 16) | (left === 2 ? bytes[i + 1]! << 8 : 0);
    out += DIGITS[n >> 18]! + DIGITS[(n >> 12) & 63]!;
    if (left === 2) out += DIGITS[(n >> 6) & 63]!;
  }
  return out;
}

/** A new random token. */
export function newToken(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * Whether `value` has the shape of a token; anything else is never looked
 * up. (No regular expression: V8 keeps the last string one was run on, in
 * `RegExp.input`, so a token would stay in memory.)
 */
export function isToken(value: string): boolean {
  if (value.length !== 43) return false;
  for (let i = 0; i < 43; i++) {
    const c = value.charCodeAt(i);
    if (c > 127 || ALPHABET[c] === 0) return false;
  }
  return true;
}

/** base64url(SHA-256(token)): the store key when tokens are hashed. */
export async function hashToken(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(token));
  return base64url(new Uint8Array(digest));
}
