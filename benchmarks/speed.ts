/**
 * Speed benchmark: `scenescope detect` against the bundled ffmpeg's own decode of the same file
 * (`ffmpeg -i f -an -f null -`), run alternately so both see the same machine load, on a generated 1080p H.264
 * clip. Prints JSON lines: one per trial, then a summary with the median ratio and peak memory.
 *
 *   node dist/benchmarks/speed.js [--frames 3000] [--runs 3] [--size 1920x1080] [--variants]
 *   node dist/benchmarks/speed.js --file a.mp4 --file b.mp4 --detectors scenescope,content,adaptive,hash
 *
 * --variants also times decoder options (threads, skip_loop_filter, scaler), feature batch sizes and worker
 * threads, each as a ratio to ffmpeg's decode measured in the same round.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { resolveFfmpegPaths } from '../src/media/ffmpeg.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.resolve(here, '..', '..', 'bin', 'scenescope.js');

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '3000' },
    runs: { type: 'string', default: '3' },
    size: { type: 'string', default: '1920x1080' },
    variants: { type: 'boolean', default: false },
    file: { type: 'string', multiple: true },
    detectors: { type: 'string' },
  },
});
const frames = Number(values.frames);
const runs = Number(values.runs);
const { ffmpeg } = resolveFfmpegPaths();

/** A clip with real-looking content: moving test patterns, a zooming fractal and film grain, ~8 Mb/s. */
async function makeClip(): Promise<string> {
  const dir = path.join(tmpdir(), 'scenescope-bench');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `speed-${values.size}-${frames}.mp4`);
  if (existsSync(file)) return file;
  const seconds = frames / 30 / 3;
  const size = values.size!;
  await run(ffmpeg, ['-v', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30:duration=${seconds}`,
    '-f', 'lavfi', '-i', `mandelbrot=size=${size}:rate=30`,
    '-f', 'lavfi', '-i', `smptehdbars=size=${size}:rate=30:duration=${seconds}`,
    '-filter_complex', `[1]trim=duration=${seconds}[m];[0][m][2]concat=n=3,noise=alls=4:allf=t,format=yuv420p[v]`,
    '-map', '[v]', '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '8M', '-maxrate', '10M', '-bufsize', '16M', '-g', '120', file]);
  return file;
}

/**
 * Wall time and CPU time (user + system of the command and every process it waited for, ffmpeg included) of a
 * command. The CPU time comes from bash's `times`, which reports the children's rusage: on a shared, noisy
 * machine it is the figure to compare, wall time only beside it.
 */
function timed(command: string, args: string[]): Promise<{ ms: number; cpuMs: number; code: number | null }> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn('bash', ['-c', '"$@" >/dev/null 2>&1; code=$?; times; exit $code', 'timed', command, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      // `times` prints the shell's own user/sys, then its children's: "0m4.512s 0m0.321s".
      const line = out.trim().split('\n').pop() ?? '';
      const secs = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
      resolve({ ms, cpuMs: secs.length === 2 ? (secs[0]! + secs[1]!) * 1000 : Number.NaN, code });
    });
  });
}

/** Peak RSS of a detect run, measured inside the process. */
async function detectMemory(file: string): Promise<number> {
  const script = `import('${path.resolve(here, '..', 'src', 'api', 'detect.js')}').then(async (m) => { await m.detectScenes(${JSON.stringify(file)}); console.log(process.resourceUsage().maxRSS); })`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
  return Number(stdout.trim());
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Per detector and file: frames per second and the ratio to ffmpeg's decode, measured in the same round. */
async function perDetector(files: string[], detectors: string[]): Promise<void> {
  for (const file of files) {
    for (const detector of detectors) {
      const ratios: number[] = [];
      const cpuRatios: number[] = [];
      const fps: number[] = [];
      for (let r = 0; r < runs; r++) {
        const base = await timed(ffmpeg, ['-hide_banner', '-nostdin', '-v', 'error', '-i', file, '-an', '-f', 'null', '-']);
        const ours = await timed(process.execPath, [cli, 'detect', file, '--no-progress', '--detector', detector]);
        if (ours.code !== 0) throw new Error(`detect exited ${ours.code}`);
        ratios.push(ours.ms / base.ms);
        cpuRatios.push(ours.cpuMs / base.cpuMs);
        fps.push((frames * 1000) / ours.ms);
      }
      console.log(JSON.stringify({ trial: 'per-detector', file: path.basename(file), detector, frames, runs, median_fps: Math.round(median(fps)), median_ratio_to_ffmpeg_decode: +median(ratios).toFixed(3), median_cpu_ratio_to_ffmpeg_decode: +median(cpuRatios).toFixed(3) }));
    }
  }
}

async function main(): Promise<void> {
  if (values.detectors !== undefined) {
    await perDetector(values.file ?? [await makeClip()], values.detectors.split(','));
    return;
  }
  const file = values.file?.[0] ?? (await makeClip());
  const decode = ['-hide_banner', '-nostdin', '-v', 'error', '-i', file, '-an', '-f', 'null', '-'];
  const variants: { name: string; args: string[] }[] = [{ name: 'scenescope detect (CLI, defaults)', args: [] }];
  if (values.variants) {
    const detectModule = path.resolve(here, '..', 'src', 'api', 'detect.js');
    const inProcess = (name: string, options: Record<string, unknown>): { name: string; args: string[] } => ({
      name,
      args: ['--input-type=module', '-e', `import('${detectModule}').then((m) => m.detectScenes(${JSON.stringify(file)}, ${JSON.stringify(options)}))`],
    });
    variants.push(
      inProcess('decoderThreads=1', { decoderThreads: 1 }),
      inProcess('decoderThreads=2', { decoderThreads: 2 }),
      inProcess('decoderThreads=3', { decoderThreads: 3 }),
      inProcess('skipLoopFilter', { skipLoopFilter: true }),
      inProcess('batchFrames=16', { batchFrames: 16 }),
      inProcess('batchFrames=256', { batchFrames: 256 }),
      inProcess('workerThreads=2', { workerThreads: 2 }),
      inProcess('backend=typescript', { backend: 'typescript' }),
      inProcess('analysisArea=4x (384x216)', { analysisArea: 82944 }),
    );
  }
  for (const variant of variants) {
    const ratios: number[] = [];
    const cpuRatios: number[] = [];
    for (let r = 0; r < runs; r++) {
      const base = await timed(ffmpeg, decode);
      const args = variant.args[0] === '--input-type=module' ? variant.args : [cli, 'detect', file, '--no-progress', ...variant.args];
      const ours = await timed(process.execPath, args);
      if (ours.code !== 0) throw new Error(`detect exited ${ours.code}`);
      ratios.push(ours.ms / base.ms);
      cpuRatios.push(ours.cpuMs / base.cpuMs);
      console.log(JSON.stringify({ trial: variant.name, run: r, ffmpeg_decode_ms: Math.round(base.ms), scenescope_ms: Math.round(ours.ms), ratio: +(ours.ms / base.ms).toFixed(3), ffmpeg_decode_cpu_ms: Math.round(base.cpuMs), scenescope_cpu_ms: Math.round(ours.cpuMs), cpu_ratio: +(ours.cpuMs / base.cpuMs).toFixed(3) }));
    }
    console.log(JSON.stringify({ summary: variant.name, file: path.basename(file), frames, median_cpu_ratio: +median(cpuRatios).toFixed(3), median_wall_ratio: +median(ratios).toFixed(3), target: 1.15 }));
  }
  const short = await detectMemory(file);
  console.log(JSON.stringify({ memory: 'peak RSS of detectScenes', file: path.basename(file), frames, max_rss_mb: Math.round(short / 1024) }));
}

await main();
