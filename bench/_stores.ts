// The stores the benchmark compares, behind one promise-based interface.
import { TTLCache } from "@isaacs/ttlcache";
import session from "express-session";
import createMemoryStore from "memorystore";
import { MemStore } from "../memstore.ts";
import type { Store } from "../store.ts";

/** A store under test. */
export interface BenchStore extends Store {
  /** Stops whatever timer the store runs. */
  close(): void;
}

/**
 * The simplest correct store: a `Map`, a copy on every read and write, a
 * promise per call. The baseline our figures are ratios to.
 */
export class MapStore implements BenchStore {
  #sessions = new Map<string, { data: Uint8Array; expiry: number }>();
  find(token: string): Promise<Uint8Array | undefined> {
    const item = this.#sessions.get(token);
    if (item === undefined || Date.now() >= item.expiry) {
      return Promise.resolve(undefined);
    }
    return Promise.resolve(item.data.slice());
  }
  commit(token: string, data: Uint8Array, expiry: Date): Promise<void> {
    this.#sessions.set(token, { data: data.slice(), expiry: expiry.getTime() });
    return Promise.resolve();
  }
  delete(token: string): Promise<void> {
    this.#sessions.delete(token);
    return Promise.resolve();
  }
  /** SCS's sweep: one pass over every session. */
  sweep(): void {
    const now = Date.now();
    for (const [token, item] of this.#sessions) {
      if (now >= item.expiry) this.#sessions.delete(token);
    }
  }
  close(): void {}
}

/** Our store, as users get it: sweeping once a minute. */
export class OurStore extends MemStore implements BenchStore {
  close(): void {
    this.stopCleanup();
  }
}

// express-session stores hold session objects; the bytes travel as a
// latin1 string inside one, with the cookie that carries the expiry.
const latin1 = new TextDecoder("latin1");
function toLatin1(data: Uint8Array): string {
  return latin1.decode(data);
}
function fromLatin1(text: string): Uint8Array {
  const data = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) data[i] = text.charCodeAt(i);
  return data;
}

interface CallbackStore {
  get(
    sid: string,
    cb: (err: unknown, s?: session.SessionData | null) => void,
  ): void;
  set(sid: string, s: session.SessionData, cb: (err?: unknown) => void): void;
  destroy(sid: string, cb: (err?: unknown) => void): void;
}

class ExpressAdapter implements BenchStore {
  #store: CallbackStore;
  #stop: () => void;
  constructor(store: CallbackStore, stop: () => void = () => {}) {
    this.#store = store;
    this.#stop = stop;
  }
  find(token: string): Promise<Uint8Array | undefined> {
    return new Promise((resolve, reject) =>
      this.#store.get(token, (err, s) => {
        if (err) reject(err);
        const data = (s as { data?: string } | null | undefined)?.data;
        resolve(data === undefined ? undefined : fromLatin1(data));
      })
    );
  }
  commit(token: string, data: Uint8Array, expiry: Date): Promise<void> {
    const maxAge = expiry.getTime() - Date.now();
    const s = {
      cookie: { expires: expiry, originalMaxAge: maxAge, maxAge },
      data: toLatin1(data),
    } as unknown as session.SessionData;
    return new Promise((resolve, reject) =>
      this.#store.set(token, s, (err) => err ? reject(err) : resolve())
    );
  }
  delete(token: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#store.destroy(token, (err) => err ? reject(err) : resolve())
    );
  }
  close(): void {
    this.#stop();
  }
}

/** express-session's own `MemoryStore`. */
export function expressMemoryStore(): BenchStore {
  return new ExpressAdapter(new session.MemoryStore() as CallbackStore);
}

/** The `memorystore` package, pruning once a minute. */
export function memorystorePackage(): BenchStore {
  const MemoryStore = createMemoryStore(session);
  const store = new MemoryStore({ checkPeriod: 60_000 });
  return new ExpressAdapter(
    store as unknown as CallbackStore,
    () => store.stopInterval(),
  );
}

/** `@isaacs/ttlcache`, with a copy on read and write added. */
export class TtlCacheStore implements BenchStore {
  #cache = new TTLCache<string, Uint8Array>({ ttl: 86_400_000 });
  find(token: string): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.#cache.get(token)?.slice());
  }
  commit(token: string, data: Uint8Array, expiry: Date): Promise<void> {
    const ttl = expiry.getTime() - Date.now();
    if (ttl > 0) this.#cache.set(token, data.slice(), { ttl });
    else this.#cache.delete(token);
    return Promise.resolve();
  }
  delete(token: string): Promise<void> {
    this.#cache.delete(token);
    return Promise.resolve();
  }
  close(): void {
    this.#cache.cancelTimer();
  }
}

/** Every store in the benchmark, by the name the table gives it. */
export const stores: Record<string, () => BenchStore> = {
  "Map + copies (baseline)": () => new MapStore(),
  "MemStore (ours)": () => new OurStore(),
  "express-session MemoryStore": expressMemoryStore,
  "memorystore 1.6.8": memorystorePackage,
  "@isaacs/ttlcache 2.1.5 + copies": () => new TtlCacheStore(),
};
