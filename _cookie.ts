// The session cookie: reading the token from a Cookie header, writing
// Set-Cookie values, and checking cookie options once, up front.

import { parseCookie, type SetCookie, stringifySetCookie } from "cookie";
import { describe } from "./_describe.ts";
import { isToken } from "./_token.ts";
import type { CookieOptions } from "./session.ts";

/** Cookie options with every default filled in and every value checked. */
export interface SessionCookie {
  name: string;
  path: string;
  domain: string | undefined;
  httpOnly: boolean;
  secure: boolean;
  sameSite: "strict" | "lax" | "none";
  partitioned: boolean;
  persist: boolean;
}

const NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PATH = /^\/[\u0020-\u003A\u003C-\u007E]*$/;
const SAME_SITE = { strict: "strict", lax: "lax", none: "none" } as const;

function fail(option: string, rule: string, value: unknown): TypeError {
  return new TypeError(
    `Cannot create SessionManager: cookie.${option} ${rule}, received ${
      describe(value)
    }`,
  );
}

function flag(
  options: CookieOptions,
  key: keyof CookieOptions,
  fallback: boolean,
): boolean {
  const value = options[key];
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw fail(key, "must be a boolean", value);
  return value;
}

/** Checks cookie options and fills in the defaults. Throws a `TypeError`. */
export function sessionCookie(options: CookieOptions = {}): SessionCookie {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot create SessionManager: cookie must be an object, received ${
        describe(options)
      }`,
    );
  }
  const { name = "session", path = "/", domain, sameSite = "Lax" } = options;
  if (typeof name !== "string" || !NAME.test(name)) {
    throw fail(
      "name",
      "must be a cookie name (letters, digits and !#$%&'*+-.^_`|~)",
      name,
    );
  }
  if (typeof path !== "string" || !PATH.test(path)) {
    throw fail(
      "path",
      "must start with / and hold no control characters or ;",
      path,
    );
  }
  if (domain !== undefined) {
    let valid = typeof domain === "string";
    try {
      if (valid) stringifySetCookie({ name, value: "", domain });
    } catch {
      valid = false;
    }
    if (!valid) throw fail("domain", "must be a domain name", domain);
  }
  const site = typeof sameSite === "string"
    ? SAME_SITE[sameSite.toLowerCase() as keyof typeof SAME_SITE]
    : undefined;
  if (site === undefined) {
    throw fail("sameSite", 'must be "Strict", "Lax" or "None"', sameSite);
  }
  const cookie: SessionCookie = {
    name,
    path,
    domain,
    httpOnly: flag(options, "httpOnly", true),
    secure: flag(options, "secure", false),
    sameSite: site,
    partitioned: flag(options, "partitioned", false),
    persist: flag(options, "persist", true),
  };
  if (site === "none" && !cookie.secure) {
    throw new TypeError(
      'Cannot create SessionManager: cookie.sameSite "None" needs secure: true (browsers reject it otherwise)',
    );
  }
  if (cookie.partitioned && !cookie.secure) {
    throw new TypeError(
      "Cannot create SessionManager: cookie.partitioned needs secure: true (browsers reject it otherwise)",
    );
  }
  return cookie;
}

const tokenOrSkip = (value: string): string | undefined =>
  isToken(value) ? value : undefined;

/**
 * The session token in a `Cookie` header: the first cookie called `name`
 * whose value has the shape of a token. Anything else reads as no token.
 */
export function readToken(header: string, name: string): string | undefined {
  try {
    return parseCookie(header, { decode: tokenOrSkip })[name];
  } catch {
    return undefined;
  }
}

function setCookie(cookie: SessionCookie, value: string): SetCookie {
  const out: SetCookie = {
    name: cookie.name,
    value,
    path: cookie.path,
    httpOnly: cookie.httpOnly,
    secure: cookie.secure,
    sameSite: cookie.sameSite,
    partitioned: cookie.partitioned,
  };
  if (cookie.domain !== undefined) out.domain = cookie.domain;
  return out;
}

/**
 * A `Set-Cookie` value for a session token. With `expiry` (ms since the
 * epoch), the cookie is persistent (`Expires` and `Max-Age`, rounded up to
 * the second); without, it lasts until the browser closes. With `memo`, the
 * value is kept, and given again for the same token within the same second;
 * without, no token outlives the call.
 */
export function writeToken(
  cookie: SessionCookie,
  token: string,
  expiry: number | undefined,
  memo = true,
): string {
  let expires = -1;
  let maxAge = -1;
  if (expiry !== undefined) {
    expires = Math.ceil(expiry / 1000) * 1000;
    maxAge = Math.max(0, Math.ceil((expiry - Date.now()) / 1000));
  }
  // A session saved again within the same second gets the same cookie.
  const last = lastWritten.get(cookie);
  if (
    last !== undefined && last.token === token && last.expires === expires &&
    last.maxAge === maxAge
  ) {
    return last.value;
  }
  const out = setCookie(cookie, token);
  if (expiry !== undefined) {
    out.expires = new Date(expires);
    out.maxAge = maxAge;
  }
  const value = stringifySetCookie(out);
  if (memo) lastWritten.set(cookie, { token, expires, maxAge, value });
  return value;
}

/** The last Set-Cookie value written for each cookie configuration. */
const lastWritten = new WeakMap<
  SessionCookie,
  { token: string; expires: number; maxAge: number; value: string }
>();

/** A `Set-Cookie` value that makes the browser delete the session cookie. */
export function deleteToken(cookie: SessionCookie): string {
  const out = setCookie(cookie, "");
  out.expires = new Date(0);
  out.maxAge = 0;
  return stringifySetCookie(out);
}
