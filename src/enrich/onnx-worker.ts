/**
 * The worker thread behind {@link OnnxHost} (onnx.ts): opens onnxruntime sessions and runs them, one message
 * at a time. Replies `{ id, ok, value }` or `{ id, ok: false, message }` (error classes do not cross threads).
 * Output tensors are copied into fresh buffers and transferred back.
 */
import { parentPort } from 'node:worker_threads';
import { openLocalSession, type OnnxSession } from './onnx.js';

type Message =
  | { id: number; op: 'open'; file: string; settings: { intraOpNumThreads: number } }
  | { id: number; op: 'run'; handle: number; feeds: Record<string, { data: Float32Array; dims: number[] }> }
  | { id: number; op: 'release'; handle: number };

const sessions = new Map<number, OnnxSession>();
let nextHandle = 1;
let queue: Promise<void> = Promise.resolve();

async function handle(message: Message): Promise<{ value: unknown; transfer?: ArrayBuffer[] }> {
  switch (message.op) {
    case 'open': {
      const session = await openLocalSession(message.file, message.settings);
      const handle = nextHandle++;
      sessions.set(handle, session);
      return { value: { handle, inputNames: [...session.inputNames], outputNames: [...session.outputNames] } };
    }
    case 'run': {
      const session = sessions.get(message.handle);
      if (session === undefined) throw new Error(`no session ${message.handle}`);
      const outputs = await session.run(message.feeds);
      const value: Record<string, { data: Float32Array; dims: number[] }> = {};
      const transfer: ArrayBuffer[] = [];
      for (const [name, t] of Object.entries(outputs)) {
        const data = new Float32Array(t.data);
        value[name] = { data, dims: [...t.dims] };
        transfer.push(data.buffer as ArrayBuffer);
      }
      return { value, transfer };
    }
    case 'release': {
      await sessions.get(message.handle)?.release();
      sessions.delete(message.handle);
      return { value: null };
    }
  }
}

parentPort?.on('message', (message: Message) => {
  queue = queue.then(async () => {
    try {
      const { value, transfer } = await handle(message);
      parentPort!.postMessage({ id: message.id, ok: true, value }, transfer ?? []);
    } catch (error) {
      parentPort!.postMessage({ id: message.id, ok: false, message: error instanceof Error ? error.message : String(error) });
    }
  });
});
