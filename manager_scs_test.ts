// SCS's own tests of its session manager, run against this one.
import assert from "node:assert/strict";
import { app, client, fakeTime, setup, url } from "./_test_helpers.ts";

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
