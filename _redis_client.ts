// How RedisStore reaches Redis: the node-redis clients it takes (one node
// or a cluster), commands routed by key and bounded by the command timeout,
// scripts loaded where they run, and the keys of every master scanned.

import { Buffer } from "node:buffer";
import { withTimeout } from "./_timers.ts";

/** RESP's code for a bulk string (node-redis's `RESP_TYPES.BLOB_STRING`). */
const BLOB_STRING = 36;
const decoder = new TextDecoder();

/**
 * What `RedisStore` needs of a node-redis client of one node
 * (`createClient()` from npm `redis`, version 5 or 6): the package does not
 * depend on `redis` itself, so it works with the application's own copy.
 */
export interface RedisNodeClient {
  /**
   * A view of the client whose replies are mapped as `typeMapping` says
   * (36 is RESP's code for a bulk string).
   */
  withTypeMapping(typeMapping: { 36: typeof Buffer }): {
    sendCommand(
      args: ReadonlyArray<string | Buffer>,
      options?: { abortSignal?: AbortSignal },
    ): Promise<unknown>;
  };
}

/**
 * What `RedisStore` needs of a node-redis Redis Cluster client
 * (`createCluster()` from npm `redis` 5 or 6).
 */
export interface RedisClusterClient {
  /** The view whose replies are mapped as `typeMapping` says. */
  withTypeMapping(typeMapping: { 36: typeof Buffer }): {
    sendCommand(
      firstKey: string | Buffer | undefined,
      isReadonly: boolean | undefined,
      args: ReadonlyArray<string | Buffer>,
      options?: { abortSignal?: AbortSignal },
    ): Promise<unknown>;
  };
  /** The masters, as the client knows them now. */
  readonly masters: readonly object[];
  /** The client of one node, to `SCAN` it. */
  nodeClient(node: never): Promise<{
    sendCommand(args: ReadonlyArray<string | Buffer>): Promise<unknown>;
  }>;
  /** The master that serves a hash slot (what tells a cluster client). */
  getSlotMaster(slot: number): unknown;
}

/** A node-redis client of one node, or of a Redis Cluster. */
export type RedisClient = RedisNodeClient | RedisClusterClient;

/** A reply as text: bytes decoded, anything else as a string. */
export function text(reply: unknown): string {
  return reply instanceof Uint8Array ? decoder.decode(reply) : String(reply);
}

/** Sends one command for a key (routed by it on a cluster). */
type Sender = (
  key: string | undefined,
  args: (string | Buffer)[],
  abortSignal: AbortSignal | undefined,
) => Promise<unknown>;

/**
 * A RedisStore's connection, over a client of one node or of a cluster:
 * values read as bytes, each command within `timeout` ms, and writes
 * confirmed by `waitReplicas` replicas when asked.
 */
export class RedisConnection {
  #sender: Sender;
  /** The cluster client, when it is one. */
  #cluster: RedisClusterClient | undefined;
  #timeout: number;
  #waitReplicas: number;
  /** The SHA1 of each script loaded, by script. */
  #shas = new Map<string, string>();

  constructor(client: RedisClient, timeout: number, waitReplicas: number) {
    if (
      typeof client !== "object" || client === null ||
      typeof client.withTypeMapping !== "function"
    ) {
      throw new TypeError(
        "Cannot create RedisStore: client must be a node-redis client (createClient() from npm redis)",
      );
    }
    if (
      typeof (client as Partial<RedisClusterClient>).getSlotMaster ===
        "function"
    ) {
      const cluster = client as RedisClusterClient;
      const view = cluster.withTypeMapping({ [BLOB_STRING]: Buffer });
      this.#cluster = cluster;
      this.#sender = (key, args, abortSignal) =>
        view.sendCommand(key, false, args, abortSignal ? { abortSignal } : {});
    } else {
      const view = (client as RedisNodeClient).withTypeMapping({
        [BLOB_STRING]: Buffer,
      });
      this.#sender = (_key, args, abortSignal) =>
        view.sendCommand(args, abortSignal ? { abortSignal } : {});
    }
    this.#timeout = timeout;
    this.#waitReplicas = waitReplicas;
  }

  /** Whether the client is a cluster's: keys of one write in other slots. */
  get cluster(): boolean {
    return this.#cluster !== undefined;
  }

  /** Sends a command for `key` (on its master, on a cluster). */
  send(key: string | undefined, args: (string | Buffer)[]): Promise<unknown> {
    return withTimeout(
      this.#timeout,
      "Redis",
      (abortSignal) => this.#sender(key, args, abortSignal),
    );
  }

  /**
   * With `waitReplicas`, waits until that many replicas of `key`'s master
   * have its last write.
   */
  async replicated(key: string): Promise<void> {
    const wanted = this.#waitReplicas;
    if (wanted === 0) return;
    // WAIT gives up at half the command's own timeout, so its answer (how
    // many replicas have the write) comes back before that timeout.
    const within = Math.max(1, Math.floor(this.#timeout / 2));
    const acked = Number(
      await this.send(key, ["WAIT", `${wanted}`, `${within}`]),
    );
    if (acked < wanted) {
      throw new Error(
        `Cannot confirm the session write: ${acked} of ${wanted} replicas had it after ${within} ms (it is on the master, and may be lost if the master fails)`,
      );
    }
  }

  /** The values of `keys`: one MGET on one node, a GET a key on a cluster. */
  async values(keys: string[]): Promise<unknown[]> {
    if (this.#cluster === undefined) {
      return await this.send(undefined, ["MGET", ...keys]) as unknown[];
    }
    return await Promise.all(keys.map((key) => this.send(key, ["GET", key])));
  }

  /** Runs a script by its hash on the node of `keys[0]`, loading it there when missing. */
  async script(
    script: string,
    keys: string[],
    args: (string | Buffer)[],
  ): Promise<unknown> {
    const tail = [`${keys.length}`, ...keys, ...args];
    const key = keys[0];
    const sha = this.#shas.get(script);
    if (sha !== undefined) {
      try {
        return await this.send(key, ["EVALSHA", sha, ...tail]);
      } catch (error) {
        if (!String((error as Error)?.message).startsWith("NOSCRIPT")) {
          throw error;
        }
      }
    }
    // Loaded on the node that serves the key (on a cluster, each master
    // loads it the first time it is asked).
    const loaded = text(await this.send(key, ["SCRIPT", "LOAD", script]));
    this.#shas.set(script, loaded);
    return await this.send(key, ["EVALSHA", loaded, ...tail]);
  }

  /** The keys `match` matches, in batches, from every master on a cluster. */
  async *scan(match: string): AsyncGenerator<string[]> {
    const cluster = this.#cluster;
    const scanners = cluster === undefined
      ? [(args: string[]) => this.send(undefined, args)]
      : await Promise.all(
        cluster.masters.map(async (master) => {
          const node = await cluster.nodeClient(master as never);
          return (args: string[]) =>
            withTimeout(this.#timeout, "Redis", () => node.sendCommand(args));
        }),
      );
    for (const scan of scanners) {
      let cursor = "0";
      do {
        const [next, keys] = await scan([
          "SCAN",
          cursor,
          "MATCH",
          match,
          "COUNT",
          "500",
        ]) as [unknown, unknown[]];
        cursor = text(next);
        yield keys.map(text);
      } while (cursor !== "0");
    }
  }
}
