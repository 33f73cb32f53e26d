/**
 * The process-wide limit on analyses running at once. Each detection keeps ffmpeg's decoder and a feature
 * worker busy, and each analysis adds model inference on top: more of them at once than there are cores only
 * makes every one slower and multiplies memory (ten concurrent analyses took 8.6x as long as one and 1.76 GB).
 * Calls beyond the limit wait in order; a waiting call can be aborted. A call made from inside a running one
 * (analyzeFile -> detectScenes) runs in its caller's slot.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { availableParallelism } from 'node:os';
import { AbortError, throwIfAborted } from '../errors.js';
import { integerIn } from '../util/validate.js';

/**
 * The default limit: half the available cores (a detection keeps about two busy: the decoder and the feature
 * worker), at least 1.
 */
export function defaultAnalysisConcurrency(): number {
  return Math.max(1, Math.floor(availableParallelism() / 2));
}

let limit = defaultAnalysisConcurrency();
let active = 0;
const waiting: (() => void)[] = [];
const inSlot = new AsyncLocalStorage<boolean>();

/**
 * Set how many detections and analyses may run at once in this process (default
 * {@link defaultAnalysisConcurrency}). Calls already running are not interrupted.
 * @throws OptionError when `n` is not an integer from 1 to 256.
 */
export function setAnalysisConcurrency(n: number): void {
  limit = integerIn('analysis concurrency', n, 1, 256);
  wake();
}

/** The limit, how many run now and how many wait. */
export function analysisConcurrency(): { limit: number; active: number; waiting: number } {
  return { limit, active, waiting: waiting.length };
}

function wake(): void {
  while (active < limit && waiting.length > 0) {
    active++;
    waiting.shift()!();
  }
}

/**
 * Run `work` in an analysis slot, waiting for one when all are taken.
 * @throws AbortError when `signal` aborts while waiting.
 */
export async function withAnalysisSlot<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
  if (inSlot.getStore() === true) return work();
  throwIfAborted(signal);
  if (active < limit) active++;
  else {
    await new Promise<void>((resolve, reject) => {
      const ready = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const at = waiting.indexOf(ready);
        if (at >= 0) waiting.splice(at, 1);
        reject(new AbortError(undefined, { cause: signal?.reason }));
      };
      waiting.push(ready);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
  try {
    return await inSlot.run(true, work);
  } finally {
    active--;
    wake();
  }
}
