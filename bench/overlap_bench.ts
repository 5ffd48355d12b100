// Overlapping requests of one session: 500 requests that each put their
// own key, all at once, against the same 500 requests one after another,
// on each kind of store. Every request must answer 200 and every key must
// be kept; the figure is the time of the overlapping run over the time of
// the sequential one (target: at most 2x).
//
//   deno task bench:overlap            500 requests on every store
//   deno task bench:overlap --quick    100 requests; fails only on a failed
//                                      request or a lost key, not on time
//
// Stores: a plain store (MemStore's find/commit/delete behind a 0-3 ms
// wait, as a remote store without versions), RedisStore and KvStore
// (a local file). The versioned stores also run with two processes: this
// one and a second Deno process, each sending half the requests with its
// own manager and connection, started together.

import { createClient } from "redis";
import { startRedis, TestStore } from "../_test_helpers.ts";
import { KvStore, openSharedKv } from "../kv.ts";
import { SessionManager } from "../manager.ts";
import { RedisStore } from "../redis.ts";
import type { Store } from "../store.ts";

type Kind = "plain" | "redis" | "kv";
type Values = Record<string, number>;

const QUICK = Deno.args.includes("--quick");
const REQUESTS = QUICK ? 100 : 500;

/** A store of `kind` at `where` (a Redis URL or a KV path), and its closing. */
async function openStore(
  kind: Kind,
  where: string,
): Promise<{ store: Store; close(): Promise<void> }> {
  if (kind === "plain") {
    const store = new TestStore({ capabilities: "plain", pause: "0-3 ms" });
    return { store, close: () => Promise.resolve(store[Symbol.dispose]()) };
  }
  if (kind === "redis") {
    const client = await createClient({ url: where }).connect();
    return { store: new RedisStore(client), close: () => client.close() };
  }
  const kv = await openSharedKv(where);
  return { store: new KvStore(kv), close: () => Promise.resolve(kv.close()) };
}

/** A handler that puts the key `?k=` names. */
function handlerOf(sessions: SessionManager<Values>) {
  return sessions.loadAndSave((request, session) => {
    session.put(new URL(request.url).searchParams.get("k")!, 1);
    return new Response("ok");
  });
}

/** Sends requests `from` to `to` (keys k<i>) with `cookie`; their statuses. */
async function send(
  handler: (request: Request) => Promise<Response>,
  cookie: string,
  from: number,
  to: number,
  overlapping: boolean,
): Promise<number[]> {
  const one = async (i: number) => {
    const response = await handler(
      new Request(`http://localhost/?k=k${i}`, { headers: { cookie } }),
    );
    await response.body?.cancel();
    return response.status;
  };
  if (overlapping) {
    return await Promise.all(
      Array.from({ length: to - from }, (_, i) => one(from + i)),
    );
  }
  const statuses = [];
  for (let i = from; i < to; i++) statuses.push(await one(i));
  return statuses;
}

// The second process: `--second kind where cookie from to startAt`.
const second = Deno.args.indexOf("--second");
if (second !== -1) {
  const [kind, where, cookie, from, to, startAt] = Deno.args.slice(second + 1);
  const { store, close } = await openStore(kind as Kind, where!);
  const sessions = new SessionManager<Values>({ store, onDropped: () => {} });
  await new Promise((resolve) =>
    setTimeout(resolve, Math.max(0, Number(startAt) - Date.now()))
  );
  const statuses = await send(
    handlerOf(sessions),
    cookie!,
    Number(from),
    Number(to),
    true,
  );
  console.log(JSON.stringify(statuses));
  sessions[Symbol.dispose]();
  await close();
  Deno.exit(0);
}

interface Run {
  ms: number;
  failed: number;
  kept: number;
}

/** One run: a new session, then the requests, overlapping or in turn. */
async function run(
  kind: Kind,
  where: string,
  processes: 1 | 2,
  overlapping: boolean,
): Promise<Run> {
  const { store, close } = await openStore(kind, where);
  const sessions = new SessionManager<Values>({ store, onDropped: () => {} });
  const handler = handlerOf(sessions);
  const first = await handler(new Request("http://localhost/?k=start"));
  const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
  const half = processes === 2 ? REQUESTS / 2 : REQUESTS;
  let other: Promise<number[]> = Promise.resolve([]);
  const startAt = Date.now() + (processes === 2 ? 1_500 : 0);
  if (processes === 2) {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--unstable-kv",
        import.meta.filename!,
        "--second",
        kind,
        where,
        cookie,
        String(half),
        String(REQUESTS),
        String(startAt),
      ],
      stdout: "piped",
    }).output();
    other = child.then((output) =>
      JSON.parse(new TextDecoder().decode(output.stdout))
    );
  }
  await new Promise((resolve) =>
    setTimeout(resolve, Math.max(0, startAt - Date.now()))
  );
  const started = performance.now();
  const [mine, theirs] = await Promise.all([
    send(handler, cookie, 0, half, overlapping),
    other,
  ]);
  const ms = performance.now() - started;
  const statuses = [...mine, ...theirs];
  const token = decodeURIComponent(cookie.slice(cookie.indexOf("=") + 1));
  const kept = (await sessions.load(token)).keys().length - 1;
  sessions[Symbol.dispose]();
  await close();
  return { ms, failed: statuses.filter((s) => s !== 200).length, kept };
}

const redis = await startRedis();
const kvDir = await Deno.makeTempDir();
const rows: string[] = [];
let ok = true;
try {
  const cases: [Kind, string, 1 | 2][] = [
    ["plain", "", 1],
    ["redis", redis.url, 1],
    ["redis", redis.url, 2],
    ["kv", `${kvDir}/a.sqlite`, 1],
    ["kv", `${kvDir}/b.sqlite`, 2],
  ];
  for (const [kind, where, processes] of cases) {
    const sequential = await run(kind, where, 1, false);
    const overlapping = await run(kind, where, processes, true);
    const ratio = overlapping.ms / sequential.ms;
    const kept = overlapping.failed === 0 && overlapping.kept === REQUESTS &&
      sequential.kept === REQUESTS;
    const good = kept && ratio <= 2;
    // A quick run (CI, on a shared machine) fails on a lost request or key
    // only; its ratio is reported.
    ok &&= QUICK ? kept : good;
    rows.push(
      `| ${kind} | ${processes} | ${sequential.ms.toFixed(0)} | ${
        overlapping.ms.toFixed(0)
      } | ${
        ratio.toFixed(2)
      }x | ${overlapping.failed} | ${overlapping.kept}/${REQUESTS} | ${
        good ? "yes" : "NO"
      } |`,
    );
  }
} finally {
  await redis[Symbol.asyncDispose]();
  await Deno.remove(kvDir, { recursive: true });
}
console.log(
  `${REQUESTS} requests of one session, each putting its own key\n`,
);
console.log(
  "| store | processes | one after another (ms) | overlapping (ms) | ratio | failed | keys kept | met |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
for (const row of rows) console.log(row);
if (!ok) {
  console.error(
    "\nA run failed a request, lost a key, or took over 2x the sequential time",
  );
  Deno.exit(1);
}
