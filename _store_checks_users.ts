// The conformance kit's checks of a UserIndexStore: the per-user index,
// changed with the entries, atomically.

import assert from "node:assert/strict";
import { bytes, type Check, text } from "./_store_checks.ts";
import type { UserIndexStore } from "./store.ts";

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
