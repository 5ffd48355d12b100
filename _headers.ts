// The headers a session adds to a response: Vary: Cookie on every one, and
// with a cookie, Set-Cookie and Cache-Control: no-cache="Set-Cookie", so a
// cache never shares one visitor's session with another.

const VARY_COOKIE = /(^|,)\s*(cookie|\*)\s*(,|$)/i;
const NO_CACHE_SET_COOKIE = 'no-cache="Set-Cookie"';

/**
 * The `Response` class, read once: Deno defines it on `globalThis` as a
 * getter, which every mention of the global calls.
 */
export const WebResponse: typeof Response = Response;

/**
 * Adds the session's headers to `headers` in place; throws when they are
 * immutable. Only for headers of a response made for one request.
 */
export function addSessionHeaders(
  headers: Headers,
  cookie: string | undefined,
): void {
  // append, not set: the same where the header is missing, and cheaper.
  const vary = headers.get("vary");
  if (vary === null || !VARY_COOKIE.test(vary)) {
    headers.append("vary", "Cookie");
  }
  if (cookie === undefined) return;
  headers.append("set-cookie", cookie);
  const cacheControl = headers.get("cache-control");
  if (cacheControl === null || !cacheControl.includes(NO_CACHE_SET_COOKIE)) {
    headers.append("cache-control", NO_CACHE_SET_COOKIE);
  }
}

/**
 * The response with the session's headers. A cookie goes on a copy, never
 * on the handler's own response: a handler may return one object to many
 * requests (a constant 204, a cached redirect), and one visitor's cookie
 * must never reach another. `Vary: Cookie`, the same for everyone, is added
 * in place when the headers can be changed.
 *
 * @param response The handler's response.
 * @param cookie A `Set-Cookie` value, if any.
 */
export function withSessionHeaders(
  response: Response,
  cookie: string | undefined,
): Response {
  if (cookie === undefined) {
    try {
      addSessionHeaders(response.headers, undefined);
      return response;
    } catch {
      // Immutable headers (`Response.redirect()`, a `fetch()` response).
    }
  }
  // A status no Response can be made with (101, a WebSocket upgrade): its
  // response is made for one request, so it can take the headers itself.
  if (response.status < 200) {
    try {
      addSessionHeaders(response.headers, cookie);
    } catch {
      // Nothing more can be done for it.
    }
    return response;
  }
  const body = response.body;
  if (body === null) {
    // Without a body, a clone is the cheaper copy: it takes the header list
    // as it is, where a new Response checks every header again. Its headers
    // are as immutable as the original's, though.
    const clone = response.clone();
    try {
      addSessionHeaders(clone.headers, cookie);
      return clone;
    } catch {
      // Immutable headers (`Response.redirect()`): a new response below.
    }
  }
  const copy = new WebResponse(body, response);
  addSessionHeaders(copy.headers, cookie);
  return copy;
}
