/**
 * Library benchmark: register N short clips (default 100, each 1 s with one cut, 160x120), then analyse them
 * with 1, 2 and 4 `scenescope worker` processes on a fresh library each time, on SQLite and on PostgreSQL,
 * and report jobs per minute (wall) beside the workers' CPU seconds per job, and the database size per scene.
 * Prints JSON lines (one per trial). Not part of `npm test`.
 *
 * PostgreSQL: `--pg-url postgres://...` names a server whose database may be dropped and recreated
 * (`scenescope_bench_*` databases are made through it); without it, a throwaway server is started with the
 * test helper when PostgreSQL's binaries are installed, else the PostgreSQL trials are skipped with the reason.
 *
 *   node dist/benchmarks/library.js [--clips 100] [--workers 1,2,4] [--stores sqlite,postgres] [--pg-url URL] [--keep]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openLibrary } from '../src/library/library.js';
import { resolveFfmpegPaths } from '../src/media/ffmpeg.js';
import { openPgStore } from '../src/store/pg-store.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import type { LibraryStore } from '../src/store/types.js';
import { pgUnavailable, startPgServer, type PgServer } from '../test/helpers/pg-server.js';

const { values } = parseArgs({
  options: {
    clips: { type: 'string', default: '100' },
    workers: { type: 'string', default: '1,2,4' },
    stores: { type: 'string', default: 'sqlite,postgres' },
    'pg-url': { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const workerCounts = String(values.workers).split(',').map(Number);
const stores = String(values.stores).split(',') as Array<'sqlite' | 'postgres'>;
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

/** Run the workers to idle; their CPU seconds (user + system, children included) from /proc-free accounting. */
async function runWorkers(library: string, count: number): Promise<number> {
  // A wrapper shell reports the CPU time of each worker tree (`times` after the worker exits).
  const children = Array.from({ length: count }, () =>
    spawn('sh', ['-c', `"$0" "$1" worker --library "$2" --exit-when-idle --poll-ms 100 >/dev/null 2>&1; code=$?; times; exit $code`, process.execPath, entry, library], { stdio: ['ignore', 'pipe', 'ignore'] }),
  );
  const cpu = await Promise.all(
    children.map(
      (child) =>
        new Promise<number>((resolve, reject) => {
          let out = '';
          child.stdout.on('data', (d: Buffer) => (out += d.toString()));
          child.once('exit', (code) => {
            if (code !== 0) return reject(new Error(`worker exited with ${String(code)}`));
            // `times` prints the shell's and then its children's user/system times: "0m1.234s 0m0.100s".
            const line = out.trim().split('\n').pop() ?? '';
            const seconds = [...line.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
            resolve(seconds);
          });
        }),
    ),
  );
  return cpu.reduce((a, b) => a + b, 0);
}

let server: PgServer | null = null;
let n = 0;

/** A fresh empty library location of a store. */
async function freshLibrary(store: 'sqlite' | 'postgres', workers: number): Promise<string> {
  if (store === 'sqlite') return path.join(root, `library-${workers}w.db`);
  const given = values['pg-url'];
  if (given !== undefined) {
    const name = `scenescope_bench_${process.pid}_${++n}`;
    const admin = new pg.Client({ connectionString: given });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(given);
    url.pathname = `/${name}`;
    return url.href;
  }
  server ??= await startPgServer();
  return server.database();
}

async function openStore(store: 'sqlite' | 'postgres', location: string): Promise<LibraryStore> {
  if (store === 'sqlite') {
    const s = openSqliteStore(location);
    s.checkpoint();
    return s;
  }
  return openPgStore(location);
}

async function trial(files: string[], storeKind: 'sqlite' | 'postgres', workers: number): Promise<{ jobsPerMinute: number }> {
  const file = await freshLibrary(storeKind, workers);
  const library = await openLibrary({ path: file, workers: 0 });
  let t0 = performance.now();
  for (const clip of files) await library.media.upload(clip);
  const addSeconds = (performance.now() - t0) / 1000;
  await library.close();
  t0 = performance.now();
  const cpuSeconds = await runWorkers(file, workers);
  const seconds = (performance.now() - t0) / 1000;
  const store = await openStore(storeKind, file);
  const stats = await store.stats();
  const unfinished = await store.listJobs({ statuses: ['failed', 'pending', 'processing', 'uploading_to_vlm', 'cancelled'], limit: 1000 });
  const failed = unfinished.length;
  for (const job of unfinished) print({ trial: 'unfinished_job', store: storeKind, workers, job_id: job.job_id, status: job.status, error_code: job.error_code, error_message: job.error_message, current_step: job.current_step, attempts: job.attempts });
  store.close();
  const jobsPerMinute = (files.length / seconds) * 60;
  print({ trial: 'add', store: storeKind, workers, clips: files.length, seconds: round(addSeconds), uploads_per_minute: round((files.length / addSeconds) * 60) });
  print({ trial: 'analyse', store: storeKind, workers, jobs: files.length, unfinished: failed, seconds: round(seconds), jobs_per_minute: round(jobsPerMinute), cpu_seconds: round(cpuSeconds), cpu_ms_per_job: Math.round((cpuSeconds * 1000) / files.length), load_average_1m: round(loadavg()[0]!), scenes: stats.scenes });
  print({ trial: 'database', store: storeKind, workers, database_bytes: stats.databaseBytes, scenes: stats.scenes, bytes_per_scene: Math.round(stats.databaseBytes / Math.max(1, stats.scenes)), bytes_per_media: Math.round(stats.databaseBytes / Math.max(1, stats.media)) });
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
  for (const storeKind of stores) {
    if (storeKind === 'postgres' && values['pg-url'] === undefined && pgUnavailable() !== null) {
      print({ trial: 'skipped', store: 'postgres', reason: pgUnavailable() });
      continue;
    }
    for (const count of workerCounts) rates[`${storeKind}_jobs_per_minute_${count}_worker${count === 1 ? '' : 's'}`] = round((await trial(files, storeKind, count)).jobsPerMinute);
  }
  print({ trial: 'summary', load_average_1m: round(loadavg()[0]!), ...rates });
} finally {
  (server as PgServer | null)?.stop();
  if (values.keep !== true) rmSync(root, { recursive: true, force: true });
  else print({ trial: 'kept', folder: root });
}
