// The manager outside a request: iterate() over every session, load() and
// commit() by token.
import assert from "node:assert/strict";
import { fakeTime, setup, TOKEN, type Values } from "./_test_helpers.ts";
import { SessionManager } from "./manager.ts";
import type { Session } from "./session.ts";
import type { Store } from "./store.ts";

Deno.test("SessionManager.iterate() visits live sessions and saves their changes", async () => {
  using clock = fakeTime();
  using s = setup();
  const tokens: string[] = [];
  for (
    const [user, lifetime] of [["a", 10_000], ["b", 60_000], [
      "c",
      60_000,
    ]] as const
  ) {
    const session = await s.sessions.load("");
    session.put("user", user);
    session.setDeadline(new Date(Date.now() + lifetime));
    tokens.push((await s.sessions.commit(session)).token);
  }
  clock.tick(10_000); // "a" has expired
  const visited: string[] = [];
  await s.sessions.iterate(async (session) => {
    visited.push(session.get("user")!);
    if (session.get("user") === "b") session.put("message", "changed");
    if (session.get("user") === "c") session.destroy();
    await Promise.resolve();
  });
  assert.deepEqual(visited.sort(), ["b", "c"]);
  assert.equal((await s.sessions.load(tokens[1]!)).get("message"), "changed");
  assert.equal(await s.store.find(tokens[2]!), undefined);

  const plain: Store = {
    find: () => Promise.resolve(undefined),
    commit: () => Promise.resolve(),
    delete: () => Promise.resolve(),
  };
  using sessions = new SessionManager({ store: plain });
  await assert.rejects(sessions.iterate(() => {}), {
    name: "TypeError",
    message: /^Cannot iterate sessions: the store has no all\(\) method/,
  });
});

Deno.test("SessionManager.load() and commit() work outside HTTP", async () => {
  using _clock = fakeTime();
  using s = setup({ idleTimeout: 1_000 });
  const session = await s.sessions.load("not a token");
  session.put("user", "job");
  const { token, expiry } = await s.sessions.commit(session);
  assert.match(token, TOKEN);
  assert.equal(expiry.getTime(), Date.now() + 1_000);
  assert.equal((await s.sessions.load(token)).get("user"), "job");
  await assert.rejects(s.sessions.load(7 as unknown as string), {
    name: "TypeError",
    message: /received 7/,
  });
  await assert.rejects(s.sessions.commit({} as Session<Values>), {
    name: "TypeError",
    message: /expected a Session from a SessionManager, received an Object/,
  });
  session.destroy();
  assert.deepEqual(await s.sessions.commit(session), {
    token: "",
    expiry: new Date(0),
  });
  assert.equal(await s.store.find(token), undefined);
});
