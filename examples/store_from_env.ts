// The session store an example server uses, picked from the environment:
//
//   SESSION_STORE=redis   RedisStore on REDIS_URL (default redis://127.0.0.1:6379)
//   SESSION_STORE=kv      KvStore on the KV file KV_PATH (default: Deno's
//                         default database); needs --unstable-kv
//   otherwise             MemStore: sessions in this process's memory
//
// Redis and KV are loaded only when they are asked for, so the in-memory
// demo loads nothing more.

import { MemStore, type Store } from "../mod.ts";

/** The store `SESSION_STORE` names, and what it is, for the start-up line. */
export async function storeFromEnv(): Promise<{ store: Store; name: string }> {
  const kind = Deno.env.get("SESSION_STORE") ?? "memory";
  if (kind === "redis") {
    // A specifier built at run time: Deno resolves a literal one ahead of
    // time, and the in-memory demo would download the Redis client.
    const redis = ["npm:redis", "6.3.1"].join("@");
    const { createClient } = await import(
      redis
    ) as typeof import("npm:redis@6.3.1");
    const { RedisStore } = await import("../redis.ts");
    const url = Deno.env.get("REDIS_URL") ?? "redis://127.0.0.1:6379";
    const client = createClient({ url });
    client.on("error", (error) => console.error(`Redis: ${error.message}`));
    await client.connect();
    return { store: new RedisStore(client), name: `Redis at ${url}` };
  }
  if (kind === "kv") {
    const { KvStore, openSharedKv } = await import("../kv.ts");
    const path = Deno.env.get("KV_PATH");
    const kv = await openSharedKv(path);
    return {
      store: new KvStore(kv),
      name: `Deno KV at ${path ?? "the default path"}`,
    };
  }
  if (kind !== "memory") {
    console.error(
      `SESSION_STORE must be "memory", "redis" or "kv", not "${kind}"`,
    );
    Deno.exit(1);
  }
  return { store: new MemStore(), name: "memory" };
}
