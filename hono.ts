/**
 * Sessions for Hono apps: {@linkcode sessionMiddleware} loads the session
 * of each request, puts it in the context (`c.get("session")`,
 * `c.var.session`), and saves it when the handlers are done, with
 * everything `SessionManager.loadAndSave` guarantees.
 *
 * @example A visit counter
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "npm:hono@^4.6.0";
 * import { SessionManager } from "@sessions/memstore";
 * import { sessionMiddleware } from "@sessions/memstore/hono";
 *
 * using sessions = new SessionManager<{ visits: number }>();
 * const app = new Hono().use(sessionMiddleware(sessions)).get("/", (c) => {
 *   const session = c.get("session");
 *   const visits = (session.get("visits") ?? 0) + 1;
 *   session.put("visits", visits);
 *   return c.text(`visit ${visits}`);
 * });
 * const first = await app.request("/");
 * const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
 * const second = await app.request("/", { headers: { cookie } });
 * assert.equal(await second.text(), "visit 2");
 * ```
 *
 * @module
 */

import type { MiddlewareHandler } from "npm:hono@^4.6.0";
import type { SessionManager } from "./manager.ts";
import type { Session } from "./session.ts";

// The types its API names, for readers of this module alone (the
// framework's own types are the framework's to document).
export type { SessionManager } from "./manager.ts";
export type {
  RequestWithHeaders,
  Session,
  SessionHandler,
  SessionStatus,
} from "./session.ts";
export type { Store } from "./store.ts";
export type { UserSession, UserSessions } from "./user_sessions.ts";

/** The context variables the middleware sets: `c.get("session")`. */
export interface SessionVariables<T extends object> {
  /** The request's session. */
  session: Session<T>;
}

/**
 * A Hono middleware that gives every request its session, as
 * `c.get("session")` (typed by the manager's `T`). After the handlers, a
 * modified session is saved, and the response gets the cookie when what
 * the browser holds must change; every response gets `Vary: Cookie`. When the store fails, the response is the
 * manager's `onError`'s. When a handler throws, nothing is saved, and the
 * response is Hono's error response, with no session headers.
 *
 * @param sessions The session manager.
 * @returns The middleware, for `app.use()`.
 *
 * @example Signing in and out, with Hono's CSRF check
 * ```ts ignore
 * import { Hono } from "hono";
 * import { csrf } from "hono/csrf";
 * import { SessionManager } from "@sessions/memstore";
 * import { sessionMiddleware } from "@sessions/memstore/hono";
 *
 * const sessions = new SessionManager<{ user: string }>();
 * const app = new Hono()
 *   .use(csrf())
 *   .use(sessionMiddleware(sessions))
 *   .post("/login", (c) => {
 *     c.var.session.renewToken(); // a new token at every sign-in
 *     c.var.session.put("user", "ada");
 *     return c.redirect("/");
 *   });
 * Deno.serve(app.fetch);
 * ```
 */
export function sessionMiddleware<T extends object>(
  sessions: SessionManager<T>,
): MiddlewareHandler<{ Variables: SessionVariables<T> }> {
  return async (c, next) => {
    const request = c.req.raw;
    let session: Session<T>;
    try {
      // On Deno.serve(app.fetch), c.env is the Deno.ServeHandlerInfo: its
      // remoteAddr is the address users.address keeps.
      session = await sessions.loadRequest(request, c.env);
    } catch (error) {
      c.res = await sessions.errorResponse(error, request);
      return;
    }
    c.set("session", session);
    await next();
    // A handler threw (Hono caught it and made c.res with its onError): the
    // session is not saved, as with loadAndSave.
    if (c.error !== undefined) return;
    const finished = await sessions.finish(session, c.res, request);
    if (finished !== c.res) {
      // Assigning c.res copies the old response's headers over the new one
      // (and its Set-Cookie in place of ours): clear it first.
      c.res = undefined;
      c.res = finished;
    }
  };
}
