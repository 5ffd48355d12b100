// PostgresStore's cleanup on a big table: 1,000,000 sessions of which
// 100,000 have expired (made with generate_series, then ANALYZE). Runs one
// cleanup, timing each of its statements, while another connection reads
// live sessions one after another: the longest cleanup statement, the
// cleanup's whole time, and the slowest read meanwhile.
//
//   deno task bench:pg-cleanup [--rows 1000000] [--expired 100000] [--batch 1000]

import pg from "npm:pg@8.23.1";
import { startPostgres } from "../_test_helpers.ts";
import { PostgresStore } from "../postgres.ts";

const arg = (name: string, fallback: number): number => {
  const at = Deno.args.indexOf(name);
  return at === -1 ? fallback : Number(Deno.args[at + 1]);
};
const ROWS = arg("--rows", 1_000_000);
const EXPIRED = arg("--expired", 100_000);
const BATCH = arg("--batch", 1_000);

await using server = await startPostgres();
const pool = new pg.Pool({ connectionString: server.url, max: 4 });
try {
  const times: number[] = [];
  const timed = {
    async query(text: string, values?: unknown[]) {
      const started = performance.now();
      try {
        return await pool.query(text, values);
      } finally {
        times.push(performance.now() - started);
      }
    },
  };
  using store = new PostgresStore(timed, {
    cleanupInterval: 0,
    cleanupBatch: BATCH,
  });
  await store.createTable();
  const now = Date.now();
  // Expired rows expire over the last hour; live ones over the next day.
  await pool.query(
    `INSERT INTO sessions (token, data, expiry, version)
     SELECT md5(n::text), decode(repeat('ab', 100), 'hex'),
       CASE WHEN n <= $2 THEN $1::bigint - 1 - (n % 3600000)
            ELSE $1::bigint + 60000 + (n % 86400000) END,
       'v'
     FROM generate_series(1, $3::int) n`,
    [now, EXPIRED, ROWS],
  );
  await pool.query("ANALYZE sessions");
  times.length = 0;

  let reading = true;
  let slowestRead = 0, reads = 0;
  const reader = (async () => {
    while (reading) {
      const token = crypto.randomUUID().replaceAll("-", "").slice(0, 32);
      const started = performance.now();
      await pool.query(
        "SELECT data, version, expiry, ended FROM sessions WHERE token = $1 AND expiry > $2",
        [token, Date.now()],
      );
      slowestRead = Math.max(slowestRead, performance.now() - started);
      reads++;
    }
  })();
  const started = performance.now();
  const deleted = await store.cleanup();
  const total = performance.now() - started;
  reading = false;
  await reader;
  const { rows } = await pool.query("SELECT count(*)::int AS n FROM sessions");
  console.log(
    `Cleanup of ${EXPIRED.toLocaleString("en")} expired rows among ${
      ROWS.toLocaleString("en")
    } (batches of ${BATCH}): deleted ${
      deleted.toLocaleString("en")
    } in ${times.length} statements, ${
      (total / 1000).toFixed(2)
    } s in all; longest statement ${Math.max(...times).toFixed(1)} ms, median ${
      [...times].sort((a, b) => a - b)[times.length >> 1]!.toFixed(1)
    } ms; ${
      rows[0].n.toLocaleString("en")
    } rows left; ${reads} reads meanwhile, the slowest ${
      slowestRead.toFixed(1)
    } ms`,
  );
  if (deleted !== EXPIRED || rows[0].n !== ROWS - EXPIRED) {
    throw new Error("the cleanup did not delete exactly the expired rows");
  }
} finally {
  await pool.end();
}
