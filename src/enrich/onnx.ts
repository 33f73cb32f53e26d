/**
 * ONNX sessions, in two flavours behind one small interface.
 *
 * onnxruntime-node runs inference synchronously on the thread that calls `run()`. On the main thread that
 * blocks everything else for the length of a forward pass (100 ms and more for the text detector): ffmpeg's
 * output pipe is not drained, tesseract results wait, sharp work is not dispatched. The enricher therefore
 * hosts its sessions in one worker thread ({@link OnnxHost}); tensors travel as transferred ArrayBuffers, so
 * nothing is copied. Calls are served one at a time, in order. The in-thread flavour ({@link openLocalSession})
 * serves benchmarks that time each model alone.
 */
import { Worker } from 'node:worker_threads';
import { AbortError, ModelError } from '../errors.js';
import { loadOrt } from './runtime.js';

/** A float32 tensor: data and shape. */
export interface FloatTensor {
  data: Float32Array;
  dims: readonly number[];
}

/** The part of an inference session the enricher uses. */
export interface OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Run the model; the feeds' buffers may be transferred (do not reuse them). */
  run(feeds: Record<string, FloatTensor>): Promise<Record<string, FloatTensor>>;
  release(): Promise<void>;
}

/** Session settings. */
export interface SessionSettings {
  intraOpNumThreads: number;
}

/** Open a session on the calling thread. */
export async function openLocalSession(file: string, settings: SessionSettings): Promise<OnnxSession> {
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: settings.intraOpNumThreads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' });
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds) {
      const input: Record<string, InstanceType<typeof ort.Tensor>> = {};
      for (const [name, t] of Object.entries(feeds)) input[name] = new ort.Tensor('float32', t.data, [...t.dims]);
      const outputs = await session.run(input);
      const result: Record<string, FloatTensor> = {};
      for (const [name, t] of Object.entries(outputs)) result[name] = { data: t.data as Float32Array, dims: t.dims };
      return result;
    },
    release: () => session.release(),
  };
}

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string };

/** A worker thread that holds ONNX sessions and runs them off the main thread. */
export class OnnxHost {
  private readonly worker: Worker;
  private next = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private closed = false;

  constructor() {
    this.worker = new Worker(new URL('./onnx-worker.js', import.meta.url));
    this.worker.on('message', (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      if (waiter === undefined) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(new ModelError('MODEL_FAILED', reply.message));
    });
    const failAll = (error: Error): void => {
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', (error) => failAll(new ModelError('MODEL_FAILED', `ONNX worker failed: ${error.message}`, { cause: error })));
    this.worker.on('exit', () => failAll(this.closed ? new AbortError('ONNX worker closed') : new ModelError('MODEL_FAILED', 'ONNX worker exited')));
  }

  private call<T>(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.closed) return Promise.reject(new AbortError('ONNX worker closed'));
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  /**
   * Open a session in the worker.
   * @throws ModelError MODEL_FAILED when onnxruntime cannot load the file.
   */
  async open(file: string, settings: SessionSettings): Promise<OnnxSession> {
    const info = await this.call<{ handle: number; inputNames: string[]; outputNames: string[] }>({ op: 'open', file, settings });
    return {
      inputNames: info.inputNames,
      outputNames: info.outputNames,
      run: async (feeds) => {
        const transfer: ArrayBuffer[] = [];
        const plain: Record<string, { data: Float32Array; dims: number[] }> = {};
        for (const [name, t] of Object.entries(feeds)) {
          plain[name] = { data: t.data, dims: [...t.dims] };
          if (t.data.byteOffset === 0 && t.data.byteLength === t.data.buffer.byteLength && t.data.buffer instanceof ArrayBuffer) transfer.push(t.data.buffer);
        }
        return this.call<Record<string, FloatTensor>>({ op: 'run', handle: info.handle, feeds: plain }, transfer);
      },
      release: async () => {
        if (!this.closed) await this.call({ op: 'release', handle: info.handle });
      },
    };
  }

  /** Terminate the worker (pending calls reject with AbortError). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker.terminate();
  }
}
