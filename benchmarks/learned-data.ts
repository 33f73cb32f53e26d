/**
 * Training data for the learned gradual-transition model (training/gradual/README.md):
 *
 *   node dist/benchmarks/learned-data.js --out DIR [--stats-dir DIR] DATASET_DIR...
 *
 * For every annotated video of each dataset (any format `scenescope bench` reads), decodes the per-frame
 * features once (kept in --stats-dir, default <out>/stats, so later runs and `bench --stats-dir` reuse them),
 * computes the model input of src/detect/learned-features.ts and writes, per video, `<tag>.f32` (float32,
 * channel-major [channels][frames]) and one `index.json` with each video's frame count, frame rate and
 * per-frame labels: 0 no transition, 1 inside a dissolve, 2 inside a wipe, 3 inside a fade, 4 a cut's frame
 * (5 inside a transition of unspecified kind). Distractor spans stay 0 (they are the hard negatives).
 */
import { parseArgs } from 'node:util';
import path from 'node:path';
import { mkdir, writeFile } from 'node:fs/promises';
import { readDataset } from '../src/bench/annotations.js';
import { detectScenes } from '../src/api/detect.js';
import { LEARNED_CHANNELS, learnedInput } from '../src/detect/learned-features.js';

const LABEL: Record<string, number> = { dissolve: 1, wipe: 2, fade: 3, cut: 4, gradual: 5 };

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { out: { type: 'string' }, 'stats-dir': { type: 'string' } } });
  if (values.out === undefined || positionals.length === 0) {
    process.stderr.write('usage: learned-data --out DIR [--stats-dir DIR] DATASET_DIR...\n');
    return 2;
  }
  const out = path.resolve(values.out);
  const statsDir = path.resolve(values['stats-dir'] ?? path.join(out, 'stats'));
  await mkdir(out, { recursive: true });
  await mkdir(statsDir, { recursive: true });
  const index: { tag: string; dataset: string; video: string; frames: number; fps: number; channels: number; labels: number[] }[] = [];
  for (const dir of positionals) {
    const entries = await readDataset(path.resolve(dir), 'auto');
    for (const e of entries) {
      const tag = `${path.basename(path.resolve(dir))}__${e.name}`;
      const result = await detectScenes(e.video, { statsFile: path.join(statsDir, `${tag}.stats.csv`) });
      try {
        const series = result.features;
        const x = learnedInput(series);
        const labels = new Array<number>(series.count).fill(0);
        for (const t of e.truth) {
          const v = LABEL[t.kind] ?? 5;
          if (t.kind === 'cut') {
            if (t.frame < series.count) labels[t.frame] = v;
            continue;
          }
          for (let f = Math.max(0, t.start_frame); f <= Math.min(series.count - 1, t.end_frame); f++) labels[f] = v;
        }
        await writeFile(path.join(out, `${tag}.f32`), Buffer.from(x.buffer, x.byteOffset, x.byteLength));
        index.push({ tag, dataset: path.resolve(dir), video: e.video, frames: series.count, fps: series.frameRate, channels: LEARNED_CHANNELS, labels });
        process.stdout.write(JSON.stringify({ type: 'clip', tag, frames: series.count }) + '\n');
      } finally {
        result.release();
      }
    }
  }
  await writeFile(path.join(out, 'index.json'), JSON.stringify(index));
  process.stdout.write(JSON.stringify({ type: 'summary', out, clips: index.length, frames: index.reduce((n, c) => n + c.frames, 0) }) + '\n');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
