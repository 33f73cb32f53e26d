/**
 * A pool of worker threads that compute feature batches off the main thread (one piscina instance). Frames
 * move to a worker by transfer (the caller's ArrayBuffer is detached by `compute`) and come back by transfer
 * with the batch, so no frame is ever copied between threads and the caller can fill its frame buffers again.
 *
 * The backend (native or TypeScript) is decided once, on the main thread, by the same loader the rest of the
 * library uses; workers insist on that backend so every batch of a run is computed by the same code.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { AbortError, OptionError, ScenescopeError, errorFromJSON, throwIfAborted } from '../errors.js';
import { bool, integerIn, invalid, oneOf, opt, plainOptions, signal as checkSignal } from '../util/validate.js';
import { loadFeatureEngine, type FeatureBackend, type FeatureEngineInfo } from './engine.js';
import { batchBytes, MAX_SIDE, MIN_SIDE } from './kernel.js';
import type { FeatureBatch } from './types.js';
import type { FeatureReply, FeatureTask } from './worker.js';

/** Options of {@link FeaturePool}. All optional. */
export interface FeaturePoolOptions {
  /**
   * Worker threads. Default: {@link defaultFeatureThreads} (available cores minus one, at least one: the
   * decoder needs a core of its own).
   */
  threads?: number | undefined;
  /** "auto" (native if it loads, else TypeScript), "native" (insist) or "typescript". Default "auto". */
  backend?: FeatureBackend | 'auto' | undefined;
}

/** What a pool runs on. */
export interface FeaturePoolInfo extends FeatureEngineInfo {
  threads: number;
}

/** Most threads a pool accepts. */
export const MAX_FEATURE_THREADS = 64;

/**
 * The default thread count: available parallelism minus one (ffmpeg's decoder keeps one core busy), at
 * least one. On a 2-core machine this is 1, which measured best there (see benchmarks/features.ts).
 */
export function defaultFeatureThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

/** The worker module next to this one (worker.js in dist/, worker.ts when run from source). */
const WORKER_FILE = fileURLToPath(new URL(`./worker${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url));

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}

/** A worker pool computing feature batches. Close it with {@link FeaturePool.close}. */
export class FeaturePool {
  /** Number of worker threads. */
  readonly threads: number;
  /** The backend every worker uses. */
  readonly backend: FeatureBackend;
  readonly #engineInfo: FeatureEngineInfo;
  readonly #piscina: Piscina<FeatureTask, FeatureReply>;
  #closing: Promise<void> | undefined;

  /**
   * @throws OptionError for a bad or unknown option.
   * @throws ScenescopeError NATIVE_UNAVAILABLE when `backend: "native"` (or SCENESCOPE_NATIVE=require) and the
   *   addon cannot load.
   */
  constructor(options?: FeaturePoolOptions) {
    const o = plainOptions('feature pool options', options, ['threads', 'backend']);
    this.threads = opt(o, 'threads', defaultFeatureThreads(), (name, value) => integerIn(name, value, 1, MAX_FEATURE_THREADS));
    const backend = opt(o, 'backend', 'auto', (name, value) => oneOf(name, value, ['auto', 'native', 'typescript'] as const));
    const engine = loadFeatureEngine(backend === 'auto' ? {} : backend === 'native' ? { requireNative: true } : { prefer: 'typescript' });
    this.backend = engine.backend;
    this.#engineInfo = engine.info();
    this.#piscina = new Piscina<FeatureTask, FeatureReply>({
      filename: WORKER_FILE,
      minThreads: this.threads,
      maxThreads: this.threads,
    });
  }

  /**
   * Compute the features of `count` frames in a worker.
   *
   * @param buffer `(hasPrev ? 1 : 0) + count` packed RGB24 frames of width x height, exactly. It is
   *   transferred to the worker: after the call its byteLength is 0.
   * @param hasPrev whether the first frame is only the previous frame of the first output.
   * @param signal aborts the task (the worker running it is restarted).
   * @throws OptionError for bad arguments (the buffer is then not transferred).
   * @throws AbortError when aborted; ScenescopeError WORKER_FAILED when a worker fails or the pool is closed.
   */
  async compute(buffer: ArrayBuffer, width: number, height: number, count: number, hasPrev: boolean, signal?: AbortSignal): Promise<FeatureBatch> {
    return (await this.computeReusing(buffer, width, height, count, hasPrev, { signal })).batch;
  }

  /**
   * {@link FeaturePool.compute} with buffers that go round: the frame buffer comes back (moved back from the
   * worker, not copied) so the caller can fill it again, and the features are written into `features` when it
   * has the batch's size ({@link batchBytes}(count) bytes; it is transferred too, and is then
   * `batch.scalars.buffer`). A long decode then needs a few buffers in all instead of two new ones a batch
   * (see util/buffer-pool.ts).
   * @throws what {@link FeaturePool.compute} throws.
   */
  async computeReusing(buffer: ArrayBuffer, width: number, height: number, count: number, hasPrev: boolean, options: { signal?: AbortSignal | undefined; features?: ArrayBuffer | undefined } = {}): Promise<{ batch: FeatureBatch; frames: ArrayBuffer }> {
    const { signal } = options;
    integerIn('width', width, MIN_SIDE, MAX_SIDE);
    integerIn('height', height, MIN_SIDE, MAX_SIDE);
    integerIn('count', count, 0, 2147483647);
    bool('hasPrev', hasPrev);
    if (signal !== undefined) checkSignal('signal', signal);
    const expected = (count + (hasPrev ? 1 : 0)) * width * height * 3;
    if (!(buffer instanceof ArrayBuffer)) throw invalid('ArrayBuffer', 'buffer', buffer);
    if (buffer.byteLength !== expected) {
      throw new OptionError(`Expected an ArrayBuffer of ${expected} bytes ((hasPrev ? 1 : 0) + count frames of width x height x 3) for buffer but received ${buffer.byteLength} bytes`);
    }
    if (this.#closing !== undefined) throw new ScenescopeError('WORKER_FAILED', 'The feature pool is closed');
    throwIfAborted(signal);
    const features = options.features instanceof ArrayBuffer && options.features.byteLength === batchBytes(count) && options.features !== buffer ? options.features : undefined;
    const transferList = features === undefined ? [buffer] : [buffer, features];
    let reply: FeatureReply;
    try {
      reply = await this.#piscina.run({ buffer, width, height, count, hasPrev, backend: this.backend, features }, signal === undefined ? { transferList } : { transferList, signal });
    } catch (error) {
      if (signal?.aborted === true) throw new AbortError(undefined, { cause: signal.reason });
      throw new ScenescopeError('WORKER_FAILED', `Feature worker failed: ${firstLine(error)}`, { cause: error });
    }
    if (!reply.ok) throw errorFromJSON(reply);
    return { batch: reply.batch, frames: reply.frames };
  }

  /** The backend, the native loader's findings and the thread count. */
  info(): FeaturePoolInfo {
    return { ...this.#engineInfo, native: { ...this.#engineInfo.native, errors: [...this.#engineInfo.native.errors] }, threads: this.threads };
  }

  /** Finish queued tasks and stop the workers. Safe to call more than once. */
  close(): Promise<void> {
    this.#closing ??= this.#piscina.close();
    return this.#closing;
  }
}
