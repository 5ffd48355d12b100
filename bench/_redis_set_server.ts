// The seed example over Redis with last-write-wins saves: one SET per save,
// no compare-and-set, as SCS's redisstore and connect-redis write. The HTTP
// benchmark compares it with RedisStore's compare-and-set saves.

import { createClient } from "redis";
import type { VersionedWrite } from "../mod.ts";
import { seedApp } from "./_seed_app.ts";
import { RedisStore } from "../redis.ts";

const client = await createClient({ url: Deno.env.get("REDIS_URL") }).connect();
const redis = new RedisStore(client);
/** RedisStore's reads, and its plain commit (one SET) for every save. */
const store = {
  find: (token: string) => redis.find(token),
  commit: (token: string, data: Uint8Array, expiry: Date) =>
    redis.commit(token, data, expiry),
  delete: (token: string) => redis.delete(token),
  findVersioned: (token: string) => redis.findVersioned(token),
  async commitVersioned(writes: readonly VersionedWrite[]) {
    for (const { token, data, expiry } of writes) {
      await redis.commit(token, data, expiry);
    }
    return true;
  },
};
Deno.serve({ port: Number(Deno.env.get("PORT")) }, seedApp(store));
