// Where a server's JavaScript thread spends its time per request, from V8's
// tick profiler (`--prof`), which, unlike the inspector's sampling profiler
// (cpu_profile.ts), does not count Deno's HTTP work as idle. Each server is
// started in turn with `--prof`, loaded with wrk (the session cookie of a
// first /put sent with every request), and stopped; its log is read back:
// every tick is given to the JavaScript function or V8 builtin it landed in
// (code events of the log), or to "[native: <V8 state>]" for code outside
// them (C++ and Rust). Printed per 1,000 requests, so that servers of
// different speeds compare; with two or more servers, side by side, the
// rows that differ most first.
//
//   deno run -A tick_profile.ts [--path /put] [--seconds 5] [--rows 30]
//     -- <server.ts> [<server.ts> ...]
//
// Example: the limit handler against the seed example, on /put:
//   deno run -A tick_profile.ts -- _limit_server.ts ../examples/server.ts

const args = [...Deno.args];
const split = args.indexOf("--");
if (split < 0 || split === args.length - 1) {
  console.error("usage: tick_profile.ts [options] -- <server.ts> ...");
  Deno.exit(2);
}
const servers = args.slice(split + 1);
const options = args.slice(0, split);
const option = (name: string): string | undefined => {
  const at = options.indexOf(`--${name}`);
  return at < 0 ? undefined : options[at + 1];
};
const path = option("path") ?? "/put";
const seconds = Number(option("seconds") ?? 5);
const rows = Number(option("rows") ?? 30);
const config = new URL("deno.json", import.meta.url).pathname;

/** V8's VM states, as the log numbers them. */
const STATES = [
  "JS",
  "GC",
  "parser",
  "bytecode compiler",
  "compiler",
  "other",
  "external",
  "atomics wait",
  "idle",
  "logging",
];

function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
}

/** Code objects of a log, sorted by address, for finding a tick's. */
class CodeMap {
  #starts: number[] = [];
  #entries = new Map<number, { size: number; name: string }>();
  #sorted = true;

  add(start: number, size: number, name: string): void {
    if (!this.#entries.has(start)) this.#starts.push(start);
    this.#entries.set(start, { size, name });
    this.#sorted = false;
  }

  move(from: number, to: number): void {
    const entry = this.#entries.get(from);
    if (entry === undefined) return;
    this.#entries.delete(from);
    this.#starts = this.#starts.filter((start) => start !== from);
    this.add(to, entry.size, entry.name);
  }

  find(address: number): string | undefined {
    if (!this.#sorted) {
      this.#starts.sort((a, b) => a - b);
      this.#sorted = true;
    }
    let low = 0;
    let high = this.#starts.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (this.#starts[middle]! <= address) low = middle + 1;
      else high = middle - 1;
    }
    const start = this.#starts[high];
    if (start === undefined) return undefined;
    const entry = this.#entries.get(start)!;
    return address < start + entry.size ? entry.name : undefined;
  }
}

/** Ticks of one server: by function or builtin, and by V8 state. */
interface Profile {
  server: string;
  requests: number;
  byFunction: Map<string, number>;
  byState: Map<string, number>;
}

/** Ticks by function, and by V8 state, in a `--prof` log. */
function readLog(text: string): Pick<Profile, "byFunction" | "byState"> {
  const code = new CodeMap();
  const byFunction = new Map<string, number>();
  const byState = new Map<string, number>();
  const count = (map: Map<string, number>, key: string) =>
    map.set(key, (map.get(key) ?? 0) + 1);
  for (const line of text.split("\n")) {
    const fields = line.split(",");
    if (fields[0] === "code-creation") {
      // code-creation,<type>,<kind>,<timestamp>,<address>,<size>,<name>,...
      const name = (fields.slice(6, -2).join(",") || fields[6]!)
        .replace(/^ /, "(anonymous) ")
        .replace(/ (file|ext):\/\/\S*\/(?=[^/\s]+$)/, " ");
      code.add(parseInt(fields[4]!, 16), Number(fields[5]), name);
    } else if (fields[0] === "code-move") {
      code.move(parseInt(fields[1]!, 16), parseInt(fields[2]!, 16));
    } else if (fields[0] === "tick") {
      // tick,<pc>,<timestamp>,<external callback>,<tos>,<vm state>,...
      const state = STATES[Number(fields[5])] ?? `state ${fields[5]}`;
      count(byState, state);
      count(
        byFunction,
        code.find(parseInt(fields[1]!, 16)) ?? `[native: ${state}]`,
      );
    }
  }
  return { byFunction, byState };
}

/** Starts `server`, loads it with wrk, and reads its tick log. */
async function profile(server: string): Promise<Profile> {
  const port = freePort();
  const log = await Deno.makeTempFile({ suffix: ".log" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--config",
      config,
      `--v8-flags=--prof,--prof_sampling_interval=50,--logfile=${log},--no-logfile-per-isolate`,
      server,
    ],
    env: { PORT: String(port) },
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const base = `http://127.0.0.1:${port}`;
    let cookie: string | undefined;
    for (let tries = 0; cookie === undefined; tries++) {
      try {
        const response = await fetch(`${base}/put`);
        await response.body?.cancel();
        cookie = response.headers.get("set-cookie")?.split(";")[0] ?? "";
      } catch (error) {
        if (tries === 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const wrkArgs = ["-t1", "-c32", `-d${seconds}s`, `${base}${path}`];
    if (cookie) wrkArgs.push("-H", `Cookie: ${cookie}`);
    const { stdout } = await new Deno.Command("wrk", { args: wrkArgs })
      .output();
    const out = new TextDecoder().decode(stdout);
    const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
    if (!(requests > 0)) throw new Error(`Cannot read wrk's output:\n${out}`);
    child.kill("SIGINT"); // the log is written out on exit
    await child.status;
    const ticks = readLog(await Deno.readTextFile(log));
    return { server, requests, ...ticks };
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await child.status;
    await Deno.remove(log).catch(() => {});
  }
}

const results: Profile[] = [];
for (const server of servers) results.push(await profile(server));

const perThousand = (ticks: number, requests: number) =>
  (1000 * ticks / requests).toFixed(1);
const table = (
  title: string,
  pick: (result: Profile) => Map<string, number>,
  limit: number,
) => {
  const names = new Set(results.flatMap((result) => [...pick(result).keys()]));
  const perRequest = (name: string) =>
    results.map((result) => (pick(result).get(name) ?? 0) / result.requests);
  // The rows that differ most between the servers (or, for one, the largest).
  const spread = (name: string) => {
    const values = perRequest(name);
    return results.length === 1
      ? values[0]!
      : Math.max(...values) - Math.min(...values);
  };
  const sorted = [...names].sort((a, b) => spread(b) - spread(a));
  console.log(
    `\n| ${title} | ${
      results.map((result) => result.server).join(" | ")
    } |\n| --- |${" ---: |".repeat(results.length)}`,
  );
  for (const name of sorted.slice(0, limit)) {
    const cells = results.map((result) =>
      perThousand(pick(result).get(name) ?? 0, result.requests)
    );
    console.log(`| ${name.replaceAll("|", "\\|")} | ${cells.join(" | ")} |`);
  }
};

console.log(
  `Ticks per 1,000 requests (V8 --prof, one every 50 µs of a busy thread), ${path}, wrk -t1 -c32 -d${seconds}s:`,
);
for (const result of results) {
  console.log(`- ${result.server}: ${result.requests} requests`);
}
table("V8 state", (result) => result.byState, STATES.length);
table("function or builtin", (result) => result.byFunction, rows);
