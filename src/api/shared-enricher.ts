/**
 * One enricher (one set of model sessions, one ONNX worker, one OCR pool) per process for each distinct set of
 * enrichment options. Concurrent analyses with the same options share it instead of each loading every model
 * again; it is reference-counted and closed once the last analysis releases it and no other analysis is
 * running or queued behind the concurrency limit (those would load the same models again), so an idle process
 * holds no thread and can exit. The per-call
 * parts (thumbnail folder, abort signal) travel with each scene instead.
 */
import type { Enricher, EnricherOptions } from '../enrich/types.js';
import { analysisConcurrency } from './limit.js';

interface Entry {
  enricher: Promise<Enricher>;
  refs: number;
  /** The pending close check, if any. */
  idle: { kind: 'immediate'; handle: NodeJS.Immediate } | { kind: 'timeout'; handle: NodeJS.Timeout } | undefined;
}

const entries = new Map<string, Entry>();
let created = 0;

function clearIdle(entry: Entry): void {
  if (entry.idle === undefined) return;
  if (entry.idle.kind === 'timeout') clearTimeout(entry.idle.handle);
  else clearImmediate(entry.idle.handle);
  entry.idle = undefined;
}

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
  clearIdle(held);
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
      const closeWhenUnused = (): void => {
        held.idle = undefined;
        if (held.refs > 0 || entries.get(key) !== held) return;
        // Analyses queued behind the limit (or still detecting) will want the same models: loading them
        // again for each would cost more than keeping them a little longer. Look again shortly.
        const { active, waiting } = analysisConcurrency();
        if (waiting > 0 || active > 1) {
          held.idle = { kind: 'timeout', handle: setTimeout(closeWhenUnused, 250) };
          return;
        }
        entries.delete(key);
        void enricher.close().catch(() => undefined);
      };
      held.idle = { kind: 'immediate', handle: setImmediate(closeWhenUnused) };
    },
  };
}

/** Enrichers alive now and made since the process started (for tests and benchmarks). */
export function enricherStats(): { alive: number; created: number } {
  return { alive: entries.size, created };
}
