/**
 * Shared fixtures of the library tests: a scriptable fake pipeline (an .mjs module, so that worker processes
 * can load it with `--pipeline`), fake media records, ffmpeg-generated clips, process helpers.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AnalysisPipeline } from '../src/jobs/pipeline.js';
import type { Library } from '../src/library/library.js';
import { runLibraryCommand } from '../src/cli/library-commands.js';
import { resolveFfmpegPaths } from '../src/media/ffmpeg.js';
import { newId } from '../src/store/ids.js';

/** dist/ (this file runs from dist/test/). */
export const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The worker entry. */
export const WORKER_ENTRY = path.join(DIST, 'src', 'cli', 'library-worker-entry.js');

/** What a fake "video" file says about itself. */
export interface FakeSpec {
  duration?: number;
  scenes?: number;
  /** Milliseconds each step takes (checked for abort every 10 ms). */
  stepMs?: Partial<Record<'probe' | 'detect' | 'enrich', number>>;
  fail?: { step: 'probe' | 'detect' | 'enrich'; code: string; message: string };
  /** Per scene: text and an embedding. */
  enrich?: Array<{ description?: string; tags?: string[]; visible_text?: string | null; vector?: number[] }>;
  model?: string;
  /** Keep running after abort (a pipeline that ignores its signal). */
  ignoreSignal?: boolean;
}

const FAKE_PIPELINE = (errorsUrl: string): string => `
import { appendFileSync, readFileSync } from 'node:fs';
import { ScenescopeError, AbortError } from ${JSON.stringify(errorsUrl)};

const log = (line) => { if (process.env.FAKE_PIPELINE_LOG) appendFileSync(process.env.FAKE_PIPELINE_LOG, line + '\\n'); };

function work(ms, ctx, ignoreSignal, label) {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = () => {
      if (ctx.signal.aborted && !ignoreSignal) return reject(new AbortError());
      const fraction = ms <= 0 ? 1 : Math.min(1, (Date.now() - start) / ms);
      ctx.onProgress(fraction, label(fraction));
      if (fraction >= 1) return resolve();
      setTimeout(tick, 10);
    };
    tick();
  });
}

export default {
  steps: [
    { name: 'probe', weight: 1 },
    { name: 'detect', weight: 6 },
    { name: 'enrich', weight: 3, status: 'uploading_to_vlm' },
  ],
  async run(step, ctx) {
    const spec = JSON.parse(readFileSync(ctx.mediaPath, 'utf8'));
    log([ctx.jobId, step.name, 'start', process.pid].join(' '));
    if (spec.fail && spec.fail.step === step.name) throw new ScenescopeError(spec.fail.code, spec.fail.message);
    const duration = spec.duration ?? 10;
    const count = spec.scenes ?? 3;
    const frames = Math.round(duration * 25);
    const ms = (spec.stepMs ?? {})[step.name] ?? 20;
    await work(ms, ctx, spec.ignoreSignal === true, (f) => step.name === 'detect' ? 'Detecting scenes (' + Math.round(f * frames) + '/' + frames + ' frames)' : 'Working on ' + step.name);
    let output;
    if (step.name === 'probe') {
      output = { metadata: { duration_seconds: duration, resolution: '160x120', width: 160, height: 120, frame_rate: 25, video_codec: 'fake', audio_codec: null, bitrate_kbps: 1, file_size_bytes: 100, format_name: 'fake' } };
    } else if (step.name === 'detect') {
      const scenes = [];
      const boundaries = [];
      for (let i = 0; i < count; i++) {
        const start = Math.round((i * frames) / count);
        const end = Math.round(((i + 1) * frames) / count);
        if (i > 0) boundaries.push({ frame: start, time: start / 25, kind: 'cut', start_frame: start, end_frame: start, confidence: 0.8, detector: 'fake' });
        scenes.push({ scene_index: i, start_frame: start, end_frame: end, start_time: start / 25, end_time: end / 25, time_range_formatted: null });
      }
      output = { frame_count: frames, frame_rate: 25, boundaries, scenes, features: new Array(1000).fill(0) };
    } else {
      if (!ctx.state.detect || !ctx.state.probe) throw new Error('enrich without earlier outputs');
      output = {
        scenes: ctx.state.detect.scenes.map((scene, i) => {
          const e = (spec.enrich ?? [])[i] ?? {};
          return {
            scene_index: scene.scene_index,
            description: e.description ?? 'Scene ' + i,
            tags: e.tags ?? [],
            visible_text: e.visible_text ?? null,
            ...(e.vector ? { embedding: { model_id: spec.model ?? 'fake-embed-v1', vector: e.vector } } : {}),
          };
        }),
      };
    }
    log([ctx.jobId, step.name, 'end', process.pid].join(' '));
    return output;
  },
};
`;

/** Write the fake pipeline module into `dir`; returns its path. */
export function writeFakePipeline(dir: string): string {
  const file = path.join(dir, 'fake-pipeline.mjs');
  writeFileSync(file, FAKE_PIPELINE(pathToFileURL(path.join(DIST, 'src', 'errors.js')).href));
  return file;
}

/** Import the fake pipeline (in this process). */
export async function loadFakePipeline(file: string): Promise<AnalysisPipeline> {
  return ((await import(pathToFileURL(file).href)) as { default: AnalysisPipeline }).default;
}

/**
 * Register a fake video (a JSON spec file) directly in the store, as a completed upload: the job tests do not
 * depend on probing.
 */
export async function addFakeMedia(library: Library, dir: string, name: string, spec: FakeSpec = {}): Promise<string> {
  const file = path.join(dir, `${name}.fake`);
  writeFileSync(file, JSON.stringify(spec));
  const id = newId('med');
  const now = Date.now();
  await library.store.insertMedia({
    media_id: id,
    file_path: file,
    source_path: file,
    file_name: path.basename(file),
    copied: false,
    sha256: null,
    file_size_bytes: 10,
    upload_status: 'completed',
    video_metadata: { duration_seconds: spec.duration ?? 10, resolution: null, width: null, height: null, frame_rate: 25, video_codec: null, audio_codec: null, bitrate_kbps: null, file_size_bytes: 10, format_name: null },
    poster_path: null,
    error_code: null,
    error_message: null,
    owner: null,
    created_at: now,
    updated_at: now,
  });
  return id;
}

/** Wait until `check` returns a truthy value (polling every 20 ms) or fail after timeoutMs. */
export async function until<T>(check: () => T | Promise<T>, timeoutMs: number, what: string): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Spawn a worker process on a library. */
export function spawnWorker(library: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, [WORKER_ENTRY, '--library', library, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return Object.assign(child, { output: () => output });
}

/** Resolve when the child exits; its exit code (or signal name). */
export function exited(child: ChildProcess): Promise<number | string> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(child.signalCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
}

/** ffmpeg (bundled), or null when it cannot be found. */
export function ffmpegOrNull(): string | null {
  try {
    return resolveFfmpegPaths().ffmpeg;
  } catch {
    return null;
  }
}

/**
 * Make a clip of lavfi sources, one segment per source, joined with hard cuts: e.g.
 * `makeClip(file, ['testsrc2', 'smptebars'], 2)`. Each source is given `size=160x120:rate=25`.
 */
export function makeClip(file: string, sources: readonly string[], secondsEach: number, options: { size?: string; rate?: number; extra?: string[] } = {}): void {
  const ffmpeg = resolveFfmpegPaths().ffmpeg;
  const size = options.size ?? '160x120';
  const rate = options.rate ?? 25;
  const inputs: string[] = [];
  sources.forEach((source) => inputs.push('-f', 'lavfi', '-i', `${source}=size=${size}:rate=${rate}:duration=${secondsEach}`));
  const filter = `${sources.map((_, i) => `[${i}:v]`).join('')}concat=n=${sources.length}:v=1:a=0[v]`;
  execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...inputs, '-filter_complex', filter, '-map', '[v]', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', ...(options.extra ?? []), file], { stdio: 'ignore' });
}

/** PIDs of processes whose command line mentions `needle` (from `ps`). */
export function processesMentioning(needle: string): Array<{ pid: number; args: string }> {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.includes(needle) && !line.includes('ps -eo'))
    .map((line) => ({ pid: Number(line.split(/\s+/, 1)[0]), args: line.replace(/^\d+\s+/, '') }));
}

/** A writable stream that keeps what is written, for a command's stdout or stderr. */
function sink(): Writable & { text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  return Object.assign(stream, { text: () => text });
}

/** Run a library CLI command in this process, with its exit code and what it wrote. */
export async function runLibraryCli(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = sink();
  const stderr = sink();
  const code = await runLibraryCommand(command, args, { stdout, stderr, env });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}
