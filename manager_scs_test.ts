import assert from "node:assert/strict";
import {
  app,
  client,
  fakeTime,
  setup,
  TOKEN,
  url,
  type Values,
} from "./_test_helpers.ts";
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

Deno.test("SessionManager passes SCS's manager cases", async (t) => {
  await t.step("enable: put, then get with the cookie", async () => {
    using s = setup();
    const browser = client(s.sessions.loadAndSave(app));
    const put = await browser.get("/put");
    assert.match(put.headers.get("set-cookie")!, /^session=/);
    assert.equal(
      await (await browser.get("/get")).text(),
      "Hello from a session!",
    );
  });
  await t.step(
    "lifetime: the session ends at its deadline, whatever the activity",
    async () => {
      using clock = fakeTime();
      using s = setup({ lifetime: 500 });
      const browser = client(s.sessions.loadAndSave(app));
      await browser.get("/put");
      clock.tick(250);
      assert.equal(
        await (await browser.get("/get")).text(),
        "Hello from a session!",
      );
      clock.tick(250);
      assert.equal(await (await browser.get("/get")).text(), "");
    },
  );
  await t.step(
    "idle timeout: activity extends the session, idleness ends it",
    async () => {
      using clock = fakeTime();
      using s = setup({ idleTimeout: 200, lifetime: 60_000 });
      const browser = client(s.sessions.loadAndSave(app));
      await browser.get("/put");
      clock.tick(100);
      await browser.get("/get");
      clock.tick(150);
      assert.equal(
        await (await browser.get("/get")).text(),
        "Hello from a session!",
      );
      clock.tick(200);
      assert.equal(await (await browser.get("/get")).text(), "");
    },
  );
  await t.step("destroy: the cookie is deleted, the data is gone", async () => {
    using s = setup();
    const browser = client(s.sessions.loadAndSave(app));
    await browser.get("/put");
    const cookie = browser.cookie!;
    const response = await browser.get("/destroy");
    assert.match(response.headers.get("set-cookie")!, /^session=; Max-Age=0;/);
    browser.cookie = cookie; // a client that ignores the deletion
    assert.equal(await (await browser.get("/get")).text(), "");
  });
  await t.step("renew token: a new token, the same data", async () => {
    using s = setup();
    const browser = client(s.sessions.loadAndSave(app));
    await browser.get("/put");
    const before = browser.cookie;
    await browser.get("/renew");
    assert.notEqual(browser.cookie, before);
    assert.equal(
      await (await browser.get("/get")).text(),
      "Hello from a session!",
    );
  });
  await t.step("remember me: persistent only when asked", async () => {
    using s = setup({ cookie: { persist: false } });
    const plain = s.sessions.loadAndSave((_r, session) => {
      session.put("user", "a");
      return new Response();
    });
    const remembered = s.sessions.loadAndSave((_r, session) => {
      session.put("user", "a");
      session.rememberMe(true);
      return new Response();
    });
    assert.doesNotMatch(
      (await plain(new Request(url("/")))).headers.get("set-cookie")!,
      /Max-Age/,
    );
    assert.match(
      (await remembered(new Request(url("/")))).headers.get("set-cookie")!,
      /Max-Age=86400/,
    );
  });
  await t.step("iterate: every session, changes saved", async () => {
    using s = setup();
    for (let i = 0; i < 3; i++) {
      const session = await s.sessions.load("");
      session.put("count", i);
      await s.sessions.commit(session);
    }
    await s.sessions.iterate((session) =>
      session.put("count", session.get("count")! + 10)
    );
    const counts: number[] = [];
    await s.sessions.iterate((session) =>
      void counts.push(session.get("count")!)
    );
    assert.deepEqual(counts.sort(), [10, 11, 12]);
  });
});
