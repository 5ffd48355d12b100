// How a KvStore lays out one session in KV: a head under
// `[...prefix, token]` with the expiry, the "ended" flag and (when they fit)
// the bytes; larger sessions in chunks under `[...prefix, token, i]`, all
// written by one atomic operation and tagged with the write's id.

/** The largest session a KvStore holds, in bytes: 256 KiB. */
export const KV_MAX_SESSION_BYTES = 256 * 1024;
/** Bytes a chunk holds: under KV's 64 KiB a value, with room to spare. */
export const CHUNK = 63 * 1024;
/** The most chunks a session takes. */
export const MAX_CHUNKS = Math.ceil(KV_MAX_SESSION_BYTES / CHUNK);

/**
 * The head of an entry. `id` is new with every write, and every chunk of
 * that write carries it, so a reader can tell a whole entry from pieces of
 * two writes.
 */
export interface Head {
  expiry: number;
  ended: boolean;
  id: string;
  /** The bytes, when they fit in the head. */
  data?: Uint8Array;
  /** Otherwise, how many chunks hold them. */
  chunks: number;
  /** The user the session is listed under (never for a marker). */
  user?: string;
}
export interface Chunk {
  id: string;
  data: Uint8Array;
}

/**
 * The latest time a key of this store expires in KV (ms since the epoch,
 * in the year 262143): KV refuses an expiry past 8,210,266,876,800,000,
 * checked on its own clock, so this stays a day short of it. A later expiry
 * is kept in the head, and KV removes the keys at this time.
 */
const KV_LAST_EXPIRY = 8_210_266_876_800_000 - 86_400_000;

/** Whether a value read from KV is a head a KvStore wrote. */
export function isHead(value: unknown): value is Head {
  if (typeof value !== "object" || value === null) return false;
  const head = value as Partial<Head>;
  return typeof head.expiry === "number" && typeof head.ended === "boolean" &&
    typeof head.id === "string" &&
    (head.user === undefined || typeof head.user === "string") &&
    (head.data instanceof Uint8Array ||
      (head.data === undefined && Number.isInteger(head.chunks) &&
        head.chunks! > 0 && head.chunks! <= MAX_CHUNKS));
}

/** The keys of one session: its head's, and its chunks'. */
export type KeyOf = (chunk?: number) => Deno.KvKey;

/** Adds to `atomic` the mutations that store an entry, or remove it. */
export function putEntry(
  atomic: Deno.AtomicOperation,
  key: KeyOf,
  data: Uint8Array,
  expiry: number,
  ended: boolean,
  user?: string,
): void {
  const now = Date.now();
  if (expiry <= now) return removeEntry(atomic, key);
  const expireIn = expireInOf(expiry, now);
  const id = crypto.randomUUID();
  const chunks = data.length <= CHUNK ? 0 : Math.ceil(data.length / CHUNK);
  const head: Head = chunks === 0
    ? { expiry, ended, id, data: data.slice(), chunks }
    : { expiry, ended, id, chunks };
  if (!ended && user !== undefined) head.user = user;
  atomic.set(key(), head, { expireIn });
  for (let i = 0; i < MAX_CHUNKS; i++) {
    if (i < chunks) {
      const chunk: Chunk = { id, data: data.slice(i * CHUNK, (i + 1) * CHUNK) };
      atomic.set(key(i), chunk, { expireIn });
    } else {
      atomic.delete(key(i));
    }
  }
}

/** Adds to `atomic` the mutations that remove an entry: head and chunks. */
/**
 * The `expireIn` of a key that expires at `expiry`: capped a day short of
 * the last expiry KV accepts, which it checks on its own clock.
 */
export function expireInOf(expiry: number, now: number): number {
  return Math.min(expiry, KV_LAST_EXPIRY) - now;
}

export function removeEntry(atomic: Deno.AtomicOperation, key: KeyOf): void {
  atomic.delete(key());
  for (let i = 0; i < MAX_CHUNKS; i++) atomic.delete(key(i));
}

/**
 * The bytes of the chunks of one write of `head`; `undefined` when a chunk
 * is missing or from another write (one landed between two reads).
 */
export function joinChunks(
  head: Head,
  chunks: Deno.KvEntryMaybe<Chunk>[],
): Uint8Array | undefined {
  const whole = chunks.every(({ value }) =>
    typeof value === "object" && value !== null && value.id === head.id &&
    value.data instanceof Uint8Array
  );
  if (!whole) return undefined;
  const data = new Uint8Array(
    chunks.reduce((n, c) => n + c.value!.data.length, 0),
  );
  let at = 0;
  for (const chunk of chunks) {
    data.set(chunk.value!.data, at);
    at += chunk.value!.data.length;
  }
  return data;
}

/** Refuses a session larger than the store holds, naming the limit. */
export function checkSize(action: string, data: Uint8Array): void {
  if (data.length > KV_MAX_SESSION_BYTES) {
    throw new RangeError(
      `Cannot ${action}: it takes ${data.length} bytes, more than a KvStore holds (${KV_MAX_SESSION_BYTES} bytes, 256 KiB)`,
    );
  }
}
