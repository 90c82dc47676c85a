// Lets the event loop run (timers, messages, an abort) between chunks of work: setImmediate where the runtime
// has it (Node), else a MessageChannel message (browsers and workers; not clamped the way setTimeout is).
interface Port {
  onmessage: (() => void) | null;
  postMessage(message: null): void;
  close(): void;
}

export function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
  if (immediate) return new Promise((resolve) => immediate(resolve));
  return new Promise((resolve) => {
    const channel = new MessageChannel() as unknown as { port1: Port; port2: Port };
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
