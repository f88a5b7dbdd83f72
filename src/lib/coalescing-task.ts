/**
 * Run once, coalescing repeats: a task that many events ask for, run one pass at a time. Requests
 * while a pass is queued fold into it; requests while a pass is running fold into one more pass
 * after it, so the last request is always followed by a complete pass. Generic: imports nothing from
 * the project.
 */
export interface CoalescingTaskOptions {
  /**
   * Start each pass in a macrotask (setImmediate) rather than at once. With the embedded store every
   * call completes synchronously, and a pass re-run in microtasks would starve the event loop (and
   * the lease keep-alive).
   */
  readonly defer?: boolean;
  /** Receives what a pass threw or rejected with; without it, a throw propagates as the task's own. */
  readonly onError?: (err: unknown) => void;
}

export class CoalescingTask {
  #queued = false;
  #running = false;
  #stopped = false;

  constructor(
    private readonly task: () => unknown,
    private readonly options: CoalescingTaskOptions = {},
  ) {}

  /** Asks for a pass: runs one now (or in the next macrotask), or one more after the current one. */
  request(): void {
    if (this.#queued || this.#stopped) return;
    this.#queued = true;
    if (!this.#running) this.#start();
  }

  /** No pass starts after this; one running finishes. */
  stop(): void {
    this.#stopped = true;
  }

  #start(): void {
    if (this.options.defer) setImmediate(() => this.#run());
    else this.#run();
  }

  #run(): void {
    this.#queued = false;
    if (this.#stopped) return;
    this.#running = true;
    let result: unknown;
    try {
      result = this.task();
    } catch (err) {
      this.#done();
      if (!this.options.onError) throw err;
      this.options.onError(err);
      return;
    }
    if (!(result instanceof Promise)) return this.#done();
    result.then(
      () => this.#done(),
      (err: unknown) => {
        this.#done();
        if (!this.options.onError) throw err;
        this.options.onError(err);
      },
    );
  }

  #done(): void {
    this.#running = false;
    if (this.#queued && !this.#stopped) this.#start();
  }
}
