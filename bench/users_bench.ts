// Sessions of one user among many: 100,000 users with 3 sessions each
// (300,000 sessions) and one more user with 5, on MemStore and RedisStore.
// Times `users.list()` and `users.revokeAll()` of that user (the per-user
// index: a cost of their 5 sessions), against finding the same 5 sessions
// with `iterate()`, which reads every session, as every peer must.
//
//   deno task bench:users            300,000 sessions
//   deno task bench:users --quick    30,000 sessions, fewer rounds
//
// Medians of the rounds; each revokeAll is followed by signing the 5
// devices in again, outside the timing.

import { createClient } from "redis";
import { startRedis } from "../_test_helpers.ts";
import { MemStore } from "../memstore.ts";
import { SessionManager } from "../manager.ts";
import { RedisStore } from "../redis.ts";
import type { Store } from "../store.ts";

const QUICK = Deno.args.includes("--quick");
const USERS = QUICK ? 10_000 : 100_000;
const PER_USER = 3;
const ROUNDS = QUICK ? 5 : 21;
const ITERATE_ROUNDS = QUICK ? 1 : 3;

type Values = { user: string };

/** The median of `times`. */
function median(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Milliseconds `work` takes. */
async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** Signs `user` in on a new session. */
async function signIn(sessions: SessionManager<Values>, user: string) {
  const session = await sessions.load("");
  session.put("user", user);
  await sessions.commit(session);
}

async function measure(name: string, store: Store): Promise<void> {
  using sessions = new SessionManager<Values>({
    store,
    users: { key: "user" },
  });
  const started = performance.now();
  const batch: Promise<void>[] = [];
  for (let u = 0; u < USERS; u++) {
    for (let i = 0; i < PER_USER; i++) {
      batch.push(signIn(sessions, `user${u}`));
    }
    if (batch.length >= 3_000) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
  const target = "the-user";
  const fiveDevices = () =>
    Promise.all(Array.from({ length: 5 }, () => signIn(sessions, target)));
  await fiveDevices();
  const filled = (performance.now() - started) / 1000;

  const lists: number[] = [];
  const revokes: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let listed = 0;
    lists.push(
      await timed(async () =>
        listed = (await sessions.users.list(target)).length
      ),
    );
    if (listed !== 5) throw new Error(`${name}: listed ${listed}, not 5`);
    let ended = 0;
    revokes.push(
      await timed(async () => ended = await sessions.users.revokeAll(target)),
    );
    if (ended !== 5) throw new Error(`${name}: revoked ${ended}, not 5`);
    await fiveDevices();
  }
  const scans: number[] = [];
  for (let round = 0; round < ITERATE_ROUNDS; round++) {
    let found = 0;
    scans.push(
      await timed(() =>
        sessions.iterate((session) => {
          if (session.get("user") === target) found++;
        })
      ),
    );
    if (found !== 5) throw new Error(`${name}: iterate found ${found}, not 5`);
  }
  const list = median(lists), revoke = median(revokes), scan = median(scans);
  console.log(
    `| ${name} | ${USERS * PER_USER + 5} | ${list.toFixed(3)} | ${
      revoke.toFixed(3)
    } | ${scan.toFixed(0)} | ${(scan / list).toFixed(0)}x |`,
  );
  console.error(`  (${name}: filled in ${filled.toFixed(1)} s)`);
}

console.log(
  `One user's 5 sessions among ${USERS} users' ${
    USERS * PER_USER
  }: median ms of ${ROUNDS} rounds (iterate: ${ITERATE_ROUNDS})\n`,
);
console.log(
  "| store | sessions | list (ms) | revokeAll (ms) | iterate() to find them (ms) | iterate ÷ list |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
{
  using store = new MemStore({ cleanupInterval: 0 });
  await measure("MemStore", store);
}
const redis = await startRedis();
try {
  const client = await createClient({ url: redis.url }).connect();
  try {
    await measure("RedisStore", new RedisStore(client));
  } finally {
    await client.close();
  }
} finally {
  await redis.stop();
}
