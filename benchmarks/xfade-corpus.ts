/**
 * Generate the independent xfade corpus (an evaluation set: nothing is tuned on it; see docs/benchmarks.md):
 *
 *   node dist/benchmarks/xfade-corpus.js [--out DIR] [--seed N] [--clips N] [--ffmpeg PATH] [--photos DIR]
 *                                        [--real DIR] [--size WxH]
 *
 * Transitions come from ffmpeg's own `xfade` filter (Debian's ffmpeg 5.1 at /usr/bin/ffmpeg by default; the
 * product keeps its bundled 4.1, which has no xfade), sources are skimage's photographs under Ken Burns motion
 * and real shots cut between two certain hard cuts of ../shared/media/real. Defaults: /tmp/xfade-corpus, seed
 * 1, 12 clips (every fourth a distractor clip), 640x360. Prints one JSON line per clip and a summary line.
 */
import { parseArgs } from 'node:util';
import path from 'node:path';
import { generateXfadeCorpus, listPhotoFiles, XfadeError, DEFAULT_XFADE_FFMPEG } from './xfade/render.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: '/tmp/xfade-corpus' },
      seed: { type: 'string', default: '1' },
      clips: { type: 'string', default: '12' },
      ffmpeg: { type: 'string', default: DEFAULT_XFADE_FFMPEG },
      photos: { type: 'string' },
      real: { type: 'string' },
      size: { type: 'string', default: '640x360' },
    },
  });
  const seed = Number(values.seed);
  const clips = Number(values.clips);
  const size = /^(\d+)x(\d+)$/.exec(values.size);
  if (!Number.isInteger(seed) || seed < 0 || !Number.isInteger(clips) || clips < 1 || size === null || Number(size[1]) % 2 !== 0 || Number(size[2]) % 2 !== 0) {
    process.stderr.write('Usage: xfade-corpus [--out DIR] [--seed N>=0] [--clips N>=1] [--ffmpeg PATH] [--photos DIR] [--real DIR] [--size WxH even]\n');
    return 2;
  }
  if (seed >= 50000) {
    process.stderr.write('Seeds >= 50000 are reserved for the held-out check\n');
    return 2;
  }
  const started = Date.now();
  const cpu0 = process.resourceUsage();
  const out = path.resolve(values.out);
  const manifest = await generateXfadeCorpus({
    out,
    seed,
    clips,
    ffmpeg: values.ffmpeg,
    photos: values.photos === undefined ? undefined : await listPhotoFiles(values.photos),
    real: values.real,
    width: Number(size[1]),
    height: Number(size[2]),
    onClip: (name, i, n) => {
      if (process.stderr.isTTY) process.stderr.write(`\r${name} (clip ${i + 1}/${n})   `);
    },
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  for (const c of manifest.clips) process.stdout.write(JSON.stringify({ type: 'clip', ...c }) + '\n');
  const cpu = process.resourceUsage();
  const { clips: _clips, ...rest } = manifest;
  process.stdout.write(JSON.stringify({ type: 'summary', generator: 'xfade', out, ...rest, clips: manifest.clips.length, video_seconds: Math.round(manifest.clips.reduce((s, c) => s + c.frames / c.fps, 0)), wall_seconds: (Date.now() - started) / 1000, node_cpu_seconds: (cpu.userCPUTime + cpu.systemCPUTime - cpu0.userCPUTime - cpu0.systemCPUTime) / 1e6 }) + '\n');
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof XfadeError ? `${error.code}: ` : ''}${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
