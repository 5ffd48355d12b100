// Timers that never keep the process alive, and the jittered backoff of
// retries. The global timer functions are read at call time, so fake timers
// installed after import still drive them.

const nativeSetTimeout = globalThis.setTimeout;
const nativeSetInterval = globalThis.setInterval;

type Timer = ReturnType<typeof setTimeout>;

function unref(timer: Timer, native: boolean): Timer {
  const handle = timer as unknown as { unref?: unknown };
  if (typeof handle === "object" && handle !== null) {
    if (typeof handle.unref === "function") handle.unref();
  } else if (native && typeof timer === "number") {
    // Older Deno: timers are numbers, and only a real one may be unrefed.
    globalThis.Deno?.unrefTimer(timer);
  }
  return timer;
}

/** `setInterval` whose timer does not keep the process alive. */
export function setUnrefInterval(callback: () => void, ms: number): Timer {
  const timer = setInterval(callback, ms);
  return unref(timer, globalThis.setInterval === nativeSetInterval);
}

/** `setTimeout` whose timer does not keep the process alive. */
export function setUnrefTimeout(callback: () => void, ms: number): Timer {
  const timer = setTimeout(callback, ms);
  return unref(timer, globalThis.setTimeout === nativeSetTimeout);
}

/**
 * What `work` resolves to, or a `DOMException` named `"TimeoutError"` when
 * it takes `ms` or longer; `work`'s signal is aborted then, so work that can
 * be dropped is.
 *
 * @param ms The most milliseconds to wait; `Infinity` waits for ever.
 * @param what What is waited for, for the message: "the session store".
 */
export function withTimeout<T>(
  ms: number,
  what: string,
  work: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  if (ms === Infinity) return work(undefined);
  const controller = new AbortController();
  let timer: Timer | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setUnrefTimeout(() => {
      const error = new DOMException(
        `Cannot use ${what}: it did not answer within ${ms} ms`,
        "TimeoutError",
      );
      controller.abort(error);
      reject(error);
    }, ms);
  });
  return Promise.race([work(controller.signal), late]).finally(() =>
    clearTimeout(timer)
  );
}

/**
 * A random wait before try number `attempt` + 1 (ms): up to 2, 4, 8 ... and
 * at most 50 ms, so that writers that collided spread out.
 */
export function jitteredBackoff(attempt: number): number {
  return Math.random() * Math.min(50, 2 ** attempt);
}
