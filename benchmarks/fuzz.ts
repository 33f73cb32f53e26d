/**
 * Fuzz trial (issue 12): mutate generated MP4, MKV and WebM seeds (bit flips, truncation, chunk duplication and
 * removal, header field corruption) and run each mutant through `scenescope detect` as a child process with a
 * per-file timeout. Every outcome is classified:
 * - `ok`: exit 0 with a JSON result; `invalid` when that result breaks a rule (scenes not monotone, end before
 *   start, a boundary out of range, a non-finite number); `partial` when it covers less than 90 % of the
 *   duration the file states without saying so;
 * - `typed`: exit 1/2 whose stderr ends with the one-line `scenescope: error [CODE]: message` (counted by code);
 * - `crash`: anything else (a signal, another exit code, a stack trace, INTERNAL, no one-line error);
 * - `hang`: killed at the timeout.
 * It also looks for ffmpeg/ffprobe processes left behind that name the fuzz folder. Prints one JSON line per
 * bad outcome and a summary line. Not part of `npm test`; run it niced:
 *
 *   nice -n 10 node dist/benchmarks/fuzz.js [--files 500] [--seed 12] [--timeout 60] [--jobs 2] [--keep]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { resolveFfmpegPaths } from '../src/media/ffmpeg.js';

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '500' },
    seed: { type: 'string', default: '12' },
    timeout: { type: 'string', default: '60' },
    jobs: { type: 'string', default: '2' },
    keep: { type: 'boolean', default: false },
  },
});
const FILES = Number(values.files);
const TIMEOUT_MS = Number(values.timeout) * 1000;
const JOBS = Math.max(1, Number(values.jobs));
const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'scenescope.js');
const root = mkdtempSync(path.join(tmpdir(), 'scenescope-fuzz-'));
const print = (record: Record<string, unknown>): void => console.log(JSON.stringify({ bench: 'fuzz', ...record }));

/** mulberry32: a small seeded PRNG, so a run can be repeated exactly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(Number(values.seed));
const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));

/** Three seeds of 4 s with two shots and audio, one per container. */
function makeSeeds(): Record<string, Buffer> {
  const { ffmpeg } = resolveFfmpegPaths();
  const seeds: Record<string, Buffer> = {};
  const video = ['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=25:duration=2', '-f', 'lavfi', '-i', 'smptebars=size=160x90:rate=25:duration=2', '-f', 'lavfi', '-i', 'sine=duration=4'];
  const graph = ['-filter_complex', '[0:v][1:v]concat=n=2:v=1:a=0[v]', '-map', '[v]', '-map', '2:a'];
  const codecs: Record<string, string[]> = {
    mp4: ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-c:a', 'aac'],
    mkv: ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-c:a', 'libvorbis'],
    webm: ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '200k', '-g', '25', '-c:a', 'libvorbis'],
  };
  for (const [ext, codec] of Object.entries(codecs)) {
    const file = path.join(root, `seed.${ext}`);
    execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...video, ...graph, ...codec, '-shortest', file]);
    seeds[ext] = readFileSync(file);
  }
  return seeds;
}

type Mutation = 'bitflip' | 'truncate' | 'duplicate' | 'remove' | 'header';
const MUTATIONS: Mutation[] = ['bitflip', 'truncate', 'duplicate', 'remove', 'header'];

function mutate(seed: Buffer, kind: Mutation): Buffer {
  const b = Buffer.from(seed);
  switch (kind) {
    case 'bitflip': {
      const flips = int(1, 32);
      for (let i = 0; i < flips; i++) {
        const at = int(0, b.length - 1);
        b[at] = b[at]! ^ (1 << int(0, 7));
      }
      return b;
    }
    case 'truncate':
      return b.subarray(0, int(1, b.length - 1));
    case 'duplicate': {
      const len = int(16, 8192);
      const from = int(0, Math.max(0, b.length - len));
      const to = int(0, b.length);
      return Buffer.concat([b.subarray(0, to), b.subarray(from, from + len), b.subarray(to)]);
    }
    case 'remove': {
      const len = int(16, 8192);
      const from = int(0, Math.max(0, b.length - len));
      return Buffer.concat([b.subarray(0, from), b.subarray(from + len)]);
    }
    case 'header': {
      // Container headers sit in the first KiBs: overwrite a few fields with extreme values.
      const edits = int(1, 4);
      for (let i = 0; i < edits; i++) {
        const at = int(0, Math.min(b.length - 1, 4096));
        const width = int(1, 8);
        const pattern = int(0, 3);
        for (let j = 0; j < width && at + j < b.length; j++) b[at + j] = pattern === 0 ? 0x00 : pattern === 1 ? 0xff : pattern === 2 ? 0x7f : int(0, 255);
      }
      return b;
    }
  }
}

interface Outcome {
  file: string;
  kind: 'ok' | 'invalid' | 'partial' | 'typed' | 'crash' | 'hang';
  code?: string;
  why?: string;
  ms: number;
}

const ERROR_LINE = /^scenescope: error \[([A-Z_]+)\]: [^\n]+$/;

/** The rules a detect result must keep. Returns the first one broken, or undefined. */
function invalidReason(result: Record<string, unknown>): string | undefined {
  const frames = result.frame_count as number;
  const scenes = result.scenes as { start_time: number; end_time: number; start_frame: number; end_frame: number }[];
  const boundaries = result.boundaries as { frame: number; time: number }[];
  if (!Number.isInteger(frames) || frames <= 0) return `frame_count ${frames}`;
  if (!Array.isArray(scenes) || scenes.length === 0) return 'no scenes';
  for (let k = 0; k < scenes.length; k++) {
    const s = scenes[k]!;
    for (const v of [s.start_time, s.end_time, s.start_frame, s.end_frame]) if (typeof v !== 'number' || !Number.isFinite(v)) return `scene ${k} has a non-finite field`;
    if (!(s.end_time > s.start_time)) return `scene ${k} ends at ${s.end_time}, not after its start ${s.start_time}`;
    if (!(s.end_frame > s.start_frame)) return `scene ${k} has frames ${s.start_frame}-${s.end_frame}`;
    if (s.start_frame < 0 || s.end_frame > frames) return `scene ${k} frames out of range`;
    if (k > 0 && (s.start_time !== scenes[k - 1]!.end_time || s.start_frame !== scenes[k - 1]!.end_frame)) return `scene ${k} does not start where scene ${k - 1} ends`;
  }
  if (scenes[0]!.start_frame !== 0 || scenes.at(-1)!.end_frame !== frames) return 'scenes do not cover the frames';
  for (const b of boundaries) {
    if (!Number.isFinite(b.time) || !Number.isInteger(b.frame) || b.frame <= 0 || b.frame >= frames) return `boundary at frame ${b.frame} (time ${b.time}) out of range`;
  }
  const text = JSON.stringify(result);
  if (/NaN|Infinity|null,"end_time"/.test(text)) return 'NaN or Infinity in output';
  return undefined;
}

function runOne(file: string): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'detect', file, '--format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => (err += c));
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ms = Date.now() - started;
      const name = path.basename(file);
      if (hung) return resolve({ file: name, kind: 'hang', ms });
      if (signal !== null) return resolve({ file: name, kind: 'crash', why: `signal ${signal}`, ms });
      const lines = err.trim().split('\n').filter((l) => l !== '');
      if (code === 0) {
        let result: Record<string, unknown>;
        try {
          result = JSON.parse(Buffer.concat(out).toString('utf8')) as Record<string, unknown>;
        } catch {
          return resolve({ file: name, kind: 'crash', why: 'exit 0 without JSON', ms });
        }
        const bad = invalidReason(result);
        if (bad !== undefined) return resolve({ file: name, kind: 'invalid', why: bad, ms });
        const stated = (result.video as { duration_seconds: number | null }).duration_seconds;
        const covered = (result.scenes as { end_time: number }[]).at(-1)!.end_time;
        if (stated !== null && stated > 1 && covered < 0.9 * stated) return resolve({ file: name, kind: 'partial', why: `covers ${covered.toFixed(3)} of ${stated.toFixed(3)} s`, ms });
        return resolve({ file: name, kind: 'ok', ms });
      }
      const last = lines.at(-1) ?? '';
      const match = ERROR_LINE.exec(last);
      if ((code === 1 || code === 2) && match !== null && !/^\s+at /m.test(err)) {
        if (match[1] === 'INTERNAL') return resolve({ file: name, kind: 'crash', code: 'INTERNAL', why: last, ms });
        return resolve({ file: name, kind: 'typed', code: match[1]!, ms });
      }
      resolve({ file: name, kind: 'crash', why: `exit ${code}: ${lines.slice(-3).join(' | ').slice(0, 400)}`, ms });
    });
  });
}

/** Processes whose command line names the fuzz folder (ffmpeg/ffprobe left behind). */
function leftovers(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(root) && !cmd.includes('fuzz.js') && Number(pid) !== process.pid) found.push(`${pid}: ${cmd.slice(0, 200)}`);
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

async function main(): Promise<void> {
  const seeds = makeSeeds();
  const exts = Object.keys(seeds);
  const plan: { file: string; ext: string; mutation: Mutation }[] = [];
  for (let i = 0; i < FILES; i++) {
    const ext = exts[i % exts.length]!;
    const mutation = MUTATIONS[Math.floor(i / exts.length) % MUTATIONS.length]!;
    const file = path.join(root, `m${String(i).padStart(4, '0')}-${mutation}.${ext}`);
    writeFileSync(file, mutate(seeds[ext]!, mutation));
    plan.push({ file, ext, mutation });
  }
  const started = Date.now();
  const cpuStart = process.cpuUsage();
  const outcomes: Outcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: JOBS }, async () => {
      while (next < plan.length) {
        const item = plan[next++]!;
        const outcome = await runOne(item.file);
        outcomes.push(outcome);
        if (outcome.kind === 'crash' || outcome.kind === 'hang' || outcome.kind === 'invalid' || outcome.kind === 'partial') print({ outcome: outcome.kind, file: outcome.file, bytes: statSync(item.file).size, why: outcome.why ?? null, code: outcome.code ?? null });
      }
    }),
  );
  await new Promise((r) => setTimeout(r, 500));
  const orphans = leftovers();
  const count = (kind: Outcome['kind']): number => outcomes.filter((o) => o.kind === kind).length;
  const codes: Record<string, number> = {};
  for (const o of outcomes) if (o.kind === 'typed') codes[o.code!] = (codes[o.code!] ?? 0) + 1;
  const times = outcomes.map((o) => o.ms).sort((a, b) => a - b);
  const cpu = process.cpuUsage(cpuStart);
  print({
    summary: true,
    files: outcomes.length,
    seed: Number(values.seed),
    seeds: Object.fromEntries(Object.entries(seeds).map(([k, v]) => [k, v.length])),
    ok: count('ok'),
    typed_errors: count('typed'),
    by_code: codes,
    partial: count('partial'),
    invalid: count('invalid'),
    crashes: count('crash'),
    hangs: count('hang'),
    orphaned_processes: orphans.length,
    median_ms: times[Math.floor(times.length / 2)] ?? null,
    max_ms: times.at(-1) ?? null,
    wall_s: Math.round((Date.now() - started) / 100) / 10,
    parent_cpu_s: Math.round((cpu.user + cpu.system) / 1e5) / 10,
    jobs: JOBS,
    timeout_s: TIMEOUT_MS / 1000,
  });
  for (const o of orphans) print({ orphan: o });
  if (values.keep) print({ kept: root });
  else rmSync(root, { recursive: true, force: true });
}

await main();
