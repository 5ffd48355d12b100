// CPU profile of a Deno process through the inspector protocol (this Deno
// has no --cpu-prof): starts the process with --inspect, starts V8's
// sampling profiler, optionally loads it with wrk, then prints the
// functions with the most self time and writes a .cpuprofile that Chrome
// DevTools opens.
//
//   deno run -A cpu_profile.ts [--seconds 5] [--wrk URL] [--cookie C]
//     [--out FILE] -- <deno run arguments>
//
// Example: the seed server under wrk, /get with a live session:
//   deno run -A cpu_profile.ts --wrk http://127.0.0.1:4000/get --cookie auto \
//     -- --allow-net --allow-env ../examples/server.ts

const args = [...Deno.args];
const split = args.indexOf("--");
if (split < 0) {
  console.error("usage: cpu_profile.ts [options] -- <deno run arguments>");
  Deno.exit(2);
}
const target = args.slice(split + 1);
const options = args.slice(0, split);
const option = (name: string): string | undefined => {
  const at = options.indexOf(`--${name}`);
  return at < 0 ? undefined : options[at + 1];
};
const seconds = Number(option("seconds") ?? 5);
const wrkUrl = option("wrk");
let cookie = option("cookie");
const out = option("out") ?? "profile.cpuprofile";

const inspectPort = (() => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
})();
const child = new Deno.Command(Deno.execPath(), {
  args: ["run", `--inspect=127.0.0.1:${inspectPort}`, ...target],
  env: { PORT: wrkUrl ? new URL(wrkUrl).port : "4000" },
  stdout: "null",
  stderr: "null",
}).spawn();

async function retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
  for (let i = 0; i < 100; i++) {
    try {
      return await fn();
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`Cannot profile: ${what} did not answer`);
}

const [{ webSocketDebuggerUrl }] = await retry(
  "the inspector",
  async () =>
    await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json(),
);
const socket = new WebSocket(webSocketDebuggerUrl);
await new Promise((resolve) => socket.onopen = resolve);
let nextId = 0;
const pending = new Map<number, (result: unknown) => void>();
socket.onmessage = (event) => {
  const message = JSON.parse(event.data);
  pending.get(message.id)?.(message.result);
  pending.delete(message.id);
};
function send<R>(method: string, params: object = {}): Promise<R> {
  const id = ++nextId;
  socket.send(JSON.stringify({ id, method, params }));
  return new Promise((resolve) => pending.set(id, resolve as () => void));
}

await send("Profiler.enable");
await send("Profiler.setSamplingInterval", { interval: 100 });
if (wrkUrl !== undefined) {
  await retry("the server", async () => {
    await (await fetch(new URL("/", wrkUrl))).body?.cancel();
  });
  if (cookie === "auto") {
    const put = await fetch(new URL("/put", wrkUrl));
    await put.body?.cancel();
    cookie = put.headers.get("set-cookie")?.split(";")[0];
  }
}
await send("Profiler.start");
if (wrkUrl !== undefined) {
  const wrkArgs = ["-t1", "-c32", `-d${seconds}s`, wrkUrl];
  if (cookie) wrkArgs.push("-H", `Cookie: ${cookie}`);
  const { stdout } = await new Deno.Command("wrk", { args: wrkArgs }).output();
  const text = new TextDecoder().decode(stdout);
  console.log(text.match(/Requests\/sec:.*/)?.[0] ?? text);
} else {
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}
const { profile } = await send<{ profile: Profile }>("Profiler.stop");
socket.close();
child.kill();
await child.status;
await Deno.writeTextFile(out, JSON.stringify(profile));

interface Profile {
  nodes: {
    id: number;
    callFrame: {
      functionName: string;
      url: string;
      lineNumber: number;
    };
  }[];
  samples: number[];
  timeDeltas: number[];
}

// Self time by function.
const byNode = new Map<number, number>();
profile.samples.forEach((node, i) =>
  byNode.set(node, (byNode.get(node) ?? 0) + (profile.timeDeltas[i] ?? 0))
);
const byFunction = new Map<string, number>();
let total = 0;
for (const node of profile.nodes) {
  const time = byNode.get(node.id) ?? 0;
  total += time;
  const { functionName, url, lineNumber } = node.callFrame;
  const name = `${functionName || "(anonymous)"} ${
    url.replace(/^.*\/(?=[^/]+$)/, "")
  }:${lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + time);
}
console.log(`Self time, ${(total / 1000).toFixed(0)} ms sampled (${out}):`);
for (
  const [name, time] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 40)
) {
  console.log(`${(100 * time / total).toFixed(1).padStart(5)}%  ${name}`);
}
