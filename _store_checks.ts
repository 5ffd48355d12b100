// The checks of the store conformance kit (`testing.ts`), by capability:
// the contract every store keeps, `all()`, and versioned writes; each runs
// on a new store under a frozen clock.

import assert from "node:assert/strict";
import type {
  IterableStore,
  Store,
  UserIndexStore,
  VersionedStore,
} from "./store.ts";

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

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array | undefined): string | undefined =>
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

export const VERSIONED: Record<string, Check<VersionedStore>> = {
  async "findVersioned reads the bytes, a version and the expiry"(
    store,
    clock,
  ) {
    const expiry = new Date(clock.now + 60_000);
    await store.commit("a", bytes("x"), expiry);
    const entry = (await store.findVersioned("a"))!;
    assert.equal(text(entry.data), "x");
    assert.notEqual(entry.version, null);
    assert.notEqual(entry.version, undefined);
    assert.equal(entry.expiry.getTime(), expiry.getTime());
    assert.equal(entry.ended, false);
    clock.now += 60_000;
    assert.equal(await store.findVersioned("a"), undefined, "gone at expiry");
  },

  async "a write with a stale version changes nothing"(store, clock) {
    const expiry = new Date(clock.now + 1000);
    await store.commit("a", bytes("first"), expiry);
    const read = (await store.findVersioned("a"))!;
    const first = [{
      token: "a",
      ifVersion: read.version,
      data: bytes("mine"),
      expiry,
    }];
    assert.equal(await store.commitVersioned(first), true);
    const stale = [{
      token: "a",
      ifVersion: read.version,
      data: bytes("lost"),
      expiry,
    }];
    assert.equal(await store.commitVersioned(stale), false);
    assert.equal(text(await store.find("a")), "mine");
    await store.commit("a", bytes("plain"), expiry);
    const now = (await store.findVersioned("a"))!;
    assert.notEqual(
      now.version,
      read.version,
      "a version changes with the bytes",
    );
  },

  async "ifVersion null writes only where nothing live is"(store, clock) {
    const write = (data: string) => [{
      token: "a",
      ifVersion: null,
      data: bytes(data),
      expiry: new Date(clock.now + 1000),
    }];
    assert.equal(await store.commitVersioned(write("1")), true);
    assert.equal(
      await store.commitVersioned(write("2")),
      false,
      "a session is there",
    );
    assert.equal(text(await store.find("a")), "1");
    clock.now += 1000; // expired: nothing live is there
    assert.equal(await store.commitVersioned(write("3")), true);
    assert.equal(text(await store.find("a")), "3");
  },

  async "writes are all or none"(store, clock) {
    const expiry = new Date(clock.now + 1000);
    await store.commit("taken", bytes("x"), expiry);
    const both = [
      { token: "new", ifVersion: null, data: bytes("1"), expiry },
      { token: "taken", ifVersion: null, data: bytes("2"), expiry },
    ];
    assert.equal(await store.commitVersioned(both), false);
    assert.equal(
      await store.find("new"),
      undefined,
      "the first was not written",
    );
    assert.equal(text(await store.find("taken")), "x");
  },

  async "an ended session's marker is seen by findVersioned only, and stays"(
    store,
    clock,
  ) {
    const expiry = new Date(clock.now + 1000);
    await store.commit("a", bytes("session"), expiry);
    const read = (await store.findVersioned("a"))!;
    const end = [{
      token: "a",
      ifVersion: read.version,
      data: bytes("ended"),
      expiry,
      ended: true,
    }];
    assert.equal(await store.commitVersioned(end), true);
    assert.equal(await store.find("a"), undefined, "find does not see it");
    const marker = (await store.findVersioned("a"))!;
    assert.equal(marker.ended, true);
    assert.equal(text(marker.data), "ended");
    const iterable = store as Partial<IterableStore>;
    if (iterable.all) assert.equal((await iterable.all()).has("a"), false);
    const revive = [{
      token: "a",
      ifVersion: null,
      data: bytes("back"),
      expiry,
    }];
    assert.equal(
      await store.commitVersioned(revive),
      false,
      "null does not replace a marker",
    );
    const stale = [{
      token: "a",
      ifVersion: read.version,
      data: bytes("back"),
      expiry,
    }];
    assert.equal(
      await store.commitVersioned(stale),
      false,
      "nor does the old version",
    );
    await store.delete("a");
    assert.equal(
      await store.findVersioned("a"),
      undefined,
      "delete removes it",
    );
  },

  async "a version read before its entry expired no longer matches"(
    store,
    clock,
  ) {
    await store.commit("a", bytes("x"), new Date(clock.now + 1000));
    const read = (await store.findVersioned("a"))!;
    clock.now += 1000; // expired: a later request must not revive it
    const revive = [{
      token: "a",
      ifVersion: read.version,
      data: bytes("back"),
      expiry: new Date(clock.now + 1000),
    }];
    assert.equal(await store.commitVersioned(revive), false);
    assert.equal(await store.find("a"), undefined);
  },

  async "every write's ifVersion is checked, not only the last one's"(
    store,
    clock,
  ) {
    const expiry = new Date(clock.now + 1000);
    await store.commit("a", bytes("a1"), expiry);
    await store.commit("b", bytes("b1"), expiry);
    const a = (await store.findVersioned("a"))!;
    const b = (await store.findVersioned("b"))!;
    await store.commit("a", bytes("a2"), expiry); // "a" moves on
    const both = [
      { token: "a", ifVersion: a.version, data: bytes("a3"), expiry },
      { token: "b", ifVersion: b.version, data: bytes("b3"), expiry },
    ];
    assert.equal(await store.commitVersioned(both), false);
    assert.equal(text(await store.find("a")), "a2");
    assert.equal(text(await store.find("b")), "b1");
  },

  async "an ended session's marker expires"(store, clock) {
    await store.commit("a", bytes("session"), new Date(clock.now + 1000));
    const read = (await store.findVersioned("a"))!;
    const end = [{
      token: "a",
      ifVersion: read.version,
      data: bytes("ended"),
      expiry: new Date(clock.now + 500),
      ended: true,
    }];
    assert.equal(await store.commitVersioned(end), true);
    clock.now += 500;
    assert.equal(await store.findVersioned("a"), undefined, "gone at expiry");
    const fresh = [{
      token: "a",
      ifVersion: null,
      data: bytes("new"),
      expiry: new Date(clock.now + 1000),
    }];
    assert.equal(await store.commitVersioned(fresh), true, "the token is free");
  },

  async "a versioned write with an expiry at or before now removes the entry"(
    store,
    clock,
  ) {
    await store.commit("a", bytes("x"), new Date(clock.now + 1000));
    const read = (await store.findVersioned("a"))!;
    const gone = [{
      token: "a",
      ifVersion: read.version,
      data: bytes("y"),
      expiry: new Date(clock.now),
    }];
    assert.equal(await store.commitVersioned(gone), true);
    assert.equal(await store.findVersioned("a"), undefined);
  },

  async "bad versioned writes are refused with a TypeError, and nothing changes"(
    store,
    clock,
  ) {
    await store.commit("a", bytes("kept"), new Date(clock.now + 1000));
    const expiry = new Date(clock.now + 1000);
    for (
      const writes of [
        "a write" as unknown,
        [null],
        [{ token: 1, ifVersion: null, data: bytes("x"), expiry }],
        [{ token: "a", ifVersion: null, data: "x", expiry }],
        [{ token: "a", ifVersion: null, data: bytes("x"), expiry: 5 }],
        [{ token: "a", data: bytes("x"), expiry }],
      ]
    ) {
      await assert.rejects(
        () => store.commitVersioned(writes as never),
        TypeError,
        JSON.stringify(writes),
      );
    }
    assert.equal(text(await store.find("a")), "kept");
  },
};

/** The tokens a UserIndexStore lists under `user`, sorted. */
async function listed(store: UserIndexStore, user: string): Promise<string[]> {
  return [...(await store.findByUser(user)).keys()].sort();
}

export const USER_INDEX: Record<string, Check<UserIndexStore>> = {
  async "findByUser lists the live sessions of the user their write named"(
    store,
    clock,
  ) {
    const expiry = new Date(clock.now + 1000);
    const write = (token: string, user?: string) => ({
      token,
      ifVersion: null,
      data: bytes(token),
      expiry,
      user,
    });
    assert.equal(
      await store.commitVersioned([write("a", "ada"), write("b", "ada")]),
      true,
    );
    await store.commitVersioned([write("c", "bob"), write("d")]);
    assert.deepEqual(await listed(store, "ada"), ["a", "b"]);
    assert.deepEqual(await listed(store, "bob"), ["c"]);
    assert.deepEqual(await listed(store, "nobody"), []);
    const entry = (await store.findByUser("ada")).get("a")!;
    assert.equal(text(entry.data), "a");
    assert.equal(entry.ended, false);
    assert.equal(entry.expiry.getTime(), expiry.getTime());
    assert.equal(
      await store.commitVersioned([{
        ...write("a", "ada"),
        ifVersion: entry.version,
      }]),
      true,
      "the version listed is the entry's",
    );
    clock.now += 1000;
    assert.deepEqual(await listed(store, "ada"), [], "expired: not listed");
  },

  async "a write moves its token to the user it names, or to none"(
    store,
    clock,
  ) {
    const expiry = new Date(clock.now + 1000);
    const write = async (user?: string) => {
      const read = await store.findVersioned("a");
      const ifVersion = read === undefined ? null : read.version;
      const data = bytes("x");
      assert.equal(
        await store.commitVersioned([{
          token: "a",
          ifVersion,
          data,
          expiry,
          user,
        }]),
        true,
      );
    };
    await write("ada");
    await write("bob");
    assert.deepEqual(await listed(store, "ada"), [], "no longer ada's");
    assert.deepEqual(await listed(store, "bob"), ["a"]);
    await write(undefined);
    assert.deepEqual(await listed(store, "bob"), [], "a write without user");
    await write("bob");
    await store.commit("a", bytes("plain"), expiry);
    assert.deepEqual(await listed(store, "bob"), [], "a plain commit");
  },

  async "a marker, a deletion or a past expiry lists the token no more"(
    store,
    clock,
  ) {
    const expiry = new Date(clock.now + 1000);
    const bind = (token: string) =>
      store.commitVersioned([{
        token,
        ifVersion: null,
        data: bytes(token),
        expiry,
        user: "ada",
      }]);
    await bind("a");
    await bind("b");
    await bind("c");
    const a = (await store.findVersioned("a"))!;
    await store.commitVersioned([{
      token: "a",
      ifVersion: a.version,
      data: bytes("ended"),
      expiry,
      ended: true,
      user: "ada",
    }]);
    await store.delete("b");
    const c = (await store.findVersioned("c"))!;
    await store.commitVersioned([{
      token: "c",
      ifVersion: c.version,
      data: bytes("c"),
      expiry: new Date(clock.now),
      user: "ada",
    }]);
    assert.deepEqual(await listed(store, "ada"), []);
  },

  async "a write refused for its versions changes no list; a renewal moves the listing atomically"(
    store,
    clock,
  ) {
    const expiry = new Date(clock.now + 1000);
    await store.commitVersioned([{
      token: "a",
      ifVersion: null,
      data: bytes("a"),
      expiry,
      user: "ada",
    }]);
    const a = (await store.findVersioned("a"))!;
    const renewal = [
      { token: "b", ifVersion: null, data: bytes("a"), expiry, user: "ada" },
      {
        token: "a",
        ifVersion: a.version,
        data: bytes("renewed"),
        expiry,
        ended: true,
      },
    ];
    const refused = [
      {
        token: "a",
        ifVersion: a.version,
        data: bytes("a"),
        expiry,
        user: "bob",
      },
      { token: "z", ifVersion: "not a version", data: bytes("z"), expiry },
    ];
    assert.equal(await store.commitVersioned(refused), false);
    assert.deepEqual(await listed(store, "bob"), [], "refused: not listed");
    assert.deepEqual(await listed(store, "ada"), ["a"]);
    assert.equal(await store.commitVersioned(renewal), true);
    assert.deepEqual(await listed(store, "ada"), ["b"]);
  },

  async "a bad user is refused with a TypeError, and nothing changes"(
    store,
    clock,
  ) {
    const expiry = new Date(clock.now + 1000);
    for (const user of [42, "", null]) {
      await assert.rejects(
        () =>
          store.commitVersioned([{
            token: "a",
            ifVersion: null,
            data: bytes("x"),
            expiry,
            user: user as never,
          }]),
        TypeError,
        String(user),
      );
      await assert.rejects(
        () => store.findByUser(user as never),
        TypeError,
        String(user),
      );
    }
    assert.equal(await store.findVersioned("a"), undefined);
  },
};
