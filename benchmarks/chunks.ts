/**
 * Chunked detection benchmark: one long generated clip (default 20 min, 640x360, 25 fps, noisy test patterns
 * changing every 12 s, x264 keyframes every 10 s) analysed (`--type scenes`) by `scenescope worker`
 * processes on a fresh SQLite library per trial, each worker limited to one decoder thread (ffmpeg -threads 1)
 * and one feature thread:
 * - one pass: chunking off, 1 worker (the baseline);
 * - chunked (`--span` seconds, default 300, so 4 chunks): 1, 2 and 4 workers.
 * Reports per trial the wall time, the CPU time of the worker process trees (user + system, ffmpeg included),
 * the busiest worker's CPU time (what the wall time would be with a free core per worker: on a shared 2-core
 * machine the wall time mostly measures the other processes), the ratios to the one pass, and whether the
 * scenes equal the one pass's. Prints JSON lines. Not in `npm test`.
 *
 * With `--enrich`, every trial runs twice, `--type full` (the scene enricher with the models of `--models`,
 * default ../shared/models, captions off) and `--type scenes`, and the enrich step's CPU is the difference of
 * the two runs' worker CPU; its wall time is the enrich step's duration in job_steps.
 *
 *   node dist/benchmarks/chunks.js [--minutes 20] [--span 300] [--workers 1,2,4] [--size 640x360] [--enrich [--models DIR]] [--keep]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { openLibrary } from '../src/library/library.js';
import { resolveFfmpegPaths } from '../src/media/ffmpeg.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '20' },
    span: { type: 'string', default: '300' },
    workers: { type: 'string', default: '1,2,4' },
    size: { type: 'string', default: '640x360' },
    keep: { type: 'boolean', default: false },
    enrich: { type: 'boolean', default: false },
    models: { type: 'string', default: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'models') },
  },
});
const enrich = values.enrich === true;
const minutes = Number(values.minutes);
const span = Number(values.span);
const workerCounts = String(values.workers).split(',').map(Number);
const root = mkdtempSync(path.join(tmpdir(), 'scenescope-bench-chunks-'));
const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry = path.join(dist, 'src', 'cli', 'library-worker-entry.js');
const print = (record: Record<string, unknown>): void => console.log(JSON.stringify({ bench: 'chunks', ...record }));
const round = (x: number): number => Math.round(x * 1000) / 1000;

/** A 60 s block of five noisy patterns (12 s each), repeated without re-encoding to the asked length. */
function makeClip(file: string): void {
  const { ffmpeg } = resolveFfmpegPaths();
  const block = path.join(root, 'block.mp4');
  const size = String(values.size);
  const sources = ['testsrc2', 'smptebars', 'rgbtestsrc', 'testsrc', 'smptehdbars'];
  const graph = sources.map((s, i) => `${s}=size=${size}:rate=25:duration=12,noise=alls=12:allf=t[s${i}]`).join(';') + `;${sources.map((_, i) => `[s${i}]`).join('')}concat=n=${sources.length}:v=1:a=0,format=yuv420p[v]`;
  execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-filter_complex', graph, '-map', '[v]', '-c:v', 'libx264', '-preset', 'veryfast', '-g', '250', '-pix_fmt', 'yuv420p', block]);
  execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-stream_loop', String(Math.max(0, Math.round(minutes) - 1)), '-i', block, '-c', 'copy', file]);
}

/** Run the workers to idle; the CPU seconds of each worker's process tree. */
async function runWorkers(library: string, count: number, pipeline: string): Promise<number[]> {
  const children = Array.from({ length: count }, () =>
    spawn('sh', ['-c', `"$0" "$1" worker --library "$2" --pipeline "$3" --exit-when-idle --poll-ms 100 >/dev/null 2>&1; code=$?; times; exit $code`, process.execPath, entry, library, pipeline], { stdio: ['ignore', 'pipe', 'ignore'] }),
  );
  const cpu = await Promise.all(
    children.map(
      (child) =>
        new Promise<number>((resolve, reject) => {
          let out = '';
          child.stdout.on('data', (d: Buffer) => (out += d.toString()));
          child.once('exit', (code) => {
            if (code !== 0) return reject(new Error(`worker exited with ${String(code)}`));
            const line = out.trim().split('\n').pop() ?? '';
            resolve([...line.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0));
          });
        }),
    ),
  );
  return cpu;
}

function pipelineModule(chunkSeconds: number): string {
  const file = path.join(root, `pipeline-${chunkSeconds}.mjs`);
  const url = pathToFileURL(path.join(dist, 'src', 'jobs', 'default-pipeline.js')).href;
  const enrichment = enrich ? `enricher: { modelsDir: ${JSON.stringify(String(values.models))}, caption: false, concurrency: 1 }` : `enrichment: 'thumbnails'`;
  writeFileSync(file, `import { createDefaultPipeline } from ${JSON.stringify(url)};\nexport default createDefaultPipeline({ detect: { decoderThreads: 1, workerThreads: 1 }, chunkSeconds: ${chunkSeconds}, ${enrichment} });\n`);
  return file;
}

/** Runs trial() with `--type full` and `--type scenes`: the enrich step's CPU is the difference. */
async function enrichTrial(clip: string, name: string, workers: number, chunkSeconds: number): Promise<{ wall: number; cpu: number; maxWorkerCpu: number; scenes: string; enrichCpu: number; enrichWall: number; sceneData: string }> {
  const full = await trial(clip, `${name}-full`, workers, chunkSeconds, 'full');
  const scenes = await trial(clip, `${name}-scenes`, workers, chunkSeconds, 'scenes');
  return { ...full, enrichCpu: full.cpu - scenes.cpu, enrichWall: full.enrichWall };
}

async function trial(clip: string, name: string, workers: number, chunkSeconds: number, type: 'full' | 'scenes' = 'scenes'): Promise<{ wall: number; cpu: number; maxWorkerCpu: number; scenes: string; enrichWall: number; sceneData: string }> {
  const file = path.join(root, `${name}.db`);
  const library = await openLibrary({ path: file, workers: 0 });
  const upload = await library.media.upload(clip, { analysisType: type });
  await library.close();
  const t0 = performance.now();
  const perWorker = await runWorkers(file, workers, pipelineModule(chunkSeconds));
  const cpu = perWorker.reduce((a, b) => a + b, 0);
  const wall = (performance.now() - t0) / 1000;
  const reader = await openLibrary({ path: file, workers: 0, create: false });
  const status = await reader.videoAnalysis.getStatus(upload.analysis_job_id!);
  const items = (await reader.videoScenes.list(upload.media_id, { limit: 10_000 })).items;
  const scenes = items.map((s) => `${s.start_time}-${s.end_time}`).join(',');
  // The enrichment as stored (thumbnail bytes aside), to check that chunking left it unchanged.
  const sceneData = JSON.stringify(items.map((s) => [s.description, s.tags, s.visible_text, s.confidence_score, s.embedding_status, s.text_lines, s.tag_scores, path.basename(s.thumbnail_url ?? '')]));
  const enrichWall = ((await reader.store.getSteps(upload.analysis_job_id!)).find((step) => step.step === 'enrich')?.duration_ms ?? 0) / 1000;
  await reader.close();
  if (status.status !== 'completed') throw new Error(`${name}: job ${status.status} ${status.error_code ?? ''} ${status.error_message ?? ''}`);
  return { wall, cpu, maxWorkerCpu: Math.max(...perWorker), scenes, enrichWall, sceneData };
}

try {
  print({ trial: 'setup', minutes, span_seconds: span, size: values.size, cores: cpus().length, node: process.version, load_average_1m: round(loadavg()[0]!) });
  const clip = path.join(root, 'long.mp4');
  let t0 = performance.now();
  makeClip(clip);
  print({ trial: 'make_clip', seconds: round((performance.now() - t0) / 1000) });
  t0 = performance.now();
  if (enrich) {
    const one = await enrichTrial(clip, 'one-pass', 1, 0);
    print({ trial: 'enrich_one_pass', workers: 1, enrich_cpu_seconds: round(one.enrichCpu), enrich_wall_seconds: round(one.enrichWall), job_cpu_seconds: round(one.cpu), job_wall_seconds: round(one.wall), scenes: one.scenes.split(',').length, load_average_1m: round(loadavg()[0]!) });
    for (const workers of workerCounts) {
      const run = await enrichTrial(clip, `enrich-chunked-${workers}w`, workers, span);
      print({
        trial: 'enrich_chunked',
        workers,
        span_seconds: span,
        enrich_cpu_seconds: round(run.enrichCpu),
        enrich_wall_seconds: round(run.enrichWall),
        enrich_cpu_ratio_to_one_pass: round(run.enrichCpu / one.enrichCpu),
        enrich_wall_ratio_to_one_pass: round(run.enrichWall / one.enrichWall),
        job_cpu_seconds: round(run.cpu),
        job_wall_seconds: round(run.wall),
        // The busiest worker's CPU over the whole job (probe, detect, enrich): its wall time with a core per worker.
        job_max_worker_cpu_seconds: round(run.maxWorkerCpu),
        job_critical_path_ratio_to_one_pass: round(run.maxWorkerCpu / one.cpu),
        enrichment_equal_one_pass: run.sceneData === one.sceneData && run.scenes === one.scenes,
        load_average_1m: round(loadavg()[0]!),
      });
    }
  } else {
  const base = await trial(clip, 'one-pass', 1, 0);
  print({ trial: 'one_pass', workers: 1, wall_seconds: round(base.wall), cpu_seconds: round(base.cpu), scenes: base.scenes.split(',').length, load_average_1m: round(loadavg()[0]!) });
  for (const workers of workerCounts) {
    const run = await trial(clip, `chunked-${workers}w`, workers, span);
    print({
      trial: 'chunked',
      workers,
      span_seconds: span,
      wall_seconds: round(run.wall),
      cpu_seconds: round(run.cpu),
      wall_ratio_to_one_pass: round(run.wall / base.wall),
      cpu_ratio_to_one_pass: round(run.cpu / base.cpu),
      // The busiest worker's CPU time: the wall time on a machine with a free core per worker (the holder's
      // merge and detection are in it), as a ratio to the one pass.
      max_worker_cpu_seconds: round(run.maxWorkerCpu),
      critical_path_ratio_to_one_pass: round(run.maxWorkerCpu / base.cpu),
      scenes_equal_one_pass: run.scenes === base.scenes,
      load_average_1m: round(loadavg()[0]!),
    });
  }
  }
} finally {
  if (values.keep !== true) rmSync(root, { recursive: true, force: true });
  else print({ trial: 'kept', folder: root });
}
