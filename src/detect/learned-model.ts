/**
 * Running the learned gradual model (models/gradual/gradual-v1.onnx, trained by training/gradual/train.py) with
 * onnxruntime-node, the optional peer dependency. This is the only asynchronous part of the learned detector:
 * it turns a feature series into per-frame class probabilities, which learned.ts then reads synchronously.
 *
 * The series is read in chunks of {@link CHUNK_FRAMES} frames with {@link CHUNK_MARGIN} frames either side (more
 * than the input features' reach plus the network's half receptive field, 26 + 22 frames), and only each
 * chunk's core is kept: a long video never needs its whole series in memory, and a frame's probabilities do not
 * depend on where the chunks fall. One intra-op thread: the model is tiny (21k parameters, about 40k
 * multiply-adds a frame) and a single thread keeps the sums in one order.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { ModelError } from '../errors.js';
import { packageRoot } from '../models/registry.js';
import { LEARNED_CHANNELS, learnedInput } from './learned-features.js';
import type { FeatureSeries } from './series.js';

/** The committed model, relative to the package root. */
export const LEARNED_MODEL_FILE = 'models/gradual/gradual-v1.onnx';
/** sha256 of {@link LEARNED_MODEL_FILE}; training/gradual/README.md reproduces it. */
export const LEARNED_MODEL_SHA256 = '3953b8515a12924e6bffaa160316f8cffe34275c03f139f7865d235e4a737f6f';
/** Frames of a chunk's core. */
export const CHUNK_FRAMES = 4096;
/** Frames read either side of a chunk's core. */
export const CHUNK_MARGIN = 64;

type Ort = typeof import('onnxruntime-node');

/** The loaded model. */
export interface LearnedModel {
  /**
   * Per-frame probabilities (frame-major, 5 per frame: none, dissolve, wipe, fade, cut) for frames [0, count)
   * of a series read through `read(start, end)` (frames [start, end) as a series).
   */
  probabilities(count: number, read: (start: number, end: number) => FeatureSeries, signal?: AbortSignal): Promise<Float32Array>;
}

let ortPromise: Promise<Ort> | undefined;
let modelPromise: Promise<LearnedModel> | undefined;

/** The committed model's absolute path. */
export function learnedModelPath(): string {
  return join(packageRoot(), LEARNED_MODEL_FILE);
}

async function loadOrt(): Promise<Ort> {
  ortPromise ??= import('onnxruntime-node').catch((error: unknown) => {
    ortPromise = undefined;
    throw new ModelError('MODEL_UNAVAILABLE', `The "learned" detector needs onnxruntime-node (npm install onnxruntime-node): ${(error as Error).message}`, { cause: error });
  });
  return ortPromise;
}

/**
 * Load the learned model once per process (later calls share it).
 * @throws ModelError MODEL_UNAVAILABLE when onnxruntime-node is not installed or the model file is missing or
 *   not the committed one (sha256 differs); MODEL_FAILED when onnxruntime cannot open it.
 */
export function loadLearnedModel(): Promise<LearnedModel> {
  modelPromise ??= (async (): Promise<LearnedModel> => {
    const ort = await loadOrt();
    const file = learnedModelPath();
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (error) {
      throw new ModelError('MODEL_UNAVAILABLE', `Cannot read the learned gradual model ${file}: ${(error as Error).message}`, { cause: error, details: { path: file } });
    }
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== LEARNED_MODEL_SHA256) throw new ModelError('MODEL_UNAVAILABLE', `The learned gradual model ${file} is not the committed one (sha256 ${sha})`, { details: { path: file, sha256: sha } });
    let session: InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
    } catch (error) {
      throw new ModelError('MODEL_FAILED', `onnxruntime cannot open ${file}: ${(error as Error).message}`, { cause: error, details: { path: file } });
    }
    return {
      async probabilities(count, read, signal) {
        const out = new Float32Array(count * 5);
        for (let core = 0; core < count; core += CHUNK_FRAMES) {
          signal?.throwIfAborted();
          const coreEnd = Math.min(count, core + CHUNK_FRAMES);
          const from = Math.max(0, core - CHUNK_MARGIN);
          const to = Math.min(count, coreEnd + CHUNK_MARGIN);
          const series = read(from, to);
          const len = to - from;
          const input = new ort.Tensor('float32', learnedInput(series), [1, LEARNED_CHANNELS, len]);
          let result: InferenceSession.OnnxValueMapType;
          try {
            result = await session.run({ features: input });
          } catch (error) {
            throw new ModelError('MODEL_FAILED', `The learned gradual model failed: ${(error as Error).message}`, { cause: error });
          }
          const probs = result.probs!.data as Float32Array;
          for (let f = core; f < coreEnd; f++) for (let c = 0; c < 5; c++) out[f * 5 + c] = probs[c * len + (f - from)]!;
        }
        return out;
      },
    };
  })().catch((error: unknown) => {
    modelPromise = undefined;
    throw error;
  });
  return modelPromise;
}
