/**
 * Sessions for Oak apps (`@oakserver/oak` from npm):
 * {@linkcode sessionMiddleware} loads the session of each request, puts it
 * on `ctx.state.session`, and saves it when the later middleware is done.
 *
 * @example A visit counter
 * ```ts
 * import assert from "node:assert/strict";
 * import { Application } from "npm:@oakserver/oak@^14.1.0";
 * import { SessionManager } from "@sessions/memstore";
 * import { type SessionState, sessionMiddleware } from "@sessions/memstore/oak";
 *
 * using sessions = new SessionManager<{ visits: number }>();
 * const app = new Application<SessionState<{ visits: number }>>();
 * app.use(sessionMiddleware(sessions));
 * app.use((ctx) => {
 *   const visits = (ctx.state.session.get("visits") ?? 0) + 1;
 *   ctx.state.session.put("visits", visits);
 *   ctx.response.body = `visit ${visits}`;
 * });
 *
 * // Oak's types name undici's Request and Response: the web's, at run time.
 * const handle = async (request: Request) =>
 *   (await app.handle(request as never))! as unknown as Response;
 * const first = await handle(new Request("http://localhost/"));
 * const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
 * const second = await handle(new Request("http://localhost/", { headers: { cookie } }));
 * assert.equal(await second.text(), "visit 2");
 * ```
 *
 * @module
 */

import type { SessionManager } from "./manager.ts";
import type { Session } from "./session.ts";

// The types its API names, for readers of this module alone.
export type { SessionManager } from "./manager.ts";
export type {
  RequestWithHeaders,
  Session,
  SessionHandler,
  SessionStatus,
} from "./session.ts";
export type { Store } from "./store.ts";
export type { UserSession, UserSessions } from "./user_sessions.ts";

/** The state the middleware sets: `ctx.state.session`. */
export interface SessionState<T extends object> {
  /** The request's session. */
  session: Session<T>;
}

/**
 * What the middleware uses of Oak's request (`ctx.request`), which is one.
 * Written out so that this module's types are its own, not Oak's.
 */
export interface OakRequest {
  /** The request's headers. */
  readonly headers: Headers;
  /** The request's URL. */
  readonly url: URL;
  /** The request's method. */
  readonly method: string;
  /** The web `Request`, where Oak runs on `Deno.serve`. */
  readonly source?: unknown;
  /** The client's address (kept with the manager's `users.address`). */
  readonly ip?: string;
}

/** What the middleware uses of Oak's response (`ctx.response`), which is one. */
export interface OakResponse {
  /** The status to send. */
  status: number;
  /** The headers to send. */
  readonly headers: Headers;
  /** The body to send. */
  body: unknown;
}

/** What the middleware uses of Oak's context (`ctx`), which is one. */
export interface OakContext<T extends object> {
  /** The request. */
  readonly request: OakRequest;
  /** The response. */
  readonly response: OakResponse;
  /** The application's state, where the middleware puts the session. */
  state: SessionState<T>;
}

/**
 * The middleware, as Oak calls it: with the context and the next
 * middleware. `app.use()` takes it, and types `ctx.state` by it.
 */
export type OakSessionMiddleware<T extends object> = (
  ctx: OakContext<T>,
  next: () => Promise<unknown>,
) => Promise<void>;

/**
 * An Oak middleware that gives every request its session, as
 * `ctx.state.session`. After the later middleware, a modified session is
 * saved, and the response gets the cookie when what the browser holds must
 * change; every response gets `Vary: Cookie`. When the store fails, the response is the manager's `onError`'s.
 * A response given whole with `ctx.response.with()` is sent as it is, so it
 * gets no session headers: set `ctx.response.body` and `headers` instead.
 *
 * @param sessions The session manager.
 * @returns The middleware, for `app.use()`.
 *
 * @example Typed state
 * ```ts ignore
 * import { Application } from "@oakserver/oak";
 * import { SessionManager } from "@sessions/memstore";
 * import { type SessionState, sessionMiddleware } from "@sessions/memstore/oak";
 *
 * const sessions = new SessionManager<{ user: string }>();
 * const app = new Application<SessionState<{ user: string }>>();
 * app.use(sessionMiddleware(sessions));
 * app.use((ctx) => {
 *   ctx.response.body = ctx.state.session.get("user") ?? "nobody";
 * });
 * ```
 */
export function sessionMiddleware<T extends object>(
  sessions: SessionManager<T>,
): OakSessionMiddleware<T> {
  return async (ctx, next) => {
    const request = requestOf(ctx.request);
    let session: Session<T>;
    try {
      session = await sessions.loadRequest(ctx.request, {
        remoteAddr: { hostname: ctx.request.ip },
      });
    } catch (error) {
      send(ctx.response, await sessions.errorResponse(error, request));
      return;
    }
    ctx.state.session = session;
    await next();
    const failed = await sessions.finishHeaders(
      session,
      ctx.response.headers,
      request,
    );
    if (failed !== undefined) send(ctx.response, failed);
  };
}

/**
 * The request for `onError` and `onDropped`: Oak's own on Deno, a copy of
 * its method, URL and headers where Oak runs on Node's server.
 */
function requestOf(request: OakRequest): Request {
  const source: unknown = request.source;
  if (source instanceof Request) return source;
  return new Request(request.url, {
    method: request.method,
    headers: request.headers,
  });
}

/**
 * Sends `response` instead of what the later middleware set: its status,
 * headers and body. (Not `ctx.response.with()`: where Oak runs on Node's
 * server, it takes only its own `Response` class.)
 */
function send(target: OakResponse, response: Response): void {
  // The app's body is not sent: release what it holds (a stream, a file).
  const unsent: unknown = target.body;
  if (unsent instanceof ReadableStream) unsent.cancel().catch(() => {});
  else if (typeof (unsent as { close?: unknown })?.close === "function") {
    try {
      (unsent as { close(): void }).close();
    } catch {
      // Already closed.
    }
  }
  target.status = response.status;
  for (const name of [...target.headers.keys()]) target.headers.delete(name);
  for (const [name, value] of response.headers) {
    target.headers.append(name, value);
  }
  target.body = response.body;
}
