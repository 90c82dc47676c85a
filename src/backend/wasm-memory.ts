// The memory rnnkit.wasm imports (env.memory, declared shared with a maximum: see asconfig.json). One build
// serves threads and no threads: where SharedArrayBuffer is unavailable, or one thread is enough, the module's
// bytes are patched to declare the same memory unshared (one flag byte of its import), and an ordinary memory
// is given. The module has no atomic instructions, so either declaration is valid for its code.

export interface MemoryImport {
  /** Pages the module needs at start, and at most. */
  initial: number;
  maximum: number;
  shared: boolean;
  /** Where the limits' flag byte is in the module's bytes. */
  flagsAt: number;
}

const SHARED_WITH_MAX = 0x03;
const WITH_MAX = 0x01;

/** The env.memory import of a module (null when the module imports no memory). Throws on malformed bytes. */
export function memoryImportOf(bytes: Uint8Array): MemoryImport | null {
  let at = 8; // magic and version
  const byte = (): number => {
    if (at >= bytes.length) throw new Error('the module ends inside a section');
    return bytes[at++]!;
  };
  const leb = (): number => {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = byte();
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
    }
    throw new Error('a LEB128 number is too long');
  };
  const name = (): string => {
    const length = leb();
    at += length;
    return String.fromCharCode(...bytes.subarray(at - length, at));
  };
  while (at < bytes.length) {
    const id = byte();
    const size = leb();
    const end = at + size;
    if (id !== 2) {
      at = end;
      continue;
    }
    for (let count = leb(); count > 0; count--) {
      const module = name();
      const field = name();
      const kind = byte();
      if (kind === 0) leb();
      else if (kind === 1 || kind === 3 || kind === 4) {
        byte();
        if (kind === 1) limits();
        else leb(); // the global's mutability or the tag's type (a byte below 128 reads the same)
      } else if (kind === 2) {
        const flagsAt = at;
        const { initial, maximum, flags } = limits();
        if (module === 'env' && field === 'memory') return { initial, maximum, shared: (flags & 2) !== 0, flagsAt };
      } else throw new Error(`unknown import kind ${kind}`);
    }
    return null;
  }
  return null;

  function limits(): { initial: number; maximum: number; flags: number } {
    const flags = byte();
    const initial = leb();
    const maximum = flags & 1 ? leb() : 65536;
    return { initial, maximum, flags };
  }
}

/** The module's bytes with its shared memory import declared unshared (a copy; the input is not changed). */
export function unsharedMemoryModule(bytes: Uint8Array, memory: MemoryImport): Uint8Array {
  if (!memory.shared) return bytes;
  if (bytes[memory.flagsAt] !== SHARED_WITH_MAX) throw new Error('the shared memory import has no maximum');
  const copy = new Uint8Array(bytes);
  copy[memory.flagsAt] = WITH_MAX;
  return copy;
}

/** Whether this runtime can share WebAssembly memory between threads (SharedArrayBuffer exists; in a page:
 *  the page is cross-origin isolated). */
export function sharedMemorySupported(): boolean {
  const g = globalThis as { crossOriginIsolated?: boolean; SharedArrayBuffer?: unknown };
  return typeof g.SharedArrayBuffer === 'function' && g.crossOriginIsolated !== false;
}
