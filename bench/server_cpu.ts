// Server CPU per request: on a shared, noisy machine, the CPU time a server
// process spends per request is steadier than its requests/s. Starts each
// server (a Deno file run with `PORT`), gets a session cookie from its /put,
// then for several rounds in alternation runs wrk (-t1 -c32) on `path` and
// reads the process's CPU time (utime + stime, /proc/<pid>/stat) before and
// after: the CPU µs per request, and requests/s, as medians over rounds.
//
//   deno task bench:cpu [--path /count] [--rounds 9] [--seconds 2]
//     -- <server.ts> [<server.ts> ...]     (paths from bench/)
//
// Example: the seed example against the limit handler, on /count:
//   deno task bench:cpu --path /count -- _limit_server.ts ../examples/server.ts

const args = [...Deno.args];
const split = args.indexOf("--");
if (split < 0 || split === args.length - 1) {
  console.error("usage: server_cpu.ts [options] -- <server.ts> ...");
  Deno.exit(2);
}
const files = args.slice(split + 1);
const options = args.slice(0, split);
const option = (name: string, fallback: string): string => {
  const at = options.indexOf(`--${name}`);
  return at < 0 ? fallback : options[at + 1]!;
};
const path = option("path", "/count");
const rounds = Number(option("rounds", "9"));
const seconds = Number(option("seconds", "2"));
const config = new URL("deno.json", import.meta.url).pathname;
/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS = 100;

function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
}

/** A process's CPU time so far, in seconds. */
async function cpuOf(pid: number): Promise<number> {
  const fields = (await Deno.readTextFile(`/proc/${pid}/stat`))
    .replace(/^.*\) /, "").split(" ");
  // utime and stime are fields 14 and 15; 3 and on, after "(comm) ".
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

async function wrk(url: string, cookie: string, duration: number) {
  const { stdout, success } = await new Deno.Command("wrk", {
    args: ["-t1", "-c32", `-d${duration}s`, "-H", `Cookie: ${cookie}`, url],
    stdout: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  if (!success) throw new Error(`wrk failed:\n${out}`);
  return {
    requests: Number(/(\d+) requests in/.exec(out)?.[1]),
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
  };
}

const servers = await Promise.all(files.map(async (file) => {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--config", config, "--allow-all", file],
    env: { PORT: String(port) },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const base = `http://127.0.0.1:${port}`;
  for (let tries = 0;; tries++) {
    try {
      await (await fetch(`${base}/`)).body?.cancel();
      break;
    } catch {
      if (tries === 200) throw new Error(`${file} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const put = await fetch(`${base}/put`);
  await put.body?.cancel();
  const cookie = put.headers.get("set-cookie")?.split(";")[0] ?? "";
  await wrk(base + path, cookie, 1); // warm-up
  return {
    file,
    child,
    base,
    cookie,
    cpu: [] as number[],
    rps: [] as number[],
  };
}));

try {
  for (let round = 0; round < rounds; round++) {
    for (const server of servers) {
      const before = await cpuOf(server.child.pid);
      const { requests, rps } = await wrk(
        server.base + path,
        server.cookie,
        seconds,
      );
      const after = await cpuOf(server.child.pid);
      server.cpu.push((after - before) * 1e6 / requests);
      server.rps.push(rps);
    }
  }
} finally {
  for (const { child } of servers) {
    child.kill("SIGKILL");
    await child.status;
  }
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[values.length >> 1]!;
console.log(
  `${path}, wrk -t1 -c32, ${rounds} rounds of ${seconds} s in alternation, medians:\n`,
);
console.log("| server | CPU µs per request | requests/s |");
console.log("| --- | ---: | ---: |");
for (const { file, cpu, rps } of servers) {
  console.log(
    `| ${file} | ${median(cpu).toFixed(1)} | ${
      Math.round(median(rps)).toLocaleString("en")
    } |`,
  );
}
