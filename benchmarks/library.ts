/**
 * Library benchmark: register N short clips (default 100, each 1 s with one cut, 160x120), then analyse them
 * with 1 and with 2 `scenescope worker` processes on a fresh library each time, and report jobs per minute
 * and the database size per scene. Prints JSON lines (one per trial). Not part of `npm test`.
 *
 *   node dist/benchmarks/library.js [--clips 100] [--workers 1,2] [--keep]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openLibrary } from '../src/library/library.js';
import { resolveFfmpegPaths } from '../src/media/ffmpeg.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';

const { values } = parseArgs({ options: { clips: { type: 'string', default: '100' }, workers: { type: 'string', default: '1,2' }, keep: { type: 'boolean', default: false } } });
const workerCounts = String(values.workers).split(',').map(Number);
const clipCount = Number(values.clips);
const root = mkdtempSync(path.join(tmpdir(), 'scenescope-bench-library-'));
const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'library-worker-entry.js');
const print = (record: Record<string, unknown>): void => console.log(JSON.stringify({ bench: 'library', ...record }));

/** One distinct 1 s clip: testsrc2 then a unique flat colour (the colour makes every file's content differ). */
function makeClips(folder: string): string[] {
  mkdirSync(folder, { recursive: true });
  const { ffmpeg } = resolveFfmpegPaths();
  const files: string[] = [];
  for (let i = 0; i < clipCount; i++) {
    const file = path.join(folder, `clip-${String(i).padStart(3, '0')}.mp4`);
    const colour = `0x${((i * 2654435761) >>> 8 & 0xffffff).toString(16).padStart(6, '0')}`;
    execFileSync(ffmpeg, [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', `testsrc2=size=160x120:rate=25:duration=0.5`,
      '-f', 'lavfi', '-i', `color=c=${colour}:size=160x120:rate=25:duration=0.5`,
      '-filter_complex', '[0:v][1:v]concat=n=2:v=1:a=0[v]', '-map', '[v]',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', file,
    ]);
    files.push(file);
  }
  return files;
}

function runWorkers(library: string, count: number): Promise<void> {
  const children = Array.from({ length: count }, () => spawn(process.execPath, [entry, 'worker', '--library', library, '--exit-when-idle', '--poll-ms', '100'], { stdio: ['ignore', 'ignore', 'ignore'] }));
  return Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve, reject) => {
          child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited with ${String(code)}`))));
        }),
    ),
  ).then(() => undefined);
}

async function trial(files: string[], workers: number): Promise<{ jobsPerMinute: number }> {
  const file = path.join(root, `library-${workers}w.db`);
  const library = await openLibrary({ path: file, workers: 0 });
  let t0 = performance.now();
  for (const clip of files) await library.media.upload(clip);
  const addSeconds = (performance.now() - t0) / 1000;
  await library.close();
  t0 = performance.now();
  await runWorkers(file, workers);
  const seconds = (performance.now() - t0) / 1000;
  const store = openSqliteStore(file);
  store.checkpoint();
  const stats = await store.stats();
  const unfinished = await store.listJobs({ statuses: ['failed', 'pending', 'processing', 'uploading_to_vlm', 'cancelled'], limit: 1000 });
  const failed = unfinished.length;
  for (const job of unfinished) print({ trial: 'unfinished_job', workers, job_id: job.job_id, status: job.status, error_code: job.error_code, error_message: job.error_message, current_step: job.current_step, attempts: job.attempts });
  store.close();
  const jobsPerMinute = (files.length / seconds) * 60;
  print({ trial: 'add', workers, clips: files.length, seconds: round(addSeconds), uploads_per_minute: round((files.length / addSeconds) * 60) });
  print({ trial: 'analyse', workers, jobs: files.length, unfinished: failed, seconds: round(seconds), jobs_per_minute: round(jobsPerMinute), scenes: stats.scenes });
  print({ trial: 'database', workers, database_bytes: stats.databaseBytes, scenes: stats.scenes, bytes_per_scene: Math.round(stats.databaseBytes / Math.max(1, stats.scenes)), bytes_per_media: Math.round(stats.databaseBytes / Math.max(1, stats.media)) });
  return { jobsPerMinute };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

try {
  // Other processes skew a 2-core machine badly: the load average goes with the figures.
  print({ trial: 'setup', clips: clipCount, cores: cpus().length, node: process.version, load_average_1m: round(loadavg()[0]!) });
  const t0 = performance.now();
  const files = makeClips(path.join(root, 'clips'));
  print({ trial: 'make_clips', clips: files.length, seconds: round((performance.now() - t0) / 1000) });
  const rates: Record<string, number> = {};
  for (const count of workerCounts) rates[`jobs_per_minute_${count}_worker${count === 1 ? '' : 's'}`] = round((await trial(files, count)).jobsPerMinute);
  print({ trial: 'summary', load_average_1m: round(loadavg()[0]!), ...rates });
} finally {
  if (values.keep !== true) rmSync(root, { recursive: true, force: true });
  else print({ trial: 'kept', folder: root });
}
