// The session store an example server uses, picked from the environment:
//
//   SESSION_STORE=redis   RedisStore on REDIS_URL (default redis://127.0.0.1:6379)
//   SESSION_STORE=redis-cluster  RedisStore on the Redis Cluster whose nodes
//                         REDIS_URL lists (comma-separated)
//   with REDIS_WAIT_REPLICAS=n, each write waits for n replicas
//   SESSION_STORE=kv      KvStore on the KV file KV_PATH (default: Deno's
//                         default database); needs --unstable-kv
//   SESSION_STORE=postgres  PostgresStore on DATABASE_URL (default
//                         postgres://postgres@127.0.0.1:5432/postgres),
//                         table "sessions", created if missing
//   otherwise             MemStore: sessions in this process's memory
//
// Redis, KV and PostgreSQL are loaded only when they are asked for, so the
// in-memory demo loads nothing more.

import { MemStore, type Store } from "../mod.ts";

/** The store `SESSION_STORE` names, and what it is, for the start-up line. */
export async function storeFromEnv(): Promise<{ store: Store; name: string }> {
  const kind = Deno.env.get("SESSION_STORE") ?? "memory";
  if (kind === "redis" || kind === "redis-cluster") {
    // A specifier built at run time: Deno resolves a literal one ahead of
    // time, and the in-memory demo would download the Redis client.
    const redis = ["npm:redis", "6.3.1"].join("@");
    const { createClient, createCluster } = await import(
      redis
    ) as typeof import("npm:redis@6.3.1");
    const { RedisStore } = await import("../redis.ts");
    const url = Deno.env.get("REDIS_URL") ?? "redis://127.0.0.1:6379";
    let started = false;
    const socket = {
      // At start, give up after a few tries; once serving, keep trying
      // (requests answer 500 through onError meanwhile).
      reconnectStrategy: (retries: number, cause: Error) =>
        started || retries < 3 ? Math.min(100 * (retries + 1), 2_000) : cause,
    };
    const client = kind === "redis"
      ? createClient({ url, socket })
      : createCluster({
        rootNodes: url.split(",").map((node) => ({ url: node })),
        defaults: { socket },
      });
    client.on("error", (error: Error) => {
      if (started) console.error(`Redis: ${error.message}`);
    });
    try {
      await client.connect();
    } catch (error) {
      exit(
        `Cannot reach Redis at ${url} (${
          messageOf(error)
        }): start redis-server, or set REDIS_URL`,
      );
    }
    started = true;
    const waitReplicas = Number(Deno.env.get("REDIS_WAIT_REPLICAS") ?? 0);
    return {
      store: new RedisStore(client, { waitReplicas }),
      name: `${kind === "redis" ? "Redis" : "Redis Cluster"} at ${url}`,
    };
  }
  if (kind === "kv") {
    const { KvStore, openSharedKv } = await import("../kv.ts");
    const path = Deno.env.get("KV_PATH");
    let kv: Deno.Kv;
    try {
      kv = await openSharedKv(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) {
        exit(
          `${error.message}: SESSION_STORE=kv needs --allow-read --allow-write (SESSION_STORE=kv deno run --allow-net --allow-env --allow-read --allow-write examples/server.ts)`,
        );
      }
      exit(
        `Cannot open Deno KV at ${path ?? "the default path"} (${
          messageOf(error)
        }): set KV_PATH to a file you can write`,
      );
    }
    return {
      store: new KvStore(kv),
      name: `Deno KV at ${path ?? "the default path"}`,
    };
  }
  if (kind === "postgres") {
    const driver = ["npm:pg", "8.23.1"].join("@");
    const { default: pg } = await import(
      driver
    ) as typeof import("npm:pg@8.23.1");
    const { PostgresStore } = await import("../postgres.ts");
    const url = Deno.env.get("DATABASE_URL") ??
      "postgres://postgres@127.0.0.1:5432/postgres";
    // Statements that wait longer are cancelled by the server, so a stuck
    // one never holds a pooled connection for ever.
    const pool = new pg.Pool({
      connectionString: url,
      connectionTimeoutMillis: 5_000,
      statement_timeout: 5_000,
    });
    pool.on(
      "error",
      (error: Error) => console.error(`PostgreSQL: ${error.message}`),
    );
    const store = new PostgresStore(pool);
    try {
      await store.createTable();
    } catch (error) {
      exit(
        `Cannot reach PostgreSQL at ${url} (${
          messageOf(error)
        }): start it, or set DATABASE_URL`,
      );
    }
    return { store, name: `PostgreSQL at ${url}` };
  }
  if (kind !== "memory") {
    exit(
      `SESSION_STORE must be "memory", "redis", "redis-cluster", "kv" or "postgres", not "${kind}"`,
    );
  }
  return { store: new MemStore(), name: "memory" };
}

/** Says what went wrong in one line, and exits. */
function exit(line: string): never {
  console.error(line);
  Deno.exit(1);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
