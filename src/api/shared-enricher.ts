/**
 * One enricher (one set of model sessions, one ONNX worker, one OCR pool) per process for each distinct set of
 * enrichment options. Concurrent analyses with the same options share it instead of each loading every model
 * again; it is reference-counted and closed as soon as the last analysis releases it (and no one takes it
 * again by the next turn of the event loop), so an idle process holds no thread and can exit. The per-call
 * parts (thumbnail folder, abort signal) travel with each scene instead.
 */
import type { Enricher, EnricherOptions } from '../enrich/types.js';

interface Entry {
  enricher: Promise<Enricher>;
  refs: number;
  idle: NodeJS.Immediate | undefined;
}

const entries = new Map<string, Entry>();
let created = 0;

/** A use of a shared enricher: release it exactly once when done. */
export interface EnricherLease {
  enricher: Enricher;
  /** Give it back; it closes when no one else holds it. Safe to call more than once. */
  release(): void;
}

function keyOf(options: EnricherOptions): string {
  const { signal: _signal, thumbnails, ...rest } = options;
  return JSON.stringify({ ...rest, thumbnails: thumbnails === undefined || thumbnails === null ? thumbnails : { ...thumbnails, dir: '' } });
}

/**
 * Take the process's enricher for these options (made on first use). `options.signal` and
 * `options.thumbnails.dir` are not part of the sharing: pass them per scene.
 * @throws what createEnricher throws.
 */
export async function acquireEnricher(options: EnricherOptions): Promise<EnricherLease> {
  const key = keyOf(options);
  let entry = entries.get(key);
  if (entry === undefined) {
    const { signal: _signal, ...shared } = options;
    const made = import('../enrich/index.js').then(({ createEnricher }) => createEnricher(shared));
    entry = { enricher: made, refs: 0, idle: undefined };
    created++;
    entries.set(key, entry);
    const failed = entry;
    made.catch(() => {
      if (entries.get(key) === failed) entries.delete(key);
    });
  }
  const held = entry;
  if (held.idle !== undefined) clearImmediate(held.idle);
  held.idle = undefined;
  held.refs++;
  let enricher: Enricher;
  try {
    enricher = await held.enricher;
  } catch (error) {
    held.refs--;
    throw error;
  }
  let released = false;
  return {
    enricher,
    release() {
      if (released) return;
      released = true;
      if (--held.refs > 0) return;
      held.idle = setImmediate(() => {
        if (held.refs > 0 || entries.get(key) !== held) return;
        entries.delete(key);
        void enricher.close().catch(() => undefined);
      });
    },
  };
}

/** Enrichers alive now and made since the process started (for tests and benchmarks). */
export function enricherStats(): { alive: number; created: number } {
  return { alive: entries.size, created };
}
