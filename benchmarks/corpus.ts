/**
 * Generate the benchmark corpus (not committed; see docs/benchmarks.md):
 *
 *   node dist/benchmarks/corpus.js [--photos DIR] [--out DIR] [--seed N] [--clips N] [--size WxH]
 *   node dist/benchmarks/corpus.js --speed [--sizes 480p,720p,1080p] [--frames N] [--out DIR]
 *   node dist/benchmarks/corpus.js --realistic [--real DIR] [--photos DIR] [--out DIR] [--seed N] [--clips N] [--size WxH]
 *
 * --realistic makes the issue-8 corpus (src/bench/realistic.ts): shots cut out of ../shared/media/real (or
 * photos when it is absent; --real '' forces photos), moving through every transition, with overlays, wipe
 * families, montages, flashes, cut-then-fade and distractors. Defaults: 8 clips at 512x288.
 *
 * Photos default to $SCENESCOPE_PHOTOS, else Debian's mate-backgrounds photos (scripts/get-photos.sh installs
 * them). Prints one JSON line per clip and a summary line.
 */
import { parseArgs } from 'node:util';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { defaultPhotoDir, generateCorpus, generateSpeedClips, SPEED_SIZES, type SpeedSize } from '../src/bench/corpus.js';
import { generateRealisticCorpus } from '../src/bench/realistic.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      photos: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string', default: '1' },
      clips: { type: 'string', default: '12' },
      size: { type: 'string', default: '640x360' },
      speed: { type: 'boolean', default: false },
      realistic: { type: 'boolean', default: false },
      real: { type: 'string' },
      sizes: { type: 'string', default: '480p,720p,1080p' },
      frames: { type: 'string', default: '3000' },
      fps: { type: 'string', default: '30' },
    },
  });
  const started = Date.now();
  if (values.realistic) {
    const [width, height] = (values.size === '640x360' ? '512x288' : values.size).split('x').map(Number) as [number, number];
    const out = path.resolve(values.out ?? '/tmp/scenescope-realistic');
    const clips = values.clips === '12' ? 8 : Number(values.clips);
    const manifest = await generateRealisticCorpus({ out, seed: Number(values.seed), clips, width, height, real: values.real, photos: values.photos, onProgress: (p) => {
      if (process.stderr.isTTY) process.stderr.write(`\r${p.clip} ${p.frame}/${p.frames} (clip ${p.clipsDone + 1}/${p.clips})   `);
    } });
    if (process.stderr.isTTY) process.stderr.write('\n');
    for (const c of manifest.clips) process.stdout.write(JSON.stringify({ type: 'clip', ...c }) + '\n');
    process.stdout.write(JSON.stringify({ type: 'summary', generator: 'realistic', out, seed: manifest.seed, sources: manifest.sources, clips: manifest.clips.length, frames: manifest.clips.reduce((n, c) => n + c.frames, 0), transitions: manifest.transitions, distractors: manifest.distractors, wall_seconds: (Date.now() - started) / 1000 }) + '\n');
    return 0;
  }
  const photos = values.photos ?? defaultPhotoDir();
  if (photos === undefined) {
    process.stderr.write('No photos: run scripts/get-photos.sh (Debian mate-backgrounds) or pass --photos DIR\n');
    return 2;
  }
  let last = '';
  const onProgress = (p: { clip: string; frame: number; frames: number; clipsDone: number; clips: number }): void => {
    const line = `${p.clip} ${p.frame}/${p.frames} (clip ${Math.min(p.clipsDone + 1, p.clips)}/${p.clips})`;
    if (process.stderr.isTTY && line !== last) process.stderr.write(`\r${line}   `);
    last = line;
  };
  if (values.speed) {
    const sizes = values.sizes.split(',').map((s) => s.trim()) as SpeedSize[];
    for (const s of sizes) if (!(s in SPEED_SIZES)) throw new Error(`Unknown size ${s}; use ${Object.keys(SPEED_SIZES).join(', ')}`);
    const out = path.resolve(values.out ?? '/tmp/scenescope-speed');
    const clips = await generateSpeedClips({ photos, out, sizes, frames: Number(values.frames), fps: Number(values.fps), seed: Number(values.seed), onProgress });
    if (process.stderr.isTTY) process.stderr.write('\n');
    for (const c of clips) process.stdout.write(JSON.stringify({ type: 'speed-clip', ...c }) + '\n');
    process.stdout.write(JSON.stringify({ type: 'summary', out, seconds: (Date.now() - started) / 1000 }) + '\n');
    return 0;
  }
  const [width, height] = values.size.split('x').map(Number) as [number, number];
  const out = path.resolve(values.out ?? '/tmp/scenescope-corpus');
  const manifest = await generateCorpus({ photos, out, seed: Number(values.seed), clips: Number(values.clips), width, height, onProgress });
  if (process.stderr.isTTY) process.stderr.write('\n');
  for (const c of manifest.clips) {
    const truth = JSON.parse(await readFile(path.join(out, c.truth), 'utf8')) as { transitions: { kind: string }[] };
    process.stdout.write(JSON.stringify({ type: 'clip', ...c, kinds: truth.transitions.map((t) => t.kind).join(' ') }) + '\n');
  }
  process.stdout.write(
    JSON.stringify({ type: 'summary', out, photos, seed: manifest.seed, clips: manifest.clips.length, frames: manifest.frames, video_seconds: Math.round(manifest.seconds), transitions: manifest.transitions, distractors: manifest.distractors, wall_seconds: (Date.now() - started) / 1000 }) + '\n',
  );
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
