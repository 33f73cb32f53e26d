/**
 * ArrayBuffers handed back for reuse. Detection moves each batch of frames to the feature worker and gets the
 * frames and the computed features back by transfer; with a pool, a long decode uses a handful of buffers
 * instead of allocating (and the garbage collector freeing, late, in another thread) one pair per batch.
 * Allocating and freeing them by the thousand fragmented the C heap of both threads, so RSS grew with the
 * video's length although nothing was held.
 */

/** A small free list of ArrayBuffers, by exact size. */
export class BufferPool {
  readonly #free: ArrayBuffer[] = [];
  readonly #keep: number;

  /** @param keep most buffers kept for reuse (more are left to the garbage collector). Default 8. */
  constructor(keep = 8) {
    this.#keep = keep;
  }

  /**
   * A buffer of exactly `bytes` bytes: a free one when there is one (its old content left in it), else a new
   * one. Free buffers of other sizes are dropped then: a size no one asks for again would only be held.
   */
  take(bytes: number): ArrayBuffer {
    const at = this.#free.findIndex((b) => b.byteLength === bytes);
    if (at >= 0) return this.#free.splice(at, 1)[0]!;
    this.#free.length = 0;
    return new ArrayBuffer(bytes);
  }

  /** Hand a buffer back (a detached one, of length 0, is ignored). */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength > 0 && this.#free.length < this.#keep && !this.#free.includes(buffer)) this.#free.push(buffer);
  }

  /** Buffers free for reuse now (for tests). */
  get size(): number {
    return this.#free.length;
  }
}
