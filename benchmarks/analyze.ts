/**
 * Full analysis speed: analyzeFile (probe, detect, enrich with the given models) on a video, as a ratio to the
 * video's duration. Prints one JSON line.
 *
 *   node dist/benchmarks/analyze.js <video> [--models ../shared/models]
 *
 * The target is at most 0.25x for a 720p clip with the default models; a clip rendered by
 * `node dist/benchmarks/corpus.js --speed --sizes 720p` (100 s, a transition every ~3 s) is a fair input.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { analyzeFile } from '../src/api/analyze.js';
import { probe } from '../src/media/probe.js';

const { values, positionals } = parseArgs({ options: { models: { type: 'string', default: path.resolve('..', 'shared', 'models') } }, allowPositionals: true });
const file = positionals[0];
if (file === undefined) throw new Error('usage: node dist/benchmarks/analyze.js <video> [--models dir]');
const duration = (await probe(file)).metadata.duration_seconds ?? NaN;
const thumbs = mkdtempSync(path.join(tmpdir(), 'scenescope-bench-thumbs-'));
try {
  const start = performance.now();
  const result = await analyzeFile(file, { modelsDir: values.models!, thumbnailsDir: thumbs });
  const seconds = (performance.now() - start) / 1000;
  console.log(
    JSON.stringify({
      trial: 'analyzeFile',
      video: path.basename(file),
      resolution: result.video.resolution,
      duration_s: duration,
      scenes: result.scenes.length,
      analysis_s: +seconds.toFixed(2),
      ratio_to_duration: +(seconds / duration).toFixed(3),
      scenes_with_text: result.scenes.filter((s) => s.visible_text !== null).length,
      failures: result.scenes.reduce((n, s) => n + s.failures.length, 0),
      models: result.models.filter((m) => m.status === 'loaded').map((m) => m.id),
    }),
  );
} finally {
  rmSync(thumbs, { recursive: true, force: true });
}
