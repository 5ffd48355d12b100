// Helpers that several test files share: fake time, the shape of a token,
// a client with a cookie jar, a browser, and a store whose capabilities,
// pauses and call counts a test chooses; with the servers of
// `_test_servers.ts`, `_test_postgres.ts` and `_test_cluster.ts`, so a test
// imports this one module. The tests' dependencies are pinned here: the
// package itself has none. The `cookie` package is the tests' reference for
// reading cookies as browsers send them and servers parse them.
import assert from "node:assert/strict";
import FakeTimers from "npm:@sinonjs/fake-timers@15.5.0";
import { parseSetCookie } from "npm:cookie@2.0.2";
import { SessionManager } from "./manager.ts";
import { SYNC, syncOf, type SyncStore } from "./_in_memory.ts";
import { MemStore } from "./memstore.ts";
import type { SessionManagerOptions } from "./options.ts";
import type { Session } from "./session.ts";

export { default as fc } from "npm:fast-check@4.10.2";
export { parseCookie, parseSetCookie, type SetCookie } from "npm:cookie@2.0.2";
export * from "./_test_servers.ts";
export * from "./_test_postgres.ts";
export * from "./_test_cluster.ts";
import type {
  IterableStore,
  Store,
  VersionedEntry,
  VersionedWrite,
} from "./store.ts";

/** A session token: 43 characters of unpadded base64url. */
export const TOKEN: RegExp = /^[A-Za-z0-9_-]{43}$/;

/** The UTF-8 bytes of a text. */
export const bytes = (text: string): Uint8Array =>
  new TextEncoder().encode(text);

/** The text of UTF-8 bytes; `undefined` for none. */
export const text = (data: Uint8Array | undefined): string | undefined =>
  data === undefined ? undefined : new TextDecoder().decode(data);

/** The time `ms` milliseconds from now. */
export const inMs = (ms: number): Date => new Date(Date.now() + ms);

/** A URL on localhost. */
export const url = (path: string): string => `http://localhost${path}`;

/** A fake clock that uninstalls itself when disposed. */
export type FakeClock = ReturnType<typeof FakeTimers.install> & Disposable;

/** Fakes `Date`, `performance` and the timer functions, starting at `now`. */
export function fakeTime(now = 1_000_000): FakeClock {
  const clock = FakeTimers.install({
    now,
    toFake: [
      "Date",
      "performance",
      "setTimeout",
      "clearTimeout",
      "setInterval",
      "clearInterval",
    ],
  });
  return Object.assign(clock, { [Symbol.dispose]: () => clock.uninstall() });
}

/** A client of a handler with a one-cookie jar, as a browser keeps it. */
export interface Client {
  /** The `name=value` the jar holds, if any. */
  cookie: string | undefined;
  /** Sends a request with the jar's cookie; keeps what Set-Cookie says. */
  get(path: string, init?: RequestInit): Promise<Response>;
}

/** A client of `handler`. */
export function client(
  handler: (request: Request) => Promise<Response>,
): Client {
  const jar: Client = {
    cookie: undefined,
    async get(path, init = {}) {
      const headers = new Headers(init.headers);
      if (jar.cookie !== undefined) headers.set("cookie", jar.cookie);
      const response = await handler(
        new Request(url(path), { ...init, headers }),
      );
      const set = response.headers.get("set-cookie");
      if (set !== null) {
        const parsed = parseSetCookie(set);
        jar.cookie = parsed.maxAge === 0
          ? undefined
          : `${parsed.name}=${parsed.value}`;
      }
      return response;
    },
  };
  return jar;
}

/**
 * Checks the response of a framework app that set a `lang=en` cookie,
 * `Vary: Accept-Encoding`, `Cache-Control: private` and the body "ok", and
 * put a value in its session: the app's headers are kept, the session's
 * added after them.
 */
export async function assertAppHeadersKept(response: Response): Promise<void> {
  const cookies = response.headers.getSetCookie();
  assert.equal(cookies.length, 2);
  assert.match(cookies[0]!, /^lang=en/);
  assert.match(cookies[1]!, /^session=[^;]{43};/);
  assert.equal(response.headers.get("vary"), "Accept-Encoding, Cookie");
  assert.equal(
    response.headers.get("cache-control"),
    'private, no-cache="Set-Cookie"',
  );
  assert.equal(await response.text(), "ok");
}

/**
 * A store that is down from `failing` on: its finds fail, or (with
 * "commit") it finds nothing and its writes fail.
 */
export function failingStore(failing: "find" | "commit"): Store {
  return {
    find: () =>
      failing === "find"
        ? Promise.reject(new Error("down"))
        : Promise.resolve(undefined),
    commit: () => Promise.reject(new Error("down")),
    delete: () => Promise.resolve(),
  };
}

/** A browser of an app: one cookie, sent with every request to its base. */
export interface Browser {
  /** The `name=value` the browser holds, if any. */
  readonly cookie: string | undefined;
  /** A request to `base + path`, redirects not followed. */
  send(path: string, init?: RequestInit): Promise<Response>;
  /** A form post from the app's own pages: its Origin is the app's. */
  post(path: string, form?: Record<string, string>): Promise<Response>;
}

/** A browser of the app that `fetch` answers, at `base`. */
export function browser(
  fetch: (request: Request) => Response | Promise<Response>,
  base: string,
): Browser {
  let cookie: string | undefined;
  return {
    get cookie() {
      return cookie;
    },
    async send(path, init = {}) {
      const headers = new Headers(init.headers);
      if (cookie) headers.set("cookie", cookie);
      const response = await fetch(
        new Request(base + path, { ...init, headers, redirect: "manual" }),
      );
      const set = response.headers.get("set-cookie");
      if (set !== null) {
        cookie = /Max-Age=0/.test(set) ? undefined : set.split(";")[0];
      }
      return response;
    },
    post(path, form = {}) {
      return this.send(path, {
        method: "POST",
        body: new URLSearchParams(form),
        headers: { origin: base },
      });
    },
  };
}

/** The token a `name=value` cookie holds. */
export const tokenOf = (cookie: string | undefined): string | undefined =>
  cookie?.split("=")[1];

/** Which methods a {@linkcode TestStore} offers beyond `Store` and `all`. */
export type Capabilities = "plain" | "versioned" | "in-memory";

/** How a {@linkcode TestStore} answers. */
export type Pause =
  /** synchronously, as MemStore does */
  | "none"
  /** after other promises (works under fake time) */
  | "microtask"
  /** after other tasks: a timer of 0 ms (needs real time) */
  | "task"
  /** after a timer of 0 to 3 ms, drawn for each call (needs real time) */
  | "0-3 ms";

/** Options of a {@linkcode TestStore}. */
export interface TestStoreOptions {
  /** @default {"in-memory"} */
  capabilities?: Capabilities;
  /** @default {"none"} */
  pause?: Pause;
}

/** Calls made to a {@linkcode TestStore}, by kind. */
export interface Calls {
  read: number;
  write: number;
  delete: number;
  all: number;
}

/**
 * A MemStore behind the methods a test chooses: a plain store, a versioned
 * one or an in-memory one, answering synchronously or after a pause, and counting
 * the calls made to it.
 */
export class TestStore implements IterableStore, Disposable {
  /** The MemStore that holds the sessions. */
  readonly inner: MemStore = new MemStore({ cleanupInterval: 0 });
  /** Calls so far. */
  calls: Calls = { read: 0, write: 0, delete: 0, all: 0 };
  findVersioned?: (token: string) => Promise<VersionedEntry | undefined>;
  commitVersioned?: (writes: readonly VersionedWrite[]) => Promise<boolean>;
  findByUser?: (user: string) => Promise<Map<string, VersionedEntry>>;
  [SYNC]?: () => SyncStore | undefined;
  #pause: Pause;

  constructor(options: TestStoreOptions = {}) {
    const { capabilities = "in-memory", pause = "none" } = options;
    this.#pause = pause;
    const inner = this.inner;
    if (capabilities !== "plain") {
      this.findVersioned = (token) =>
        this.#call("read", () => inner.findVersioned(token));
      this.commitVersioned = (writes) =>
        this.#call("write", () => inner.commitVersioned(writes));
      this.findByUser = (user) =>
        this.#call("read", () => inner.findByUser(user));
    }
    if (capabilities === "in-memory") {
      // MemStore's synchronous access, counted.
      const sync = syncOf(inner)!;
      const counted: SyncStore = {
        findVersioned: (token) => {
          this.calls.read++;
          return sync.findVersioned(token);
        },
        commitVersioned: (writes) => {
          this.calls.write++;
          return sync.commitVersioned(writes);
        },
      };
      this[SYNC] = () => counted;
    }
  }

  /** Sessions held, as MemStore counts them. */
  get size(): number {
    return this.inner.size;
  }

  find(token: string): Promise<Uint8Array | undefined> {
    return this.#call("read", () => this.inner.find(token));
  }

  commit(token: string, data: Uint8Array, expiry: Date): Promise<void> {
    return this.#call("write", () => this.inner.commit(token, data, expiry));
  }

  delete(token: string): Promise<void> {
    return this.#call("delete", () => this.inner.delete(token));
  }

  all(): Promise<Map<string, Uint8Array>> {
    return this.#call("all", () => this.inner.all());
  }

  [Symbol.dispose](): void {
    this.inner[Symbol.dispose]();
  }

  async #call<R>(kind: keyof Calls, work: () => Promise<R>): Promise<R> {
    this.calls[kind]++;
    if (this.#pause === "microtask") await Promise.resolve();
    if (this.#pause === "task" || this.#pause === "0-3 ms") {
      const ms = this.#pause === "task" ? 0 : Math.random() * 3;
      await new Promise((resolve) => setTimeout(resolve, ms));
    }
    return await work();
  }
}

/** The values the manager tests keep. */
export type Values = { message: string; count: number; user: string };

/** A manager over a store that counts its calls, both disposed together. */
export function setup(
  options: SessionManagerOptions = {},
): { store: TestStore; sessions: SessionManager<Values> } & Disposable {
  const store = new TestStore();
  const sessions = new SessionManager<Values>({ store, ...options });
  return {
    store,
    sessions,
    [Symbol.dispose]() {
      sessions[Symbol.dispose]();
      store[Symbol.dispose]();
    },
  };
}

/** The manager tests' app: /put, /get, /destroy, /renew, /count. */
export const app = (request: Request, session: Session<Values>): Response => {
  switch (new URL(request.url).pathname) {
    case "/put":
      session.put("message", "Hello from a session!");
      return new Response(null);
    case "/get":
      return new Response(session.get("message") ?? "");
    case "/destroy":
      session.destroy();
      return new Response("bye");
    case "/renew":
      session.renewToken();
      return new Response("renewed");
    case "/count": {
      const count = (session.get("count") ?? 0) + 1;
      session.put("count", count);
      return new Response(String(count));
    }
  }
  return new Response("Not Found", { status: 404 });
};

// What the overlap tests' requests do to their sessions: steps, and running
// them on a session (the pair test and the model test).

export type Key = "a" | "b" | "c";
export type Step<V = number | string> =
  | { op: "put"; key: Key; value: V }
  | { op: "get" | "pop" | "remove"; key: Key }
  /** Changes an object value in place, without put(). */
  | { op: "touch"; key: Key }
  | { op: "clear" | "destroy" | "renew" | "remember" };

/** Runs steps on a session; gives what each read answered, then the values. */
export function perform<V>(
  session: Session<Record<string, V>>,
  steps: Step<V>[],
): unknown[] {
  const answers: unknown[] = [];
  for (const step of steps) {
    switch (step.op) {
      case "put":
        session.put(step.key, step.value);
        break;
      case "get":
        answers.push(session.get(step.key) ?? null);
        break;
      case "pop":
        answers.push(session.pop(step.key) ?? null);
        break;
      case "remove":
        session.remove(step.key);
        break;
      case "clear":
        session.clear();
        break;
      case "destroy":
        session.destroy();
        break;
      case "renew":
        session.renewToken();
        break;
      case "remember":
        session.rememberMe(true);
        break;
      case "touch": {
        const value = session.get(step.key);
        if (typeof value === "object" && value !== null) {
          (value as unknown as { n: number }).n++;
        }
        break;
      }
    }
  }
  answers.push(session.keys().map((k) => [k, session.get(k)]));
  return answers;
}
