/**
 * The piscina worker of {@link FeaturePool}: computes one batch of features per task. Frames arrive by
 * transfer; the whole batch (one ArrayBuffer, see allocBatch, written into the task's `features` buffer when it
 * brings one) goes back by transfer, and so does the frame buffer, so the caller can fill both again: the
 * worker keeps and allocates nothing between tasks. Errors are returned as `{ ok: false, code, message }`
 * because an Error thrown across threads loses its class and code.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { ScenescopeError } from '../errors.js';
import { loadFeatureEngine, type FeatureBackend, type FeatureEngine } from './engine.js';
import type { FeatureBatch } from './types.js';

/** One task. */
export interface FeatureTask {
  /** `(hasPrev ? 1 : 0) + count` packed RGB24 frames (transferred, so detached in the sender). */
  buffer: ArrayBuffer;
  width: number;
  height: number;
  count: number;
  hasPrev: boolean;
  /** The backend the pool resolved on the main thread; the worker insists on it. */
  backend: FeatureBackend;
  /** A buffer for the features (transferred), used when it has the batch's size (see allocBatch). */
  features?: ArrayBuffer | undefined;
}

/** The reply of one task. */
export type FeatureReply = { ok: true; batch: FeatureBatch; /** The task's frame buffer, handed back. */ frames: ArrayBuffer } | { ok: false; code: string; message: string };

const engines = new Map<FeatureBackend, FeatureEngine>();

function engineFor(backend: FeatureBackend): FeatureEngine {
  let engine = engines.get(backend);
  if (engine === undefined) {
    engine = loadFeatureEngine(backend === 'native' ? { requireNative: true } : { prefer: 'typescript' });
    engines.set(backend, engine);
  }
  return engine;
}

/** A reply whose batch buffer piscina transfers instead of copying. */
class MovableReply {
  readonly #value: FeatureReply;
  readonly #transfer: ArrayBuffer[];
  constructor(value: FeatureReply, transfer: ArrayBuffer[]) {
    this.#value = value;
    this.#transfer = transfer;
  }
  get [transferableSymbol](): ArrayBuffer[] {
    return this.#transfer;
  }
  get [valueSymbol](): FeatureReply {
    return this.#value;
  }
}

/** Compute one batch. Never throws: failures become `{ ok: false, code, message }`. */
export default function computeTask(task: FeatureTask): FeatureReply | ReturnType<typeof move> {
  try {
    const engine = engineFor(task.backend);
    const batch = engine.computeBatch(new Uint8Array(task.buffer), task.width, task.height, task.count, task.hasPrev, task.features);
    return move(new MovableReply({ ok: true, batch, frames: task.buffer }, [batch.scalars.buffer as ArrayBuffer, task.buffer]));
  } catch (error) {
    if (error instanceof ScenescopeError) return { ok: false, code: error.code, message: error.message };
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { ok: false, code: 'WORKER_FAILED', message: `Feature worker failed: ${message}` };
  }
}
