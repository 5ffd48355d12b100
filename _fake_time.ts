// Test helper: sinon fake timers that uninstall themselves at the end of a
// `using` block.
import FakeTimers from "@sinonjs/fake-timers";

/** A fake clock that uninstalls itself when disposed. */
export type FakeClock = ReturnType<typeof FakeTimers.install> & Disposable;

/** Fakes `Date`, `performance` and the timer functions, starting at `now`. */
export function fakeTime(now = 1_000_000): FakeClock {
  const clock = FakeTimers.install({
    now,
    toFake: [
      "Date",
      "performance",
      "setTimeout",
      "clearTimeout",
      "setInterval",
      "clearInterval",
    ],
  });
  return Object.assign(clock, { [Symbol.dispose]: () => clock.uninstall() });
}
