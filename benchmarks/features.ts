/**
 * Feature kernel and worker pool speed, as JSON lines (not part of `npm test`):
 *
 *   node dist/benchmarks/features.js [--frames 1536] [--repeat 3] [--video PATH]
 *
 * Trials:
 * - kernel: native vs TypeScript time per 192x108 frame, one thread, no pool.
 * - pool: frames/s through FeaturePool for 1 and 2 worker threads and batches of 16, 64 and 256 frames
 *   (buffers prepared beforehand, so this is the pool alone: transfer, worker, transfer back).
 * - pipeline: the product's own path (computeFeatureSeries, as detectScenes runs it) on the video, for 1 and 2
 *   worker threads, beside ffmpeg's own decode of the same file. On a 2-core machine this is where one worker
 *   versus two is decided: ffmpeg keeps the cores busy.
 *
 * Frames come from ../shared/media/peer/testvideo.mp4 when present (or --video), else from ffmpeg's testsrc2.
 */
import { performance } from 'node:perf_hooks';
import { existsSync, mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { findPackageRoot, loadFeatureEngine } from '../src/features/engine.js';
import { allocBatch, computeFeaturesTS, type ComputeFeatures } from '../src/features/kernel.js';
import { FeaturePool } from '../src/features/pool.js';
import { fileUrl, resolveFfmpegPaths, runTool, safeInputArgs } from '../src/media/ffmpeg.js';
import { computeFeatureSeries, resolveDetectOptions } from '../src/api/detect.js';
import { probe } from '../src/media/probe.js';

const W = 192;
const H = 108;
const FRAME = W * H * 3;

function line(record: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(record) + '\n');
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function inputArgs(video: string | undefined): string[] {
  return video === undefined ? ['-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=30`] : [...safeInputArgs(), '-i', fileUrl(video)];
}

function decodeArgs(video: string | undefined, frames: number | undefined): string[] {
  return [
    '-v', 'error', ...inputArgs(video), ...(frames === undefined ? [] : ['-frames:v', String(frames)]),
    '-an', '-vf', `scale=${W}:${H}`, '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1',
  ];
}

async function decodeFrames(ffmpeg: string, video: string | undefined, frames: number): Promise<Uint8Array> {
  const { code, stdout, stderr } = await runTool(ffmpeg, decodeArgs(video, frames));
  if (code !== 0 || stdout.length < FRAME) throw new Error(`ffmpeg failed (${code}): ${stderr}`);
  return new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.length - (stdout.length % FRAME));
}

function kernelTrial(backend: string, compute: ComputeFeatures, frames: Uint8Array, repeat: number): number {
  const count = frames.length / FRAME;
  const batch = allocBatch(count);
  compute(frames.subarray(0, 2 * FRAME), W, H, 2, false, batch.scalars.subarray(0, 18), batch.hist.subarray(0, 128), batch.hash.subarray(0, 4), batch.grid.subarray(0, 864)); // warm-up
  const times: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const t = performance.now();
    const c = process.cpuUsage();
    compute(frames, W, H, count, false, batch.scalars, batch.hist, batch.hash, batch.grid);
    const used = process.cpuUsage(c);
    times.push((performance.now() - t) / count);
    cpu.push((used.user + used.system) / 1000 / count);
  }
  const ms = median(times);
  // CPU time beside wall time: on a shared machine the wall clock also counts time spent descheduled.
  line({ trial: 'kernel', backend, width: W, height: H, frames: count, repeat, ms_per_frame: +ms.toFixed(4), cpu_ms_per_frame: +median(cpu).toFixed(4), frames_per_s: Math.round(1000 / ms) });
  return ms;
}

/** Buffers of `batch` frames (+1 previous frame after the first), cycling through `source`. */
function prepareBatches(source: Uint8Array, total: number, batch: number): { buffer: ArrayBuffer; count: number; hasPrev: boolean }[] {
  const sourceFrames = source.length / FRAME;
  const out: { buffer: ArrayBuffer; count: number; hasPrev: boolean }[] = [];
  for (let start = 0; start < total; start += batch) {
    const count = Math.min(batch, total - start);
    const hasPrev = start > 0;
    const bytes = new Uint8Array((count + (hasPrev ? 1 : 0)) * FRAME);
    for (let k = 0; k < count + (hasPrev ? 1 : 0); k++) {
      const frame = (start - (hasPrev ? 1 : 0) + k) % sourceFrames;
      bytes.set(source.subarray(frame * FRAME, (frame + 1) * FRAME), k * FRAME);
    }
    out.push({ buffer: bytes.buffer, count, hasPrev });
  }
  return out;
}

async function poolTrial(source: Uint8Array, total: number, threads: number, batch: number, repeat: number): Promise<void> {
  const pool = new FeaturePool({ threads });
  try {
    const warm = prepareBatches(source, threads * 8, 8);
    await Promise.all(warm.map((b) => pool.compute(b.buffer, W, H, b.count, b.hasPrev)));
    const rates: number[] = [];
    const cpu: number[] = [];
    for (let r = 0; r < repeat; r++) {
      const batches = prepareBatches(source, total, batch);
      const inflight = new Set<Promise<unknown>>();
      const t = performance.now();
      const c = process.cpuUsage();
      for (const b of batches) {
        const p = pool.compute(b.buffer, W, H, b.count, b.hasPrev).finally(() => inflight.delete(p));
        inflight.add(p);
        if (inflight.size >= threads + 2) await Promise.race(inflight);
      }
      await Promise.all(inflight);
      rates.push((total * 1000) / (performance.now() - t));
      const used = process.cpuUsage(c);
      cpu.push((used.user + used.system) / 1000 / total);
    }
    // cpu_ms_per_frame: all threads of this process (main + workers), so it includes transfer and scheduling.
    line({ trial: 'pool', backend: pool.backend, threads, batch, frames: total, repeat, frames_per_s: Math.round(median(rates)), cpu_ms_per_frame: +median(cpu).toFixed(4) });
  } finally {
    await pool.close();
  }
}

/**
 * The product's own decode -> feature pool path (computeFeatureSeries, as detectScenes runs it) on a file;
 * returns wall ms and frames.
 */
async function pipelineRun(file: string, threads: number, batch: number): Promise<{ ms: number; frames: number }> {
  const probed = await probe(file);
  const t = performance.now();
  const { series } = await computeFeatureSeries(probed, resolveDetectOptions({ workerThreads: threads, batchFrames: batch }));
  return { ms: performance.now() - t, frames: series.count };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { frames: { type: 'string', default: '1536' }, repeat: { type: 'string', default: '3' }, video: { type: 'string' } } });
  const total = Number(values.frames);
  const repeat = Number(values.repeat);
  const root = findPackageRoot();
  const shared = root === null ? undefined : path.resolve(root, '..', 'shared', 'media', 'peer', 'testvideo.mp4');
  const video = values.video ?? (shared !== undefined && existsSync(shared) ? shared : undefined);
  const { ffmpeg } = resolveFfmpegPaths();
  line({ trial: 'setup', cores: availableParallelism(), source: video ?? 'lavfi testsrc2', width: W, height: H, loadavg: (await import('node:os')).loadavg().map((v) => +v.toFixed(2)) });

  const source = await decodeFrames(ffmpeg, video, 256);
  const engine = loadFeatureEngine();
  let nativeMs: number | undefined;
  if (engine.backend === 'native') nativeMs = kernelTrial('native', engine.compute, source, repeat);
  else line({ trial: 'kernel', backend: 'native', skipped: engine.info().native.errors.join('; ') });
  const tsMs = kernelTrial('typescript', computeFeaturesTS, source, repeat);
  if (nativeMs !== undefined) line({ trial: 'kernel-ratio', typescript_over_native: +(tsMs / nativeMs).toFixed(2) });

  for (const threads of [1, 2]) {
    for (const batch of [16, 64, 256]) await poolTrial(source, total, threads, batch, repeat);
  }

  // The pipeline trial needs a file: the peer clip, or a generated one.
  let file = video;
  if (file === undefined) {
    file = path.join(mkdtempSync(path.join(tmpdir(), 'scenescope-features-')), 'testsrc2.mp4');
    const { code, stderr } = await runTool(ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=25`, '-frames:v', String(total), '-c:v', 'libx264', file]);
    if (code !== 0) throw new Error(stderr);
  }
  const decodeOnly: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const t = performance.now();
    const { code, stderr } = await runTool(ffmpeg, ['-v', 'error', '-i', file, '-an', '-f', 'null', '-']);
    if (code !== 0) throw new Error(stderr);
    decodeOnly.push(performance.now() - t);
  }
  const base = median(decodeOnly);
  line({ trial: 'pipeline', what: 'ffmpeg decode only (-f null)', ms: Math.round(base) });
  for (const threads of [1, 2]) {
    const runs: { ms: number; frames: number }[] = [];
    for (let r = 0; r < repeat; r++) runs.push(await pipelineRun(file, threads, 64));
    const ms = median(runs.map((r) => r.ms));
    line({ trial: 'pipeline', what: 'computeFeatureSeries (batch 64)', backend: engine.backend, threads, frames: runs[0]!.frames, ms: Math.round(ms), ratio_to_decode: +(ms / base).toFixed(3) });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exitCode = 1;
});
