/**
 * Sessions for Deno servers: {@linkcode MemStore}, an in-memory session
 * store, a port of SCS's `memstore`, and the {@linkcode Store} contract it
 * implements.
 *
 * @example Keeping a session in memory
 * ```ts
 * import { MemStore } from "@sessions/memstore";
 *
 * using store = new MemStore({ cleanupInterval: 30_000 });
 * await store.commit("token", new Uint8Array([1, 2, 3]), new Date(Date.now() + 60_000));
 * console.assert((await store.find("token"))?.length === 3);
 * ```
 *
 * @module
 */

export * from "./memstore.ts";
export * from "./store.ts";
