import assert from "node:assert/strict";
import { fakeTime } from "./_test_helpers.ts";
import { LOCKED_WAIT, whileLocked } from "./_kv_lock.ts";

const locked = () => new TypeError("database is locked");

Deno.test("whileLocked() tries again while the database is locked", async () => {
  using clock = fakeTime();
  let calls = 0;
  let retries = 0;
  const done = whileLocked(() => {
    calls++;
    return calls < 30 ? Promise.reject(locked()) : Promise.resolve("done");
  }, () => retries++);
  await clock.runAllAsync();
  assert.equal(await done, "done");
  assert.equal(calls, 30);
  assert.equal(retries, 29);
});

Deno.test("whileLocked() gives up with the lock error once its time is up", async () => {
  using clock = fakeTime();
  let calls = 0;
  const started = Date.now();
  const done = whileLocked(() => {
    calls++;
    return Promise.reject(locked());
  });
  const failed = assert.rejects(done, /database is locked/);
  await clock.runAllAsync();
  await failed;
  assert.ok(calls > 80, `tried ${calls} times`);
  assert.ok(Date.now() - started >= LOCKED_WAIT);
  assert.ok(Date.now() - started < LOCKED_WAIT + 100);
});

Deno.test("whileLocked() throws any other error without trying again", async () => {
  let calls = 0;
  await assert.rejects(
    whileLocked(() => {
      calls++;
      return Promise.reject(new Error("disk full"));
    }),
    /disk full/,
  );
  assert.equal(calls, 1);
});
