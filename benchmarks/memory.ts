/**
 * Peak memory against video length, as JSON lines (not part of `npm test`):
 *
 *   node dist/benchmarks/memory.js [--minutes 10,60,240] [--baseline-minutes 10,60] [--fps 30]
 *
 * Trial "detect-length": `detectScenes` on a generated clip of each length, each run in a fresh process, so
 * its peak RSS (`process.resourceUsage().maxRSS`) is the run's own. The clip is one minute of 64x36 shots with
 * cuts and a fade (encoded once) looped with `-stream_loop` and stream-copied, so making a 4-hour file costs
 * nothing and decoding is fast; analysis is at the default 192x108 all the same, so the features per frame are
 * the product's. "baseline" is the previous path (the whole series in memory, one detection pass over it),
 * measured in the same run for comparison. CPU time is reported beside wall time (the machine may be shared).
 * `peak_rss_mb` is the detecting process (main thread and feature worker threads: one process);
 * `ffmpeg_peak_rss_mb` is the decoder child's own peak, apart. `--baseline-minutes ''` skips the baseline.
 * Acceptance (issue 12 item 4): peak RSS <= 250 MB at 4 hours.
 *
 *   node dist/benchmarks/memory.js --concurrent 1,10 [--models DIR] [--minutes '']
 *
 * Trial "analyze-concurrency": N `analyzeFile` calls at once in one process (each on its own copy of a 12 s
 * 320x180 clip with cuts), with the default concurrency limit and with the limit raised to N (everything at
 * once, still sharing one feature pool and one enricher), against one call alone: peak RSS, wall time, CPU.
 * Models come from --models (default ../shared/models when present, else none).
 */
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { analyzeFile } from '../src/api/analyze.js';
import { computeFeatureSeries, detectScenes, resolveDetectOptions } from '../src/api/detect.js';
import { defaultAnalysisConcurrency, setAnalysisConcurrency } from '../src/api/limit.js';
import { enricherStats } from '../src/api/shared-enricher.js';
import { featurePoolStats } from '../src/features/pool-registry.js';
import { detectBoundaries, resolveStandaloneDetectionOptions } from '../src/detect/index.js';
import { resolveFfmpegPaths } from '../src/media/ffmpeg.js';
import { probe } from '../src/media/probe.js';

const run = promisify(execFile);

function line(record: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(record) + '\n');
}

/** In a child: N concurrent analyses of the clips in `dir`, under a limit ("default" or a number). */
async function concurrentChild(spec: string, dir: string): Promise<void> {
  const [n, limit, models] = spec.split(':') as [string, string, string];
  if (limit !== 'default') setAnalysisConcurrency(Number(limit));
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: Number(n) }, (_, i) => analyzeFile(path.join(dir, `clip${i}.mp4`), { modelsDir: models, thumbnailsDir: path.join(dir, `thumbs-${spec.replace(/[^0-9a-z]/gi, '')}-${i}`) })),
  );
  const usage = process.resourceUsage();
  line({ scenes: results.reduce((s, r) => s + r.scenes.length, 0), pools: featurePoolStats().created, enrichers: enricherStats().created, wall_s: (performance.now() - started) / 1000, cpu_user_s: usage.userCPUTime / 1e6, cpu_sys_s: usage.systemCPUTime / 1e6, peak_rss_mb: usage.maxRSS / 1024 });
}

/**
 * Peak RSS (VmHWM, MB) of this process's child processes (ffmpeg, ffprobe), sampled every 200 ms from /proc
 * (Linux; null elsewhere). `process.resourceUsage().maxRSS` covers this process and its threads only.
 */
function watchChildren(): { stop(): number | null } {
  const peaks = new Map<string, number>();
  const sample = (): void => {
    try {
      for (const tid of readdirSync('/proc/self/task')) {
        for (const pid of readFileSync(`/proc/self/task/${tid}/children`, 'utf8').split(' ').filter(Boolean)) {
          const hwm = /VmHWM:\s*(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
          if (hwm !== null) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, Number(hwm[1]) / 1024));
        }
      }
    } catch {
      // A child that just exited, or no /proc.
    }
  };
  const timer = setInterval(sample, 200);
  return {
    stop() {
      clearInterval(timer);
      return existsSync('/proc/self/task') ? Math.max(0, ...peaks.values()) : null;
    },
  };
}

/** In a child: run one detection and print what it cost. */
async function child(mode: string, file: string): Promise<void> {
  if (mode.startsWith('concurrent=')) return concurrentChild(mode.slice('concurrent='.length), file);
  const children = watchChildren();
  const started = performance.now();
  let frames: number;
  let scenes: number;
  if (mode === 'baseline') {
    const { series } = await computeFeatureSeries(await probe(file), resolveDetectOptions({}));
    const detection = detectBoundaries(series, resolveStandaloneDetectionOptions({}));
    frames = series.count;
    scenes = detection.scenes.length;
  } else {
    const result = await detectScenes(file);
    frames = result.frame_count;
    scenes = result.scenes.length;
    result.release();
  }
  const usage = process.resourceUsage();
  const ffmpegPeak = children.stop();
  line({ frames, scenes, wall_s: (performance.now() - started) / 1000, cpu_user_s: usage.userCPUTime / 1e6, cpu_sys_s: usage.systemCPUTime / 1e6, peak_rss_mb: usage.maxRSS / 1024, ffmpeg_peak_rss_mb: ffmpegPeak });
}

async function makeBase(dir: string, fps: number): Promise<string> {
  const { ffmpeg } = resolveFfmpegPaths();
  const base = path.join(dir, 'base.mp4');
  const src = (pattern: string, seconds: number): string[] => ['-f', 'lavfi', '-t', String(seconds), '-i', `${pattern}=size=64x36:rate=${fps}`];
  // 60 s: four shots with cuts, a fade through black in the middle.
  await run(ffmpeg, [
    '-hide_banner', '-loglevel', 'error', '-y',
    ...src('testsrc2', 15), ...src('smptebars', 15), ...src('testsrc', 15), ...src('rgbtestsrc', 15),
    '-filter_complex', '[1]fade=t=out:st=14:d=1[b];[2]fade=t=in:st=0:d=1[c];[0][b][c][3]concat=n=4,format=yuv420p[v]',
    '-map', '[v]', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(fps * 2), base,
  ]);
  return base;
}

async function looped(dir: string, base: string, minutes: number): Promise<string> {
  const { ffmpeg } = resolveFfmpegPaths();
  const file = path.join(dir, `loop-${minutes}m.mp4`);
  if (!existsSync(file)) await run(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-stream_loop', '-1', '-i', base, '-t', String(minutes * 60), '-c', 'copy', file]);
  return file;
}

function measure(mode: string, file: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', mode, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>) : reject(new Error(`child exited ${code}`))));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      minutes: { type: 'string', default: '10,60,240' },
      'baseline-minutes': { type: 'string', default: '10,60' },
      fps: { type: 'string', default: '30' },
      concurrent: { type: 'string', default: '' },
      models: { type: 'string' },
    },
    allowPositionals: true,
    strict: false,
  });
  if (typeof values.child === 'string') {
    await child(values.child, process.argv[process.argv.length - 1]!);
    return;
  }
  const fps = Number(values.fps);
  const list = (v: unknown): number[] => String(v).split(',').filter(Boolean).map(Number);
  const dir = mkdtempSync(path.join(tmpdir(), 'scenescope-memory-'));
  try {
    const base = await makeBase(dir, fps);
    for (const minutes of list(values.minutes)) {
      const file = await looped(dir, base, minutes);
      line({ trial: 'detect-length', mode: 'windowed', minutes, fps, ...(await measure('windowed', file)) });
      if (list(values['baseline-minutes']).includes(minutes)) line({ trial: 'detect-length', mode: 'baseline', minutes, fps, ...(await measure('baseline', file)) });
      rmSync(file, { force: true });
    }
    const counts = list(values.concurrent);
    if (counts.length > 0) {
      const shared = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'models');
      const models = typeof values.models === 'string' ? values.models : existsSync(shared) ? shared : path.join(dir, 'no-models');
      mkdirSync(path.join(dir, 'no-models'), { recursive: true });
      const { ffmpeg } = resolveFfmpegPaths();
      const clip = path.join(dir, 'clip0.mp4');
      await run(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-t', '4', '-i', 'testsrc2=size=320x180:rate=25', '-f', 'lavfi', '-t', '4', '-i', 'smptebars=size=320x180:rate=25', '-f', 'lavfi', '-t', '4', '-i', 'testsrc=size=320x180:rate=25', '-filter_complex', '[0][1][2]concat=n=3,format=yuv420p[v]', '-map', '[v]', '-c:v', 'libx264', '-preset', 'veryfast', clip]);
      for (let i = 1; i < Math.max(...counts); i++) copyFileSync(clip, path.join(dir, `clip${i}.mp4`));
      for (const n of counts) {
        for (const limit of n === 1 ? ['default'] : ['default', String(n)]) {
          line({ trial: 'analyze-concurrency', calls: n, limit: limit === 'default' ? `default (${defaultAnalysisConcurrency()})` : Number(limit), models, ...(await measure(`concurrent=${n}:${limit}:${models}`, dir)) });
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
