// The session cookie: the token read from a Cookie header, and the
// Set-Cookie values that set or clear it.

import { isToken } from "./_token.ts";

/** Cookie options, checked, with every default filled in. */
export interface CookieConfig {
  name: string;
  path: string;
  domain: string | undefined;
  httpOnly: boolean;
  secure: boolean;
  sameSite: "Strict" | "Lax" | "None";
  partitioned: boolean;
  persist: boolean;
}

/**
 * The last moment a cookie's `Expires` can name: the end of the year 9999
 * (RFC 6265 dates have four-digit years). Deadlines are never later.
 */
export const LAST_COOKIE_TIME: number = Date.UTC(9999, 11, 31, 23, 59, 59);

/** A domain as RFC 6265 allows it (the `cookie` package's rule). */
const DOMAIN =
  /^([.]?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)([.][a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
/** The SameSite values, by their name in lower case. */
export const SAME_SITE = {
  strict: "Strict",
  lax: "Lax",
  none: "None",
} as const;

/** Whether a character code is one of the spaces RFC 6265 lets around a pair. */
const isSpace = (code: number): boolean => code === 32 || code === 9;

/** Reads and writes the session cookie of one configuration. */
export class SessionCookie {
  /** The cookie's name. */
  readonly name: string;
  #persist: boolean;
  #head: string;
  /** Domain and Path, which come between Max-Age and Expires. */
  #scope: string;
  #flags: string;
  #memo: boolean;
  #last: { token: string; expires: number; maxAge: number; value: string } = {
    token: "",
    expires: 0,
    maxAge: 0,
    value: "",
  };
  /** The `Set-Cookie` value that makes the browser delete the cookie. */
  readonly clear: string;

  /**
   * @param config The checked cookie options.
   * @param memo Whether to keep the last value written, and give it again
   * for the same token within the same second; without, no token outlives
   * a call.
   * @throws {TypeError} When the domain is not one a cookie can name.
   */
  constructor(config: CookieConfig, memo: boolean) {
    const { domain } = config;
    if (domain !== undefined && domain !== "" && !DOMAIN.test(domain)) {
      throw new TypeError(`cookie domain is invalid: ${domain}`);
    }
    this.name = config.name;
    this.#persist = config.persist;
    this.#head = `${config.name}=`;
    this.#scope = `${domain ? `; Domain=${domain}` : ""}; Path=${config.path}`;
    this.#flags = `${config.httpOnly ? "; HttpOnly" : ""}${
      config.secure ? "; Secure" : ""
    }${config.partitioned ? "; Partitioned" : ""}; SameSite=${config.sameSite}`;
    this.#memo = memo;
    this.clear =
      `${this.#head}; Max-Age=0${this.#scope}; Expires=Thu, 01 Jan 1970 00:00:00 GMT${this.#flags}`;
  }

  /** Whether the cookie is persistent for a session, given its rememberMe. */
  persistent(rememberMe: boolean | undefined): boolean {
    return this.#persist || rememberMe === true;
  }

  /**
   * The session token in a `Cookie` header: the first cookie of this name
   * whose value has the shape of a token. Anything else reads as no token.
   */
  read(header: string): string | undefined {
    // Pairs as the `cookie` package splits them (at ";", then at the first
    // "=", spaces and tabs trimmed), without making an object of them all:
    // only this cookie's values are sliced.
    const name = this.name;
    const length = header.length;
    let start = 0;
    while (start < length) {
      const equals = header.indexOf("=", start);
      if (equals === -1) return undefined;
      let end = header.indexOf(";", start);
      if (end === -1) end = length;
      if (equals > end) {
        // Pairs without "=" up to the next one: go straight to the pair
        // that has it, so that a header of many ";" costs one pass.
        start = header.lastIndexOf(";", equals - 1) + 1;
        continue;
      }
      let from = start;
      while (from < equals && isSpace(header.charCodeAt(from))) from++;
      let to = equals;
      while (to > from && isSpace(header.charCodeAt(to - 1))) to--;
      if (to - from === name.length && header.startsWith(name, from)) {
        from = equals + 1;
        while (from < end && isSpace(header.charCodeAt(from))) from++;
        to = end;
        while (to > from && isSpace(header.charCodeAt(to - 1))) to--;
        const value = header.slice(from, to);
        if (isToken(value)) return value;
      }
      start = end + 1;
    }
    return undefined;
  }

  /**
   * A `Set-Cookie` value for a token. With `expiry` (ms since the epoch),
   * the cookie is persistent (`Expires` and `Max-Age`, rounded up to the
   * second, and never past {@linkcode LAST_COOKIE_TIME}); without, it lasts
   * until the browser closes.
   */
  write(token: string, expiry: number | undefined): string {
    if (expiry === undefined) {
      return this.#head + token + this.#scope + this.#flags;
    }
    expiry = Math.min(expiry, LAST_COOKIE_TIME);
    const expires = Math.ceil(expiry / 1000) * 1000;
    const maxAge = Math.max(0, Math.ceil((expiry - Date.now()) / 1000));
    const last = this.#last;
    if (
      last.token === token && last.expires === expires && last.maxAge === maxAge
    ) {
      return last.value;
    }
    const value =
      `${this.#head}${token}; Max-Age=${maxAge}${this.#scope}; Expires=${
        new Date(expires).toUTCString()
      }${this.#flags}`;
    if (this.#memo) this.#last = { token, expires, maxAge, value };
    return value;
  }
}
