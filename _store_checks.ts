// The checks of the store conformance kit (`testing.ts`), by capability:
// the contract every store keeps and `all()` here, versioned writes in
// _store_checks_versioned.ts, the per-user index in _store_checks_users.ts;
// each runs on a new store under a frozen clock.

import assert from "node:assert/strict";
import type { IterableStore, Store } from "./store.ts";

/**
 * A frozen clock for the steps: `Date.now()` and `new Date()` give `now`
 * until it is moved. Only `Date` is replaced, so a network client's timers
 * go on as usual.
 */
export class FrozenClock implements Disposable {
  #real = globalThis.Date;
  now: number = Date.now();

  constructor() {
    globalThis.Date = frozenDate(this.#real, this);
  }

  [Symbol.dispose](): void {
    globalThis.Date = this.#real;
  }
}

/** A `Date` whose present is `clock.now`. */
function frozenDate(
  real: DateConstructor,
  clock: { now: number },
): DateConstructor {
  return class FrozenDate extends real {
    constructor(...args: [] | [string | number | Date]) {
      super(args.length === 0 ? clock.now : args[0]);
    }
    static override now(): number {
      return clock.now;
    }
  } as DateConstructor;
}

export const bytes = (text: string): Uint8Array =>
  new TextEncoder().encode(text);
export const text = (data: Uint8Array | undefined): string | undefined =>
  data === undefined ? undefined : new TextDecoder().decode(data);

export type Check<S extends Store> = (
  store: S,
  clock: FrozenClock,
) => Promise<void>;

export const CONTRACT: Record<string, Check<Store>> = {
  async "find returns what commit stored, and commit replaces it"(
    store,
    clock,
  ) {
    assert.equal(await store.find("a"), undefined);
    await store.commit("a", bytes("first"), new Date(clock.now + 1000));
    assert.equal(text(await store.find("a")), "first");
    await store.commit("a", bytes("second"), new Date(clock.now + 5000));
    assert.equal(text(await store.find("a")), "second");
    clock.now += 4999;
    assert.equal(text(await store.find("a")), "second", "the new expiry holds");
  },

  async "a session is live while Date.now() < expiry"(store, clock) {
    await store.commit("a", bytes("x"), new Date(clock.now + 1000));
    clock.now += 999;
    assert.equal(text(await store.find("a")), "x", "live 1 ms before expiry");
    clock.now += 1;
    assert.equal(await store.find("a"), undefined, "gone at expiry");
  },

  async "a commit with an expiry at or before now removes the session"(
    store,
    clock,
  ) {
    await store.commit("a", bytes("x"), new Date(clock.now + 1000));
    await store.commit("a", bytes("y"), new Date(clock.now));
    assert.equal(await store.find("a"), undefined);
    await store.commit("b", bytes("y"), new Date(clock.now - 1));
    assert.equal(await store.find("b"), undefined);
  },

  async "stored bytes are isolated from the caller's arrays"(store, clock) {
    const data = bytes("kept");
    await store.commit("a", data, new Date(clock.now + 1000));
    data.fill(0);
    const found = (await store.find("a"))!;
    assert.equal(text(found), "kept", "changing the committed array");
    found.fill(0);
    assert.equal(text(await store.find("a")), "kept", "changing a found array");
    const view = bytes("..view..").subarray(2, 6);
    await store.commit("b", view, new Date(clock.now + 1000));
    assert.equal(text(await store.find("b")), "view", "a view's bytes only");
  },

  async "delete removes a session; a missing token is no error"(store, clock) {
    await store.commit("a", bytes("x"), new Date(clock.now + 1000));
    await store.delete("a");
    assert.equal(await store.find("a"), undefined);
    await store.delete("a");
    await store.delete("never-there");
  },

  async "bad arguments are refused with a TypeError, and nothing changes"(
    store,
    clock,
  ) {
    await store.commit("a", bytes("kept"), new Date(clock.now + 1000));
    const later = new Date(clock.now + 1000);
    const refused = async (call: () => Promise<unknown>, what: string) => {
      await assert.rejects(call, TypeError, what);
    };
    const bad = 42 as unknown as string;
    await refused(() => store.find(bad), "find(42)");
    await refused(() => store.commit(bad, bytes("x"), later), "commit(42, …)");
    await refused(() => store.delete(bad), "delete(42)");
    await refused(
      () => store.commit("a", [1] as unknown as Uint8Array, later),
      "data that is an Array",
    );
    await refused(
      () => store.commit("a", bytes("x"), new Date(NaN)),
      "an Invalid Date",
    );
    await refused(
      () => store.commit("a", bytes("x"), clock.now as unknown as Date),
      "a number for expiry",
    );
    assert.equal(text(await store.find("a")), "kept");
  },
};

export const ITERABLE: Record<string, Check<IterableStore>> = {
  async "all() lists the live sessions only, as copies"(store, clock) {
    assert.equal((await store.all()).size, 0);
    await store.commit("a", bytes("1"), new Date(clock.now + 1000));
    await store.commit("b", bytes("2"), new Date(clock.now + 2000));
    await store.commit("c", bytes("3"), new Date(clock.now + 3000));
    await store.delete("c");
    clock.now += 1000; // "a" has expired
    const all = await store.all();
    assert.deepEqual([...all.keys()], ["b"]);
    all.get("b")!.fill(0);
    assert.equal(text((await store.all()).get("b")), "2");
  },
};
