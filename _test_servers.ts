// The processes tests start: a Deno program (an example server, a second
// app process) and a redis-server of their own, each on a free port and
// stopped when disposed; the tools to start others (_test_postgres.ts,
// _test_cluster.ts). Test-only.

export { createClient, createCluster } from "npm:redis@6.3.1";

/** A Deno process a test started; killed when disposed. */
export interface DenoProcess extends AsyncDisposable {
  readonly child: Deno.ChildProcess;
}

/**
 * Runs `deno <args>`, and resolves once it printed `ready` (a server's
 * "Listening" line) on `stream`, and, with `port`, once that port takes
 * connections (Oak says it listens before its socket is bound): a test
 * waits for a fact, not for a time. Killed with SIGKILL when disposed
 * (`deno serve` waits on SIGTERM for kept-alive connections to close).
 */
export async function startDeno(
  args: string[],
  options: {
    env?: Record<string, string>;
    ready: string;
    stream: "stdout" | "stderr";
    port?: number;
  },
): Promise<DenoProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env: options.env ?? {},
    stdout: options.stream === "stdout" ? "piped" : "null",
    stderr: options.stream === "stderr" ? "piped" : "null",
  }).spawn();
  const stream = options.stream === "stdout" ? child.stdout : child.stderr;
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (let seen = ""; !seen.includes(options.ready);) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`deno ${args.join(" ")} exited: ${seen}`);
      seen += value;
    }
    if (options.port !== undefined) await accepting(options.port);
  } catch (error) {
    child.kill("SIGKILL");
    await child.status;
    throw error;
  }
  // Keep reading what it prints, so it never blocks on a full pipe.
  (async () => {
    while (!(await reader.read()).done);
  })().catch(() => {});
  return {
    child,
    async [Symbol.asyncDispose]() {
      child.kill("SIGKILL");
      await child.status;
    },
  };
}

/** A redis-server of the test's own: a free port, nothing saved to disk. */
export interface RedisServer extends AsyncDisposable {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Stops the server (tests of faults start it again with `start()`). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
}

/** Resolves once 127.0.0.1:`port` takes a connection; throws after 10 s. */
export async function accepting(port: number): Promise<void> {
  for (let tries = 0; tries < 500; tries++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  throw new Error(`Nothing took connections on port ${port} in 10 s`);
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
}

/** Whether `command --version` runs. */
async function runs(command: string): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(command, {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

const installing = new Map<string, Promise<void>>();

/**
 * Installs a Debian package with apt-get when `command` is missing (once a
 * test run).
 */
export function ensureInstalled(command: string, pkg: string): Promise<void> {
  let done = installing.get(pkg);
  if (done === undefined) {
    done = (async () => {
      if (await runs(command)) return;
      console.error(`Installing ${pkg} with apt-get (needs root)...`);
      for (const args of [["update", "-qq"], ["install", "-y", "-qq", pkg]]) {
        const { success, stderr } = await new Deno.Command("apt-get", {
          args,
          env: { DEBIAN_FRONTEND: "noninteractive" },
          stdout: "null",
          stderr: "piped",
        }).output().catch((error) => {
          throw new Error(
            `Cannot install ${pkg}: no apt-get here; install it yourself`,
            { cause: error },
          );
        });
        if (!success) {
          throw new Error(
            `Cannot install ${pkg}: apt-get ${args.join(" ")} failed: ${
              new TextDecoder().decode(stderr)
            }`,
          );
        }
      }
    })();
    installing.set(pkg, done);
  }
  return done;
}

/**
 * Starts `redis-server` (Debian's `redis-server` package, installed when
 * missing) on a free port with persistence off, and waits until it accepts
 * connections.
 */
export async function startRedis(): Promise<RedisServer> {
  await ensureInstalled("redis-server", "redis-server");
  const port = freePort();
  let child: Deno.ChildProcess | undefined;
  const start = async () => {
    try {
      child = new Deno.Command("redis-server", {
        args: [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--save",
          "",
          "--appendonly",
          "no",
        ],
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
    } catch (error) {
      throw new Error("Cannot start redis-server", { cause: error });
    }
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    for (let seen = ""; !seen.includes("Ready to accept connections");) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`redis-server exited: ${seen}`);
      seen += value;
    }
    reader.releaseLock();
    child.stdout.pipeTo(new WritableStream()).catch(() => {});
  };
  const stop = async () => {
    if (child === undefined) return;
    child.kill("SIGKILL");
    await child.status;
    child = undefined;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
