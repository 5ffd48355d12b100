// A PostgreSQL server of a test's own: a new cluster in a temporary
// directory, on a free port. Test-only.

import { ensureInstalled, freePort } from "./_test_servers.ts";

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
