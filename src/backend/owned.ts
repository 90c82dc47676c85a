// Buffers allocated for one owner (a model, a workspace, an optimizer) and freed together by its dispose().
import type { Backend, Buf, FloatSpan, FloatArray, IntSpan } from './types.js';
import { Span } from './types.js';

export class OwnedBuffers {
  #bufs: Buf<FloatArray | Int32Array>[] = [];

  constructor(readonly backend: Backend) {}

  float(length: number): FloatSpan {
    const buf = this.backend.allocFloat(length);
    this.#bufs.push(buf);
    return Span.of(buf);
  }

  int(length: number): IntSpan {
    const buf = this.backend.allocInt(length);
    this.#bufs.push(buf);
    return Span.of(buf);
  }

  /** Frees every buffer (in reverse order, so a bump allocator's top comes back down); idempotent. */
  dispose(): void {
    for (const buf of this.#bufs.reverse()) this.backend.free?.(buf);
    this.#bufs = [];
  }
}
