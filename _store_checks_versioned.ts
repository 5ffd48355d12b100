// The conformance kit's checks of a VersionedStore: compare-and-set writes,
// markers of ended sessions, and their expiry.

import assert from "node:assert/strict";
import { bytes, type Check, text } from "./_store_checks.ts";
import type { IterableStore, VersionedStore } from "./store.ts";

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
