// Session tokens: 32 random bytes, base64url without padding (43 chars).

const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

/** A new random token. */
export function newToken(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** Whether `value` has the shape of a token; anything else is never looked up. */
export function isToken(value: string): boolean {
  return value.length === 43 && TOKEN.test(value);
}

/** base64url(SHA-256(token)): the store key when tokens are hashed. */
export async function hashToken(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(token));
  return base64url(new Uint8Array(digest));
}
