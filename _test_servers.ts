// The processes tests start: a Deno program (an example server, a second
// app process), a redis-server and a PostgreSQL server of their own, each
// on a free port and stopped when disposed. Test-only.

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
async function accepting(port: number): Promise<void> {
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
function ensureInstalled(command: string, pkg: string): Promise<void> {
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

/** PostgreSQL 15's programs, as Debian's `postgresql` package installs them. */
const PG_BIN = "/usr/lib/postgresql/15/bin";

/** A PostgreSQL server of the test's own: a new cluster in a temporary directory. */
export interface PostgresServer extends AsyncDisposable {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string;
  port: number;
  /** Stops the server (tests of faults start it again with `start()`). */
  stop(): Promise<void>;
  /** Starts it again on the same port, with the same data. */
  start(): Promise<void>;
}

/** Whether this process runs as root (`id -u`, which needs no --allow-sys). */
async function isRoot(): Promise<boolean> {
  const { stdout } = await new Deno.Command("id", { args: ["-u"] }).output();
  return new TextDecoder().decode(stdout).trim() === "0";
}

/** Runs a PostgreSQL program, as the `postgres` user when this is root. */
async function pg(program: string, args: string[]): Promise<void> {
  const asRoot = await isRoot();
  const { success, stdout, stderr } = await new Deno.Command(
    asRoot ? "runuser" : `${PG_BIN}/${program}`,
    {
      args: asRoot
        ? ["-u", "postgres", "--", `${PG_BIN}/${program}`, ...args]
        : args,
      stdout: "piped",
      stderr: "piped",
    },
  ).output();
  if (!success) {
    const text = new TextDecoder();
    throw new Error(
      `${program} ${args.join(" ")} failed: ${text.decode(stdout)}${
        text.decode(stderr)
      }`,
    );
  }
}

/**
 * Starts PostgreSQL 15 (Debian's `postgresql` package, installed when
 * missing) on a free port: a new cluster in a temporary directory, owned
 * by the `postgres` user when this is root (PostgreSQL refuses to run as
 * root), trusting local connections, with fsync off. Stopped and removed
 * when disposed.
 */
export async function startPostgres(): Promise<PostgresServer> {
  await ensureInstalled(`${PG_BIN}/postgres`, "postgresql");
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "session-pg-" });
  if (await isRoot()) {
    const { uid, gid } = await userIds("postgres");
    await Deno.chown(dir, uid, gid);
  }
  const data = `${dir}/data`;
  await pg("initdb", [
    "-D",
    data,
    "-U",
    "postgres",
    "-A",
    "trust",
    "--no-sync",
    "-E",
    "UTF8",
    "--locale",
    "C",
  ]);
  const options = [
    `-p ${port}`,
    "-c listen_addresses=127.0.0.1",
    `-c unix_socket_directories=${dir}`,
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
    "-c max_connections=200",
  ].join(" ");
  let running = false;
  const start = async () => {
    await pg("pg_ctl", [
      "-D",
      data,
      "-o",
      options,
      "-l",
      `${dir}/log`,
      "-w",
      "start",
    ]);
    running = true;
  };
  const stop = async () => {
    if (!running) return;
    running = false;
    await pg("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A user's uid and gid, from /etc/passwd. */
async function userIds(name: string): Promise<{ uid: number; gid: number }> {
  const line = (await Deno.readTextFile("/etc/passwd")).split("\n")
    .find((entry) => entry.startsWith(`${name}:`));
  if (line === undefined) throw new Error(`No user ${name} in /etc/passwd`);
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

/** A Redis Cluster of the test's own: 3 masters and 3 replicas. */
export interface RedisCluster extends AsyncDisposable {
  /** The nodes' ports, masters first as created. */
  ports: number[];
  /** `redis://127.0.0.1:<port>` of the nodes, to give as root nodes. */
  urls: string[];
  /** Kills (SIGKILL) the node on `port`. */
  kill(port: number): Promise<void>;
  /** The port of the master that serves `key` now. */
  masterOf(key: string): Promise<number>;
  /** The ports of the masters now. */
  masters(): Promise<number[]>;
  /**
   * Resolves once every slot is served and every replica is in sync with
   * its master (after a failover too).
   */
  healthy(): Promise<void>;
}

/** Runs redis-cli with `args`; its output. */
async function redisCli(args: string[]): Promise<string> {
  const { success, stdout, stderr } = await new Deno.Command("redis-cli", {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  if (!success) {
    throw new Error(`redis-cli ${args.join(" ")}: ${text.decode(stderr)}`);
  }
  return text.decode(stdout);
}

/**
 * Starts six `redis-server --cluster-enabled yes` on free ports (no
 * persistence, a node timeout of 1 s so that a replica takes over quickly)
 * and joins them with `redis-cli --cluster create ... --cluster-replicas 1`.
 */
export async function startRedisCluster(): Promise<RedisCluster> {
  await ensureInstalled("redis-server", "redis-server");
  const dir = await Deno.makeTempDir({ prefix: "session-cluster-" });
  const ports = Array.from({ length: 6 }, () => freePort());
  const children = new Map<number, Deno.ChildProcess>();
  for (const port of ports) {
    const child = new Deno.Command("redis-server", {
      args: [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        `${dir}/nodes-${port}.conf`,
        "--cluster-node-timeout",
        "1000",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir,
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    children.set(port, child);
  }
  const stop = async () => {
    for (const child of children.values()) {
      try {
        child.kill("SIGKILL");
      } catch {
        // gone already
      }
      await child.status;
    }
    children.clear();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    for (const port of ports) await accepting(port);
    await redisCli([
      "--cluster",
      "create",
      ...ports.map((port) => `127.0.0.1:${port}`),
      "--cluster-replicas",
      "1",
      "--cluster-yes",
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  const live = () => ports.filter((port) => children.has(port));
  const healthy = async () => {
    for (let tries = 0; tries < 300; tries++) {
      const states = await Promise.all(
        live().map((port) =>
          redisCli(["-p", String(port), "cluster", "info"]).catch(() => "")
        ),
      );
      const links = await Promise.all(
        live().map((port) =>
          redisCli(["-p", String(port), "info", "replication"]).catch(() => "")
        ),
      );
      if (
        states.every((info) => /cluster_state:ok/.test(info)) &&
        links.every((info) =>
          /role:master/.test(info) || /master_link_status:up/.test(info)
        )
      ) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error("The Redis Cluster did not become healthy in 15 s");
  };
  await healthy();
  return {
    ports,
    urls: ports.map((port) => `redis://127.0.0.1:${port}`),
    async kill(port) {
      const child = children.get(port);
      if (child === undefined) return;
      children.delete(port);
      child.kill("SIGKILL");
      await child.status;
    },
    async masterOf(key) {
      const port = String(live()[0]);
      const slot = Number(
        (await redisCli(["-p", port, "cluster", "keyslot", key])).trim(),
      );
      const nodes = await redisCli(["-p", port, "cluster", "nodes"]);
      for (const line of nodes.trim().split("\n")) {
        const [, address, flags, , , , , , ...ranges] = line.split(" ");
        if (!flags!.includes("master") || flags!.includes("fail")) continue;
        for (const range of ranges) {
          const [from, to = from] = range.split("-").map(Number);
          if (slot >= from! && slot <= to!) {
            return Number(address!.split(":")[1]!.split("@")[0]);
          }
        }
      }
      throw new Error(`No master serves slot ${slot}`);
    },
    async masters() {
      const roles = await Promise.all(
        live().map(async (port) =>
          [port, await redisCli(["-p", String(port), "role"])] as const
        ),
      );
      return roles.filter(([, role]) => role.startsWith("master"))
        .map(([port]) => port);
    },
    healthy,
    [Symbol.asyncDispose]: stop,
  };
}
