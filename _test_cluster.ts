// A Redis Cluster of a test's own: six redis-server processes on free
// ports, 3 masters and 3 replicas. Test-only.

import { accepting, ensureInstalled, freePort } from "./_test_servers.ts";

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
