/**
 * Sessions for Deno servers: {@linkcode SessionManager} gives every
 * `Deno.serve` request a session kept behind a cookie, and
 * {@linkcode MemStore} keeps sessions in memory (a port of SCS's
 * `memstore`). Any {@linkcode Store} can stand in for it.
 *
 * @example Sessions in Deno.serve
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemStore, SessionManager } from "@sessions/memstore";
 *
 * using sessions = new SessionManager<{ message: string }>({
 *   store: new MemStore(),
 * });
 * const handler = sessions.loadAndSave((_request, session) => {
 *   session.put("message", "Hello from a session!");
 *   return new Response("ok");
 * });
 * // Deno.serve(handler);
 * const response = await handler(new Request("http://localhost/"));
 * assert.ok(response.headers.get("set-cookie")?.startsWith("session="));
 * ```
 *
 * @module
 */

export * from "./codec.ts";
export * from "./manager.ts";
export * from "./memstore.ts";
export * from "./options.ts";
export * from "./session.ts";
export * from "./store.ts";
export * from "./user_sessions.ts";
