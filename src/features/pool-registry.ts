/**
 * One feature pool per process. Concurrent detections share a pool (of the same thread count and backend)
 * instead of each starting worker threads of their own: ten analyses at once used to start ten pools and ten
 * times the threads on the same cores. A pool is reference-counted and closed as soon as the last user
 * releases it and no one has taken it again by the next turn of the event loop, so an idle process holds no
 * worker thread and can exit.
 */
import { FeaturePool, type FeaturePoolOptions } from './pool.js';

interface Entry {
  pool: FeaturePool;
  refs: number;
  idle: NodeJS.Immediate | undefined;
}

const entries = new Map<string, Entry>();
let created = 0;

/** A use of the shared pool: release it exactly once when done. */
export interface PoolLease {
  pool: FeaturePool;
  /** Give the pool back; it closes when no one else holds it. Safe to call more than once. */
  release(): void;
}

/**
 * Take the process's feature pool for these options (made on first use).
 * @throws what the FeaturePool constructor throws (OptionError, NATIVE_UNAVAILABLE).
 */
export function acquireFeaturePool(options: { threads: number; backend: NonNullable<FeaturePoolOptions['backend']> }): PoolLease {
  const key = `${options.threads}:${options.backend}`;
  let entry = entries.get(key);
  if (entry === undefined) {
    entry = { pool: new FeaturePool({ threads: options.threads, backend: options.backend }), refs: 0, idle: undefined };
    created++;
    entries.set(key, entry);
  }
  const held = entry;
  if (held.idle !== undefined) clearImmediate(held.idle);
  held.idle = undefined;
  held.refs++;
  let released = false;
  return {
    pool: held.pool,
    release() {
      if (released) return;
      released = true;
      if (--held.refs > 0) return;
      held.idle = setImmediate(() => {
        if (held.refs > 0 || entries.get(key) !== held) return;
        entries.delete(key);
        void held.pool.close();
      });
    },
  };
}

/** Pools alive now and pools made since the process started (for tests and benchmarks). */
export function featurePoolStats(): { alive: number; created: number } {
  return { alive: entries.size, created };
}
