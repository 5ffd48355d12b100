import assert from "node:assert/strict";
import { fakeTime, setup } from "./_test_helpers.ts";
import { jsonCodec } from "./codec.ts";
import { SessionManager } from "./manager.ts";
import { MemStore } from "./memstore.ts";

Deno.test("Session.put() throws a TypeError for a value the codec cannot encode", async () => {
  using s = setup();
  const session = await s.sessions.load("");
  const bad = new Date() as unknown as string;
  assert.throws(() => session.put("message", bad), {
    name: "TypeError",
    message: /^Cannot put "message": Cannot encode a Date as JSON/,
  });
  assert.throws(
    () => session.put("message", undefined as unknown as string),
    TypeError,
  );
  assert.equal(session.status, "unmodified");
  assert.equal(session.has("message"), false);

  // A codec without check() is tried with encode().
  using t = setup({
    codec: {
      encode: (data) => jsonCodec.encode(data),
      decode: (bytes) => jsonCodec.decode(bytes),
    },
  });
  const other = await t.sessions.load("");
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => other.put("message", cyclic as unknown as string), {
    name: "TypeError",
    message: /^Cannot put "message": /,
  });
});

Deno.test("Session's values: get, put, pop, remove, has, keys, clear", async () => {
  using _clock = fakeTime();
  using s = setup();
  const session = await s.sessions.load("");
  assert.equal(session.token, "");
  assert.equal(session.status, "unmodified");
  assert.equal(session.deadline.getTime(), Date.now() + 86_400_000);
  assert.equal(session.get("user"), undefined);

  session.remove("user");
  session.clear();
  assert.equal(session.pop("user"), undefined);
  assert.equal(
    session.status,
    "unmodified",
    "removing nothing changes nothing",
  );

  session.put("user", "ada");
  session.put("message", "hi");
  session.put("count", 2);
  assert.equal(session.status, "modified");
  assert.deepEqual(session.keys(), ["count", "message", "user"]);
  assert.equal(session.has("user"), true);
  assert.equal(session.pop("message"), "hi");
  assert.equal(session.has("message"), false);
  session.remove("count");
  assert.deepEqual(session.keys(), ["user"]);

  const { token } = await s.sessions.commit(session);
  assert.equal(session.token, token);
  const loaded = await s.sessions.load(token);
  assert.equal(loaded.get("user"), "ada");
  assert.equal(loaded.status, "unmodified");
  loaded.clear();
  assert.deepEqual(loaded.keys(), []);
  assert.equal(loaded.status, "modified");
});

Deno.test("Session keys cannot reach Object.prototype", async () => {
  using store = new MemStore({ cleanupInterval: 0 });
  using sessions = new SessionManager({ store });
  const session = await sessions.load("");
  assert.equal(session.has("toString"), false);
  assert.equal(session.get("constructor"), undefined);
  session.put("__proto__", { polluted: true });
  const { token } = await sessions.commit(session);
  const loaded = await sessions.load(token);
  assert.deepEqual(loaded.get("__proto__"), { polluted: true });
  assert.deepEqual(loaded.keys(), ["__proto__"]);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("Session.setDeadline() moves the deadline and the cookie's expiry", async () => {
  using clock = fakeTime();
  using s = setup();
  const session = await s.sessions.load("");
  session.setDeadline(new Date(Date.now() + 5_000));
  assert.equal(session.status, "modified");
  const { token, expiry } = await s.sessions.commit(session);
  assert.equal(expiry.getTime(), Date.now() + 5_000);
  assert.throws(() => session.setDeadline(new Date(NaN)), {
    name: "TypeError",
    message: /an Invalid Date/,
  });
  clock.tick(5_000);
  assert.equal((await s.sessions.load(token)).token, "");
});
