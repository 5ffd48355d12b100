// How to test a handler that uses sessions: call it with `new Request()`,
// carry the cookie by hand, and drive time with fake timers. `using` stops
// the clock and the session store even when an assertion fails.

import assert from "node:assert/strict";
import FakeTimers from "npm:@sinonjs/fake-timers@15.5.0";
import { MemStore, SessionManager } from "../mod.ts";

/** The app under test: counts visits, and forgets them after 30 idle minutes. */
function visitCounter(store: MemStore) {
  const sessions = new SessionManager<{ visits: number }>({
    store,
    idleTimeout: 30 * 60 * 1000,
  });
  return sessions.loadAndSave((_request, session) => {
    const visits = (session.get("visits") ?? 0) + 1;
    session.put("visits", visits);
    return new Response(String(visits));
  });
}

/** Fake time for one test, restored at the end of its block. */
function fakeClock() {
  const clock = FakeTimers.install({ now: new Date("2026-01-01T00:00:00Z") });
  return Object.assign(clock, { [Symbol.dispose]: () => clock.uninstall() });
}

Deno.test("the visit counter keeps counting while the visitor is active", async () => {
  using clock = fakeClock();
  using store = new MemStore();
  const handler = visitCounter(store);

  const first = await handler(new Request("http://localhost/"));
  assert.equal(await first.text(), "1");
  const cookie = first.headers.get("set-cookie")!.split(";")[0]!;

  for (const expected of ["2", "3", "4"]) {
    clock.tick(29 * 60 * 1000); // 29 minutes later: still active
    const next = await handler(
      new Request("http://localhost/", { headers: { cookie } }),
    );
    assert.equal(await next.text(), expected);
  }
});

Deno.test("the visit counter starts again after 30 idle minutes", async () => {
  using clock = fakeClock();
  using store = new MemStore({ cleanupInterval: 60_000 });
  const handler = visitCounter(store);

  const first = await handler(new Request("http://localhost/"));
  const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
  await first.body?.cancel();

  clock.tick(30 * 60 * 1000); // no real waiting
  assert.equal(store.size, 0, "the sweep removed the idle session");
  const later = await handler(
    new Request("http://localhost/", { headers: { cookie } }),
  );
  assert.equal(await later.text(), "1");
});
