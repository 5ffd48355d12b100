// Soak test: a real Deno.serve with sessions (bench/_soak_server.ts) in one
// process, and many clients with cookie jars in this one, for a few minutes.
// Clients visit, write and read notes, sign in (renewToken, as one of 500
// users), sign out (destroy), list their devices, sign out their other
// devices, send two requests of one session at once (a visit with a note, a
// visit with a sign-out), go idle past the idle timeout, and leave for good.
// Every answer is checked; the run fails on any error, or when the per-user
// index lists more sessions than the store holds.
//
//   deno task soak                       3 minutes, 200 clients
//   deno task soak --duration 20 --clients 50
//   deno task soak --store redis         two server processes on one Redis
//                                        (installs redis-server if missing);
//   deno task soak --store postgres      two server processes on one
//                                        PostgreSQL (installs postgresql if
//                                        missing), which the run checks
//                                        keeps no row past two cleanups;
//                                        each request goes to either one

import { startPostgres, startRedis } from "../_test_helpers.ts";

const arg = (name: string, fallback: number): number => {
  const at = Deno.args.indexOf(name);
  return at === -1 ? fallback : Number(Deno.args[at + 1]);
};
const storeAt = Deno.args.indexOf("--store");
const STORE = storeAt === -1 ? "memory" : Deno.args[storeAt + 1];
if (STORE !== "memory" && STORE !== "redis" && STORE !== "postgres") {
  throw new Error(`--store must be memory, redis or postgres, not ${STORE}`);
}
const DURATION = arg("--duration", 180) * 1000;
const CLIENTS = arg("--clients", 200);
const WARMUP = Math.min(20_000, DURATION / 5);
const WINDOW = Math.max(1_000, Math.min(20_000, DURATION / 9));
/** Longer than the server's 3-second idle timeout. */
const IDLE_PAUSE = 3_500;
/** How many users clients sign in as. */
const USERS = 500;

interface Stats {
  heap: number;
  held: number;
  bytes: number;
  hits: number;
  misses: number;
  expired: number;
  evicted: number;
  listed: number;
  dropped: number;
  /** PostgreSQL: rows expired for longer than two cleanup intervals. */
  stale?: number;
}

const redis = STORE === "redis" ? await startRedis() : undefined;
const postgres = STORE === "postgres" ? await startPostgres() : undefined;

/** A soak server process; its base URL. */
async function startServer(): Promise<[Deno.ChildProcess, string]> {
  const server = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--v8-flags=--expose-gc",
      new URL("./_soak_server.ts", import.meta.url).pathname,
    ],
    env: {
      USERS: String(USERS),
      ...(redis === undefined ? {} : { REDIS_URL: redis.url }),
      ...(postgres === undefined ? {} : { DATABASE_URL: postgres.url }),
    },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { port } = JSON.parse((await lines.read()).value!);
  lines.releaseLock();
  return [server, `http://127.0.0.1:${port}`];
}
const servers = await Promise.all(
  Array.from({ length: STORE === "memory" ? 1 : 2 }, startServer),
);
const bases = servers.map(([, base]) => base);
/** A server for each request, as a load balancer would pick. */
const pick = () => bases[Math.floor(Math.random() * bases.length)]!;

let requests = 0;
let errors = 0;
const report = (message: string) => {
  if (++errors <= 10) console.error(`error: ${message}`);
};

/** A browser: one cookie, and what it expects its session to hold. */
class Client {
  cookie: string | undefined;
  /** The visit count the session holds, when known. */
  visits: number | undefined = 0;

  async send(path: string): Promise<{ body: string; token?: string }> {
    const headers: HeadersInit = this.cookie === undefined
      ? {}
      : { cookie: `session=${this.cookie}` };
    const response = await fetch(pick() + path, { headers });
    const body = await response.text();
    requests++;
    if (response.status !== 200) {
      report(`${path}: status ${response.status}`);
    }
    const set = response.headers.get("set-cookie");
    if (set === null) return { body };
    const token = /^session=([^;]*)/.exec(set)?.[1] ?? "";
    return { body, token: /Max-Age=0(;|$)/.test(set) ? "" : token };
  }

  /**
   * Takes a response's cookie; says whether the session is the same one.
   * A new session holds no visits.
   */
  keep(token: string | undefined): boolean {
    if (token === undefined || token === this.cookie) return true;
    this.cookie = token === "" ? undefined : token;
    this.visits = 0;
    return false;
  }

  async visit(): Promise<void> {
    const { body, token } = await this.send("/visit");
    this.keep(token);
    if (this.visits !== undefined && Number(body) !== this.visits + 1) {
      report(`/visit counted ${body}, expected ${this.visits + 1}`);
    }
    this.visits = Number(body);
  }

  /** A visit and a note at once: both must survive. */
  async overlap(): Promise<void> {
    if (this.cookie === undefined) return this.visit();
    const text = crypto.randomUUID();
    const [visit, note] = await Promise.all([
      this.send("/visit"),
      this.send(`/note?text=${text}`),
    ]);
    if (!this.keep(visit.token) || !this.keep(note.token)) {
      this.visits = undefined; // the session had ended: which one is kept?
      return;
    }
    this.visits = Number(visit.body);
    const read = await this.send("/read");
    if (read.token === this.cookie && read.body !== text) {
      report(`a note was lost: read ${JSON.stringify(read.body)}`);
    }
    this.keep(read.token);
  }

  /** A visit racing a sign-out: the session must stay gone. */
  async raceLogout(): Promise<void> {
    const text = crypto.randomUUID();
    this.keep((await this.send(`/note?text=${text}`)).token);
    const old = this.cookie;
    // The browser applies the cookies in the order the responses come.
    const [, logout] = await Promise.all([
      this.send("/visit").then((visit) => (this.keep(visit.token), visit)),
      this.send("/logout").then((logout) => (this.keep(logout.token), logout)),
    ]);
    if (logout.token !== "") report("/logout did not clear the cookie");
    this.visits = undefined;
    // Whatever cookie the browser kept, the old token must be dead.
    const stolen = new Client();
    stolen.cookie = old;
    if ((await stolen.send("/read")).body === text) {
      report("a signed-out session came back");
    }
  }

  async login(): Promise<void> {
    const before = this.cookie;
    const user = `u${Math.floor(Math.random() * USERS)}`;
    const { body, token } = await this.send(`/login?user=${user}`);
    if (before !== undefined && token === before) {
      report("/login kept the old token");
    }
    this.keep(token);
    this.visits = Number(body);
  }

  async logout(): Promise<void> {
    const { token } = await this.send("/logout");
    if (token !== "") report("/logout did not clear the cookie");
    this.keep(token);
    this.visits = 0;
  }

  /** The device list marks this session as the current one, once. */
  async devices(): Promise<void> {
    const { body, token } = await this.send("/devices");
    if (this.keep(token) && this.cookie !== undefined && Number(body) > 1) {
      report(`/devices marked ${body} sessions current`);
    }
  }

  async step(): Promise<void> {
    const roll = Math.random();
    if (roll < 0.55) return this.visit();
    if (roll < 0.65) {
      const { token } = await this.send(`/note?text=${requests}`);
      this.keep(token);
      return;
    }
    if (roll < 0.75) return void this.keep((await this.send("/read")).token);
    if (roll < 0.8) return void this.keep((await this.send("/pop")).token);
    if (roll < 0.86) return this.overlap();
    if (roll < 0.88) return this.raceLogout();
    if (roll < 0.91) return this.login();
    if (roll < 0.93) return this.logout();
    if (roll < 0.94) return this.devices();
    if (roll < 0.945) {
      // Signs out the user's other devices: their clients start over.
      return void this.keep((await this.send("/others")).token);
    }
    if (roll < 0.999) {
      // A new browser: the old session is left to expire.
      this.cookie = undefined;
      this.visits = 0;
      return;
    }
    // One step in a thousand: idle past the timeout, so the session ends.
    await new Promise((resolve) => setTimeout(resolve, IDLE_PAUSE));
  }
}

/** The servers' figures: the largest heap, the store's counts, all drops. */
async function stats(): Promise<Stats> {
  const all: Stats[] = await Promise.all(
    bases.map(async (base) => await (await fetch(`${base}/_stats`)).json()),
  );
  return {
    ...all[0]!,
    heap: Math.max(...all.map((s) => s.heap)),
    dropped: all.reduce((sum, s) => sum + s.dropped, 0),
  };
}

const started = performance.now();
const ends = started + DURATION;
const clients = Array.from({ length: CLIENTS }, async () => {
  const client = new Client();
  while (performance.now() < ends) {
    try {
      await client.step();
    } catch (error) {
      report(String(error));
      client.cookie = undefined;
    }
  }
});

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
console.log(
  `Soak: ${CLIENTS} clients for ${
    DURATION / 1000
  } s against Deno.serve with SessionManager (idle timeout 3 s, lifetime 30 s), ${
    {
      memory: "MemStore bounded at 2,000 sessions, sweep every second",
      redis: "RedisStore, two server processes, each request to either",
      postgres:
        "PostgresStore, two server processes, each request to either, cleanup every second",
    }[STORE]
  }`,
);
console.log(
  "| Time | Requests/s | Heap after GC | Sessions held | Listed by user | Dropped |",
);
console.log("| --: | --: | --: | --: | --: | --: |");
let first: Stats | undefined;
let last: Stats | undefined;
let counted = requests;
let windowStarted = performance.now();
const rates: number[] = [];
while (performance.now() < ends) {
  await new Promise((resolve) =>
    setTimeout(resolve, Math.min(WINDOW, ends - performance.now()))
  );
  const now = performance.now();
  const rate = (requests - counted) / ((now - windowStarted) / 1000);
  [counted, windowStarted] = [requests, now];
  last = await stats();
  if (now - started >= WARMUP) {
    first ??= last;
    rates.push(rate);
  }
  console.log(
    `| ${((now - started) / 1000).toFixed(0)} s | ${
      Math.round(rate).toLocaleString("en")
    } | ${mb(last.heap)} | ${last.held.toLocaleString("en")} | ${
      last.listed.toLocaleString("en")
    } | ${last.dropped} |`,
  );
  if ((last.stale ?? 0) > 0) {
    report(`${last.stale} rows outlived two cleanups past their expiry`);
  }
  if (last.listed > last.held) {
    report(`the index lists ${last.listed} sessions, ${last.held} are held`);
  }
}
await Promise.all(clients);
const total = (performance.now() - started) / 1000;
for (const [server] of servers) {
  server.kill();
  await server.status;
}
await redis?.stop();
await postgres?.[Symbol.asyncDispose]();

console.log(
  `Requests: ${requests.toLocaleString("en")} in ${total.toFixed(0)} s, ${
    Math.round(requests / total).toLocaleString("en")
  }/s; errors: ${errors}`,
);
if (first !== undefined && last !== undefined) {
  console.log(
    `Heap after GC: ${mb(first.heap)} after the ${WARMUP / 1000} s warm-up, ${
      mb(last.heap)
    } at the end (${
      ((last.heap / first.heap - 1) * 100).toFixed(1)
    }%); requests/s per window after warm-up: ${
      Math.round(Math.min(...rates)).toLocaleString("en")
    } to ${Math.round(Math.max(...rates)).toLocaleString("en")}`,
  );
  console.log(
    `Store: ${last.held.toLocaleString("en")} entries held (${
      mb(last.bytes)
    }); hits ${last.hits.toLocaleString("en")}, misses ${
      last.misses.toLocaleString("en")
    }, expired ${last.expired.toLocaleString("en")}, evicted ${
      last.evicted.toLocaleString("en")
    }; changes dropped because their session had ended: ${last.dropped}`,
  );
}
console.log(`${errors} errors`);
if (errors > 0) Deno.exit(1);
