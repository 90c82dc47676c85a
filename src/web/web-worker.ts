// The little of the browser's Worker that rnnkit/web uses (the project compiles without the DOM library).
// Whoever starts a worker writes `new Worker(new URL(<a string literal>, import.meta.url), { type: 'module' })`
// out in full, the options an object literal whose `type` is a literal: bundlers (Vite, webpack 5) recognise
// only that form, and only then build the worker script with its imports instead of copying the file alone.

export interface WebWorker<In, Out> {
  onmessage: ((message: { data: Out }) => void) | null;
  onerror: ((event: { message?: string; preventDefault?(): void }) => void) | null;
  postMessage(message: In): void;
  terminate(): void;
}

export type WebWorkerConstructor = new <In, Out>(
  url: string | URL,
  options: { type: 'module'; name?: string },
) => WebWorker<In, Out>;

/** Whether this context can start Web Workers (a page or a worker; not Node). */
export const webWorkersAvailable = (): boolean => typeof (globalThis as { Worker?: unknown }).Worker === 'function';
