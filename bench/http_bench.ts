// HTTP benchmark: the seed example (/get, /put of the message held, and
// /count, which changes the session on every request, with a live session)
// on every server of ROWS, with wrk -t1 -c32 on loopback, rounds in
// alternation, so every row meets the same noise. Each row is reported as
// requests/s and as a fraction of two yardsticks: "limit", a Deno.serve
// handler that reads the Cookie header, awaits once and sets Vary, storing
// nothing: what any cookie-session layer on Deno.serve must cost at least
// once the browser holds its cookie; and "bare", a handler that reads
// nothing.
// For rows on Redis, the Redis commands per request (INFO commandstats); on
// PostgreSQL, the statements per request (counted by the servers' pools).
//
//   deno task bench:http [--duration 5] [--rounds 3] [--only a,b,...]
//     [--also file,...] [--quick]
//
// --also adds servers of the seed example's routes, given as files (another
// checkout's examples/server.ts, a variant under test), as rows of their own:
// an A/B of two versions in one run, beside the limit.
//
// Installs wrk, redis-server and postgresql with apt-get when they are
// missing (needs root), and the Node peers with npm into a scratch folder.

import {
  startPostgres,
  startRedis,
  startRedisCluster,
} from "../_test_helpers.ts";

const args = Deno.args;
const option = (name: string): string | undefined => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
};
const quick = args.includes("--quick");
const duration = Number(option("duration") ?? (quick ? 2 : 5));
const rounds = Number(option("rounds") ?? (quick ? 1 : 3));
const only = option("only")?.split(",");
const also = option("also")?.split(",") ?? [];
const here = new URL(".", import.meta.url).pathname;
const root = new URL("..", import.meta.url).pathname;
const deno = Deno.execPath();

async function run(cmd: string, cmdArgs: string[], cwd?: string) {
  const { success, stdout, stderr } = await new Deno.Command(cmd, {
    args: cmdArgs,
    stdout: "piped",
    stderr: "piped",
    ...(cwd ? { cwd } : {}),
  }).output();
  const out = new TextDecoder().decode(stdout);
  if (!success) {
    throw new Error(
      `${cmd} ${cmdArgs.join(" ")} failed:\n${out}${
        new TextDecoder().decode(stderr)
      }`,
    );
  }
  return out;
}

async function has(cmd: string): Promise<boolean> {
  try {
    await run("sh", ["-c", `command -v ${cmd}`]);
    return true;
  } catch {
    return false;
  }
}

if (!(await has("wrk"))) {
  console.error("Installing wrk with apt-get...");
  await run("apt-get", ["update", "-qq"]);
  await run("apt-get", ["install", "-y", "-qq", "wrk"]);
}

function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
}

/** A server under test: how to start it, and what it runs on. */
interface Row {
  key: string;
  name: string;
  /** Starts the server on `port`, over the run's stores at `at`. */
  command(
    port: number,
    at: Servers,
  ): { cmd: string; args: string[]; env: Record<string, string> };
  /** Its sessions are in Redis: count the commands per request. */
  redis?: boolean;
  /** Its sessions are in the run's Redis Cluster (commands counted on every node). */
  cluster?: boolean;
  /** Node peers: installed with npm first. */
  node?: boolean;
  /** A yardstick, which keeps no session. */
  baseline?: boolean;
  /** Also measure /count over 1,000 sessions. */
  spread?: boolean;
  /** Its sessions are in Deno KV: count KV operations from /_kvstats. */
  kv?: boolean;
  /** Its sessions are in PostgreSQL: count statements from /_pgstats. */
  postgres?: boolean;
}

/**
 * Where the run's stores are: Redis, Redis Cluster (its nodes,
 * comma-separated), PostgreSQL; "" for one the run did not start.
 */
interface Servers {
  redis: string;
  cluster: string;
  database: string;
}

/**
 * The benchmark's own configuration and lockfile for every server it runs,
 * examples included: the package's lockfile holds only what it runs with.
 */
const CONFIG = ["--config", `${here}deno.json`];

const denoRun =
  (file: string, env: Record<string, string> = {}) =>
  (port: number, at: Servers) => ({
    cmd: deno,
    args: ["run", ...CONFIG, "--allow-all", file],
    env: { PORT: String(port), REDIS_URL: at.redis, ...env },
  });

/**
 * The seed example with `env(at)`: run, or under `deno serve --parallel`
 * (2 isolates, examples/serve.ts).
 */
const exampleRun = (
  parallel: boolean,
  env: (at: Servers) => Record<string, string>,
) =>
(port: number, at: Servers) => ({
  cmd: deno,
  args: parallel
    ? [
      "serve",
      ...CONFIG,
      "--parallel",
      "--allow-all",
      "--port",
      String(port),
      `${root}examples/serve.ts`,
    ]
    : ["run", ...CONFIG, "--allow-all", `${root}examples/server.ts`],
  env: { PORT: String(port), ...env(at) },
});
/** The environment of the seed example on the run's Redis Cluster. */
const clusterEnv = (more: Record<string, string> = {}) => (at: Servers) => ({
  SESSION_STORE: "redis-cluster",
  REDIS_URL: at.cluster,
  ...more,
});

let peers: string | undefined; // the scratch folder of the Node peers
const nodeRun = (file: string, store?: "redis" | "postgres") =>
(
  port: number,
  at: Servers,
) => ({
  cmd: "node",
  args: [`${peers}/${file}`],
  env: {
    PORT: String(port),
    ...(store === "redis" ? { REDIS_URL: at.redis } : {}),
    ...(store === "postgres" ? { DATABASE_URL: at.database } : {}),
  },
});

const kvDir = await Deno.makeTempDir({ prefix: "session-kv-" }); // the KV files of the run
const kvServe = (parallel: boolean) => (port: number) => ({
  cmd: deno,
  args: [
    "serve",
    ...CONFIG,
    ...(parallel ? ["--parallel"] : []),
    "--unstable-kv",
    "--allow-all",
    "--port",
    String(port),
    `${here}_kv_server.ts`,
  ],
  env: { KV_PATH: `${kvDir}/${parallel ? "parallel" : "one"}.kv` },
});

const ROWS: Row[] = [
  {
    key: "bare",
    name: "bare Deno.serve, no sessions",
    baseline: true,
    command: denoRun(`${here}_bare_server.ts`),
  },
  {
    key: "limit",
    name: "limit: Cookie read, one await, Vary",
    baseline: true,
    command: denoRun(`${here}_limit_server.ts`),
  },
  {
    key: "memory",
    spread: true,
    name: "SessionManager + MemStore",
    command: denoRun(`${root}examples/server.ts`),
  },
  {
    key: "redis",
    spread: true,
    name: "SessionManager + RedisStore",
    redis: true,
    command: denoRun(`${root}examples/server.ts`, { SESSION_STORE: "redis" }),
  },
  {
    key: "redis-parallel",
    spread: true,
    name: "SessionManager + RedisStore, deno serve --parallel (2)",
    redis: true,
    command: exampleRun(
      true,
      (at) => ({ SESSION_STORE: "redis", REDIS_URL: at.redis }),
    ),
  },
  {
    key: "redis-cluster",
    spread: true,
    cluster: true,
    name: "SessionManager + RedisStore on Redis Cluster (3 masters)",
    command: exampleRun(false, clusterEnv()),
  },
  {
    key: "redis-cluster-parallel",
    spread: true,
    cluster: true,
    name:
      "SessionManager + RedisStore on Redis Cluster, deno serve --parallel (2)",
    command: exampleRun(true, clusterEnv()),
  },
  {
    key: "redis-cluster-wait",
    spread: true,
    cluster: true,
    name: "SessionManager + RedisStore on Redis Cluster, waitReplicas: 1",
    command: exampleRun(false, clusterEnv({ REDIS_WAIT_REPLICAS: "1" })),
  },
  {
    key: "redis-set",
    spread: true,
    name: "SessionManager + Redis, last write wins (one SET)",
    redis: true,
    command: denoRun(`${here}_redis_set_server.ts`),
  },
  {
    key: "kv",
    spread: true,
    kv: true,
    name: "SessionManager + KvStore (local file)",
    command: kvServe(false),
  },
  {
    key: "kv-parallel",
    spread: true,
    kv: true,
    name: "SessionManager + KvStore, deno serve --parallel (2) on one file",
    command: kvServe(true),
  },
  {
    key: "postgres",
    spread: true,
    postgres: true,
    name: "SessionManager + PostgresStore",
    command: (port, at) => ({
      cmd: deno,
      args: ["run", ...CONFIG, "--allow-all", `${here}_pg_server.ts`],
      env: { PORT: String(port), DATABASE_URL: at.database },
    }),
  },
  {
    key: "hono",
    name: "Hono + our middleware (MemStore)",
    command: denoRun(`${here}_hono_server.ts`, { HONO_SESSIONS: "ours" }),
  },
  {
    key: "hono-sessions",
    name: "Hono + hono-sessions (MemoryStore)",
    command: denoRun(`${here}_hono_server.ts`, {
      HONO_SESSIONS: "hono-sessions",
    }),
  },
  {
    key: "hono-noop",
    name: "Hono + a no-op middleware (reads Cookie, sets Vary)",
    command: denoRun(`${here}_hono_server.ts`, { HONO_SESSIONS: "noop" }),
  },
  {
    key: "express",
    name: "Node 20 + Express 5 + express-session",
    node: true,
    command: nodeRun("_express_server.mjs"),
  },
  {
    key: "express-redis",
    name: "Node 20 + Express 5 + express-session + connect-redis",
    node: true,
    redis: true,
    command: nodeRun("_express_server.mjs", "redis"),
  },
  {
    key: "express-postgres",
    name: "Node 20 + Express 5 + express-session + connect-pg-simple",
    node: true,
    postgres: true,
    command: nodeRun("_express_server.mjs", "postgres"),
  },
  {
    key: "fastify",
    name: "Node 20 + Fastify 5 + @fastify/session",
    node: true,
    command: nodeRun("_fastify_server.mjs"),
  },
  {
    key: "fastify-redis",
    name: "Node 20 + Fastify 5 + @fastify/session + connect-redis",
    node: true,
    redis: true,
    command: nodeRun("_fastify_server.mjs", "redis"),
  },
];

const rows = [
  ...ROWS.filter((row) =>
    only === undefined || only.includes(row.key) || row.baseline
  ),
  ...also.map((file): Row => {
    const path = new URL(file, `file://${Deno.cwd()}/`).pathname;
    return { key: file, name: file, command: denoRun(path) };
  }),
];

if (rows.some((row) => row.node)) {
  try {
    peers = await Deno.makeTempDir({ prefix: "session-peers-" });
    await run("npm", ["init", "-y"], peers);
    await run("npm", [
      "install",
      "--silent",
      "--no-audit",
      "--no-fund",
      "express@5",
      "express-session@1",
      "connect-redis@10",
      "redis@6",
      "pg@8",
      "connect-pg-simple@10",
      "fastify@5",
      "@fastify/session@11",
      "@fastify/cookie@11",
    ], peers);
    for (const file of ["_express_server.mjs", "_fastify_server.mjs"]) {
      await Deno.copyFile(`${here}${file}`, `${peers}/${file}`);
    }
  } catch (error) {
    console.error(
      `The Node peers were not measured: ${(error as Error).message}`,
    );
    rows.splice(0, rows.length, ...rows.filter((row) => !row.node));
  }
}

await using redis = await startRedis();
const postgres = rows.some((row) => row.postgres)
  ? await startPostgres()
  : undefined;
const cluster = rows.some((row) => row.cluster)
  ? await startRedisCluster()
  : undefined;

/** The statements a server's pool has run so far (its /_pgstats). */
async function pgQueries(base: string): Promise<number> {
  return (await (await fetch(`${base}/_pgstats`)).json()).queries;
}

interface KvStats {
  reads: number;
  writes: number;
  conflicts: number;
  retries: number;
}

/** The KvStore counts of every isolate of a server, summed. */
async function kvStats(base: string, isolates: number): Promise<KvStats> {
  const seen = new Map<string, KvStats>();
  for (let i = 0; i < 50 && seen.size < isolates; i++) {
    // A new connection each time, so the kernel may hand it to either isolate.
    const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
    const { isolate, ...stats } =
      await (await fetch(`${base}/_kvstats`, { client })).json();
    client.close();
    seen.set(isolate, stats);
  }
  const sum = { reads: 0, writes: 0, conflicts: 0, retries: 0 };
  for (const stats of seen.values()) {
    for (const name of Object.keys(sum) as (keyof KvStats)[]) {
      sum[name] += stats[name];
    }
  }
  return sum;
}
/**
 * How many times Redis has run each command so far (INFO commandstats),
 * summed over the nodes on `ports`.
 */
async function redisCalls(ports: number[]): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const port of ports) {
    const stats = await run("redis-cli", [
      "-p",
      String(port),
      "INFO",
      "commandstats",
    ]).catch(() => "");
    for (
      const [, name, count] of stats.matchAll(/cmdstat_(\w+):calls=(\d+)/g)
    ) {
      calls.set(name!, (calls.get(name!) ?? 0) + Number(count));
    }
  }
  return calls;
}

/** The commands run per request between two counts, INFO itself left out. */
function perRequest(
  before: Map<string, number>,
  after: Map<string, number>,
  requests: number,
): string {
  const parts: string[] = [];
  for (const [name, count] of after) {
    const delta = count - (before.get(name) ?? 0);
    if (name === "info" || delta / requests < 0.01) continue;
    parts.push(`${name} ${(delta / requests).toFixed(2)}`);
  }
  return parts.sort().join(", ");
}

interface Started {
  row: Row;
  child: Deno.ChildProcess;
  /** What the server wrote to stderr (its onError reports), kept whole. */
  log: Promise<string>;
  base: string;
  cookie: string;
  /** A file of 1,000 session cookies, one a line, for spread rows. */
  cookies?: string;
}

/** 1,000 sessions of a server, as a file of their cookies. */
async function sessionsOf(base: string): Promise<string> {
  const cookies: string[] = [];
  for (let i = 0; i < 1_000; i++) {
    const put = await fetch(`${base}/put`);
    await put.body?.cancel();
    cookies.push(put.headers.get("set-cookie")!.split(";")[0]!);
  }
  const file = await Deno.makeTempFile({ suffix: ".txt" });
  await Deno.writeTextFile(file, cookies.join("\n") + "\n");
  return file;
}

async function start(row: Row): Promise<Started> {
  const port = freePort();
  const { cmd, args: cmdArgs, env } = row.command(port, {
    redis: redis.url,
    cluster: cluster?.urls.join(",") ?? "",
    database: postgres?.url ?? "",
  });
  const child = new Deno.Command(cmd, {
    args: cmdArgs,
    env,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0;; i++) {
    try {
      await (await fetch(`${base}/get`)).body?.cancel();
      break;
    } catch {
      if (i === 200) throw new Error(`${row.name} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const put = await fetch(`${base}/put`);
  await put.body?.cancel();
  const cookie = put.headers.get("set-cookie")?.split(";")[0] ?? "";
  if (!row.baseline) {
    const body = await (await fetch(`${base}/get`, { headers: { cookie } }))
      .text();
    if (body !== "Hello from a session!") {
      throw new Error(`${row.name}: /get answered ${JSON.stringify(body)}`);
    }
  }
  const cookies = row.spread ? await sessionsOf(base) : undefined;
  const log = new Response(child.stderr).text();
  return { row, child, base, cookie, log, ...(cookies ? { cookies } : {}) };
}

/**
 * Requests/s, requests made and p99 latency of one wrk run: with `cookie`,
 * or with `cookies`, a file of them that the script takes in turn.
 */
async function wrk(url: string, cookie: string, cookies?: string) {
  const wrkArgs = ["-t1", "-c32", `-d${duration}s`, "--latency"];
  if (cookies) {
    wrkArgs.push("-s", `${here}_many_sessions.lua`, url, "--", cookies);
  } else {
    wrkArgs.push(url);
    if (cookie) wrkArgs.push("-H", `Cookie: ${cookie}`);
  }
  const out = await run("wrk", wrkArgs);
  // An error response or two in a long run is reported, not fatal; more
  // than 1% of the requests is.
  const failed = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const total = Number(/(\d+) requests in/.exec(out)?.[1]);
  if (/Socket errors/.test(out) || failed > total / 100) {
    throw new Error(`wrk saw errors for ${url}:\n${out}`);
  }
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const scale = { us: 0.001, ms: 1, s: 1000 } as const;
  const latency = p99
    ? Number(p99[1]) * scale[p99[2] as keyof typeof scale]
    : NaN;
  if (!(rps > 0)) throw new Error(`Cannot read wrk's output:\n${out}`);
  return { rps, total, p99: latency, failed };
}

/**
 * /get reads the session, /put puts the message it holds already, /count
 * changes the session on every request; `/count*`: /count over 1,000
 * sessions, so that requests of one session rarely overlap.
 */
type Route = "/get" | "/put" | "/count" | "/count*";
const ROUTES: Route[] = ["/get", "/put", "/count", "/count*"];
/** The routes of the main table. */
const MAIN: Route[] = ["/get", "/put", "/count"];
interface Result {
  rps: Record<Route, number[]>;
  p99: Record<Route, number[]>;
  /** Error responses, over every round and route. */
  failed: number;
  /** The commands per request of the last round, by name. */
  commands: Partial<Record<Route, string>>;
}

const results = new Map<string, Result>();
const started: Started[] = [];
try {
  for (const row of rows) started.push(await start(row));
  for (let round = 0; round < rounds; round++) {
    for (const server of started) {
      const result = results.get(server.row.key) ?? {
        rps: { "/get": [], "/put": [], "/count": [], "/count*": [] },
        p99: { "/get": [], "/put": [], "/count": [], "/count*": [] },
        commands: {},
        failed: 0,
      };
      results.set(server.row.key, result);
      for (const route of ROUTES) {
        if (route === "/count*" && !server.cookies) continue;
        // Masters only: a replica runs each write again, replicated.
        const ports = server.row.cluster
          ? await cluster!.masters()
          : server.row.redis
          ? [redis.port]
          : undefined;
        const before = ports ? await redisCalls(ports) : undefined;
        const isolates = server.row.key === "kv-parallel" ? 2 : 1;
        const kvBefore = server.row.kv
          ? await kvStats(server.base, isolates)
          : undefined;
        const pgBefore = server.row.postgres
          ? await pgQueries(server.base)
          : undefined;
        const { rps, total, p99, failed } = route === "/count*"
          ? await wrk(server.base + "/count", "", server.cookies)
          : await wrk(server.base + route, server.cookie);
        result.rps[route].push(rps);
        result.p99[route].push(p99);
        result.failed += failed;
        if (kvBefore !== undefined) {
          const after = await kvStats(server.base, isolates);
          const per = (name: keyof KvStats) =>
            ((after[name] - kvBefore[name]) / total).toFixed(2);
          result.commands[route] = `KV reads ${per("reads")}, writes ${
            per("writes")
          }; conflicts ${
            after.conflicts - kvBefore.conflicts
          }, locked retries ${after.retries - kvBefore.retries}`;
        }
        if (pgBefore !== undefined) {
          const queries = await pgQueries(server.base) - pgBefore;
          result.commands[route] = `statements ${(queries / total).toFixed(2)}`;
        }
        if (before !== undefined) {
          result.commands[route] = perRequest(
            before,
            await redisCalls(ports!),
            total,
          );
        }
      }
    }
  }
} finally {
  for (const { child, cookies } of started) {
    child.kill("SIGKILL");
    await child.status;
    if (cookies) await Deno.remove(cookies);
  }
  for (const { row, log } of started) {
    const text = (await log).split("\n")
      .filter((line) => line.trim() !== "" && !/Listening on/.test(line))
      .join("\n");
    if (text !== "") {
      console.error(`${row.name} wrote to stderr:\n${text.slice(0, 2000)}\n`);
    }
  }
  if (peers) await Deno.remove(peers, { recursive: true });
  await Deno.remove(kvDir, { recursive: true });
  await postgres?.[Symbol.asyncDispose]();
  await cluster?.[Symbol.asyncDispose]();
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[values.length >> 1]!;
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const x = (n: number) => `${n.toFixed(2)}x`;
const limit = results.get("limit")!, bare = results.get("bare")!;
const of = (result: Result, route: Route) => median(result.rps[route]);
/**
 * The median over rounds of `result`'s figure ÷ `base`'s in the same round:
 * each ratio is taken minutes apart at most, so this machine's drift
 * between rounds cancels out.
 */
const ratio = (
  result: Result,
  base: Result,
  route: Route,
  figure: "rps" | "p99" = "rps",
) =>
  median(
    result[figure][route].map((value, round) =>
      value / base[figure][route][round]!
    ),
  );

console.log(
  `wrk -t1 -c32 -d${duration}s on loopback, ${rounds} round(s) in alternation; req/s and p99 are medians over rounds, ratios the medians of each round's ratio; Deno ${Deno.version.deno}\n`,
);
console.log(
  `| server | ${MAIN.map((r) => `${r} req/s`).join(" | ")} | ${
    MAIN.map((r) => `${r} ÷ limit`).join(" | ")
  } | /get ÷ bare | /get p99 ms | /get p99 ÷ limit's | store operations per request |`,
);
console.log(`| --- |${" ---: |".repeat(2 * MAIN.length + 3)} --- |`);
for (const row of rows) {
  const result = results.get(row.key)!;
  const commands = row.redis || row.cluster || row.kv || row.postgres
    ? MAIN.map((route) => `${route}: ${result.commands[route]}`).join("; ")
    : "";
  console.log(
    `| ${row.name} | ${MAIN.map((r) => fmt(of(result, r))).join(" | ")} | ${
      MAIN.map((r) => x(ratio(result, limit, r))).join(" | ")
    } | ${x(ratio(result, bare, "/get"))} | ${
      median(result.p99["/get"]).toFixed(2)
    } | ${x(ratio(result, limit, "/get", "p99"))} | ${commands} |`,
  );
}
const memory = results.get("memory");
const PEERS = ["hono-sessions", "express", "fastify"];
if (memory) {
  for (const row of rows.filter((row) => PEERS.includes(row.key))) {
    const peer = results.get(row.key)!;
    console.log(
      `SessionManager + MemStore ÷ ${row.name}: ${
        MAIN.map((r) => `${r} ${x(ratio(memory, peer, r))}`).join(", ")
      } (target >= 2x)`,
    );
  }
}
console.log(
  "\n/count over 1,000 sessions, each request changing its session (req/s; store operations per request, counting the commands a Redis script runs):",
);
for (const row of rows.filter((row) => row.spread)) {
  const result = results.get(row.key)!;
  const commands = row.redis || row.cluster || row.kv || row.postgres
    ? `; ${result.commands["/count*"]}`
    : "";
  console.log(`- ${row.name}: ${fmt(of(result, "/count*"))}${commands}`);
}
const cas = results.get("redis"), set = results.get("redis-set");
if (cas && set) {
  console.log(
    `A save with compare-and-set (RedisStore) costs ${
      x(of(set, "/count*") / of(cas, "/count*"))
    } the time of one with a plain SET (target <= 1.3x).`,
  );
}
const onCluster = results.get("redis-cluster");
const waiting = results.get("redis-cluster-wait");
if (onCluster && waiting) {
  const perSave = (result: Result) => 1e6 / of(result, "/count*");
  console.log(
    `waitReplicas: 1 on the cluster: /count* at ${
      x(of(waiting, "/count*") / of(onCluster, "/count*"))
    } the requests/s without it (${
      (perSave(waiting) - perSave(onCluster)).toFixed(0)
    } µs more per changing save at 32 connections).`,
  );
}
const hono = results.get("hono");
const honoSessions = results.get("hono-sessions");
const honoNoop = results.get("hono-noop");
if (hono && honoSessions && honoNoop) {
  const vs = (a: Result, b: Result) =>
    MAIN.map((r) => `${r} ${x(ratio(a, b, r))}`).join(", ");
  console.log(
    `Hono + our middleware: ${
      vs(hono, honoSessions)
    } of hono-sessions (target >= 2x); ${
      vs(hono, honoNoop)
    } of the no-op middleware (target >= 0.85x).`,
  );
}
for (const row of rows) {
  const failed = results.get(row.key)!.failed;
  if (failed > 0) {
    console.log(`${row.name}: ${failed} error responses in all.`);
  }
}
console.log("\nEvery round (req/s):");
for (const row of rows) {
  const result = results.get(row.key)!;
  console.log(
    `- ${row.name}: ${
      MAIN.map((r) => `${r} ${result.rps[r].map(fmt).join(", ")}`).join("; ")
    }`,
  );
}
