// The event side of a training handle (Node's worker thread or a browser's Web Worker): events queue up until
// the caller iterates, `result` settles once, and a failure reaches both after the events that came before it.
export class EventQueue<E, R> {
  readonly result: Promise<R>;
  #events: E[] = [];
  #wake: (() => void) | null = null;
  #ended = false;
  #failure: { error: unknown } | null = null;
  #settle!: { resolve: (result: R) => void; reject: (error: unknown) => void };

  constructor() {
    this.result = new Promise<R>((resolve, reject) => (this.#settle = { resolve, reject }));
    this.result.catch(() => {}); // the caller may only iterate; the rejection is still delivered to `result` users
  }

  get ended(): boolean {
    return this.#ended;
  }

  push(event: E): void {
    this.#events.push(event);
    this.#notify();
  }

  finish(result: R): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#settle.resolve(result);
    this.#notify();
  }

  fail(error: unknown): void {
    this.#failure ??= { error };
    this.#ended = true;
    this.#settle.reject(error);
    this.#notify();
  }

  /** The events in order; `onLeave` runs when the loop ends, early (break, return, throw) or not. */
  async *iterate(onLeave: () => void): AsyncGenerator<E, void, undefined> {
    try {
      for (;;) {
        if (this.#events.length) yield this.#events.shift()!;
        else if (this.#failure) throw this.#failure.error;
        else if (this.#ended) return;
        else await new Promise<void>((resolve) => (this.#wake = resolve));
      }
    } finally {
      onLeave();
    }
  }

  #notify(): void {
    this.#wake?.();
    this.#wake = null;
  }
}
