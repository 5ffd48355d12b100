// HTTP benchmark: examples/server.ts (/get and /put with a live session)
// against a bare Deno.serve answering the same body, with wrk -t1 -c32 on
// loopback, in alternation, three rounds each; then Express 5 +
// express-session the same way, when npm can install them. Prints
// requests/s (medians) and the ratios to the bare server.
//
//   deno task bench:http [--duration 5] [--rounds 3]
//
// Installs wrk with apt-get when it is missing (needs root).

const args = Deno.args;
const option = (name: string, fallback: number) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const duration = option("duration", 5);
const rounds = option("rounds", 3);
const here = new URL(".", import.meta.url).pathname;
const root = new URL("..", import.meta.url).pathname;

async function run(
  cmd: string,
  cmdArgs: string[],
  cwd?: string,
): Promise<string> {
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
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** Starts a server process and waits until it answers. */
async function start(
  cmd: string,
  cmdArgs: string[],
  env: Record<string, string>,
  port: number,
) {
  const child = new Deno.Command(cmd, {
    args: cmdArgs,
    env,
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (let i = 0; i < 200; i++) {
    try {
      await (await fetch(`http://127.0.0.1:${port}/get`)).body?.cancel();
      return child;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  child.kill();
  throw new Error(`${cmd} ${cmdArgs.join(" ")} did not start on port ${port}`);
}

async function stop(child: Deno.ChildProcess) {
  child.kill();
  await child.status;
}

/** Requests per second from one wrk run. */
async function wrk(url: string, cookie?: string): Promise<number> {
  const wrkArgs = ["-t1", "-c32", `-d${duration}s`, "--latency", url];
  if (cookie) wrkArgs.push("-H", `Cookie: ${cookie}`);
  const out = await run("wrk", wrkArgs);
  const match = out.match(/Requests\/sec:\s+([\d.]+)/);
  const errors = out.match(/Non-2xx or 3xx responses: (\d+)|Socket errors: .*/);
  if (errors) throw new Error(`wrk saw errors for ${url}:\n${out}`);
  if (!match) throw new Error(`Cannot read wrk's output:\n${out}`);
  return Number(match[1]);
}

async function sessionCookie(base: string): Promise<string> {
  const response = await fetch(`${base}/put`);
  await response.body?.cancel();
  const set = response.headers.get("set-cookie");
  if (set === null) throw new Error(`${base}/put set no cookie`);
  const cookie = set.split(";")[0]!;
  const check = await fetch(`${base}/get`, { headers: { cookie } });
  const body = await check.text();
  if (body !== "Hello from a session!") {
    throw new Error(`${base}/get answered ${JSON.stringify(body)}`);
  }
  return cookie;
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[values.length >> 1]!;

interface Row {
  server: string;
  get: number[];
  put: number[];
  bare: number[];
}

/** Rounds of /get, /put and bare, in alternation. */
async function measure(
  server: string,
  port: number,
  barePort: number,
): Promise<Row> {
  const base = `http://127.0.0.1:${port}`;
  const bareBase = `http://127.0.0.1:${barePort}`;
  const cookie = await sessionCookie(base);
  const row: Row = { server, get: [], put: [], bare: [] };
  for (let r = 0; r < rounds; r++) {
    row.get.push(await wrk(`${base}/get`, cookie));
    row.put.push(await wrk(`${base}/put`, cookie));
    row.bare.push(await wrk(`${bareBase}/get`));
  }
  return row;
}

const rows: Row[] = [];
{
  const port = freePort();
  const barePort = freePort();
  const deno = Deno.execPath();
  const ours = await start(
    deno,
    ["run", "--allow-net", "--allow-env", `${root}examples/server.ts`],
    { PORT: String(port) },
    port,
  );
  const bare = await start(
    deno,
    ["run", "--allow-net", "--allow-env", `${here}_bare_server.ts`],
    { PORT: String(barePort) },
    barePort,
  );
  try {
    rows.push(
      await measure("Deno.serve + SessionManager + MemStore", port, barePort),
    );
  } finally {
    await stop(ours);
    await stop(bare);
  }
}

// Express 5 + express-session, installed into a scratch folder.
try {
  const dir = await Deno.makeTempDir({ prefix: "express-bench-" });
  await run("npm", [
    "install",
    "--silent",
    "--no-audit",
    "--no-fund",
    "express@5",
    "express-session@1",
  ], dir);
  await Deno.copyFile(`${here}_express_server.cjs`, `${dir}/server.cjs`);
  const port = freePort();
  const barePort = freePort();
  const node = await start("node", [`${dir}/server.cjs`], {
    PORT: String(port),
    BARE_PORT: String(barePort),
  }, port);
  try {
    rows.push(
      await measure("Node + Express 5 + express-session", port, barePort),
    );
  } finally {
    await stop(node);
    await Deno.remove(dir, { recursive: true });
  }
} catch (error) {
  console.error(`Express was not measured: ${(error as Error).message}`);
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const ratio = (n: number, base: number) => (n / base).toFixed(2) + "x";
console.log(
  `wrk -t1 -c32 -d${duration}s on loopback, ${rounds} rounds in alternation, medians; Deno ${Deno.version.deno}\n`,
);
console.log(
  "| server | /get req/s | /put req/s | bare handler req/s | /get / bare | /put / bare |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
for (const row of rows) {
  const [get, put, bare] = [median(row.get), median(row.put), median(row.bare)];
  console.log(
    `| ${row.server} | ${fmt(get)} | ${fmt(put)} | ${fmt(bare)} | ${
      ratio(get, bare)
    } | ${ratio(put, bare)} |`,
  );
}
console.log("\nEvery round (req/s):");
for (const row of rows) {
  console.log(
    `- ${row.server}: /get ${row.get.map(fmt).join(", ")}; /put ${
      row.put.map(fmt).join(", ")
    }; bare ${row.bare.map(fmt).join(", ")}`,
  );
}
