// The headers a session adds to a response: Vary: Cookie on every one, and
// with a cookie, Set-Cookie and Cache-Control: no-cache="Set-Cookie", so a
// cache never shares one visitor's session with another.

const VARY_COOKIE = /(^|,)\s*(cookie|\*)\s*(,|$)/i;
const NO_CACHE_SET_COOKIE = 'no-cache="Set-Cookie"';

/** Adds the session's headers; throws when the headers are immutable. */
function decorate(headers: Headers, cookie: string | undefined): void {
  const vary = headers.get("vary");
  if (vary === null) headers.set("vary", "Cookie");
  else if (!VARY_COOKIE.test(vary)) headers.append("vary", "Cookie");
  if (cookie === undefined) return;
  headers.append("set-cookie", cookie);
  const cacheControl = headers.get("cache-control");
  if (cacheControl === null) headers.set("cache-control", NO_CACHE_SET_COOKIE);
  else if (!cacheControl.includes(NO_CACHE_SET_COOKIE)) {
    headers.append("cache-control", NO_CACHE_SET_COOKIE);
  }
}

/**
 * Adds the session's headers to a response, copying it first when its
 * headers are immutable (`Response.redirect()`, a `fetch()` response).
 *
 * @param response The handler's response.
 * @param cookie A `Set-Cookie` value, if any.
 */
export function withSessionHeaders(
  response: Response,
  cookie: string | undefined,
): Response {
  try {
    decorate(response.headers, cookie);
    return response;
  } catch {
    // Immutable headers: decorate a copy.
  }
  let copy: Response;
  try {
    copy = new Response(response.body, response);
  } catch {
    return response; // A status no Response can be made with, such as 101.
  }
  decorate(copy.headers, cookie);
  return copy;
}
