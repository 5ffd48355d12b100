// Work that takes turns by key, within this process: each piece runs after
// the pieces queued before it on any of its keys. The manager's saves of a
// session take turns so that they never conflict with each other, and a
// plain store's check-then-write takes turns so that it is atomic here.

/** What was queued before a piece of work, when it runs. */
export interface Behind {
  /** Work was queued on one of its keys: it ran first. */
  readonly waited: boolean;
  /** That work failed: the first of its errors (`failed` says whether). */
  readonly failed: boolean;
  readonly error?: unknown;
}

const NOTHING: Behind = { waited: false, failed: false };

/** A queue of work for each key. */
export class Turns {
  /** The last work queued on each key. */
  #last = new Map<string, Promise<unknown>>();

  /**
   * Runs `work` after the work queued before it on any of `keys`. When
   * nothing is queued, `work` runs now, and a result that is no promise is
   * returned as it is (no promise is made).
   */
  run<R>(
    keys: readonly string[],
    work: (behind: Behind) => R | Promise<R>,
  ): R | Promise<R> {
    const last = this.#last;
    const before: Promise<unknown>[] = [];
    for (const key of keys) {
      const queued = last.get(key);
      if (queued !== undefined) before.push(queued);
    }
    let run: Promise<R>;
    if (before.length === 0) {
      const result = work(NOTHING);
      if (!(result instanceof Promise)) return result;
      run = result;
    } else {
      run = Promise.allSettled(before).then((settled) => {
        const failure = settled.find((s) => s.status === "rejected");
        return work(
          failure === undefined
            ? { waited: true, failed: false }
            : { waited: true, failed: true, error: failure.reason },
        );
      });
    }
    for (const key of keys) last.set(key, run);
    const done = () => {
      for (const key of keys) if (last.get(key) === run) last.delete(key);
    };
    run.then(done, done);
    return run;
  }
}
