/**
 * Test fixtures made on the spot with the bundled ffmpeg (lavfi sources), so tests need no media files.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { resolveFfmpegPaths } from '../../src/media/ffmpeg.js';

const run = promisify(execFile);

/** The repository root (works from test/ and dist/test/). */
export const ROOT = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'binding.gyp'))) dir = path.dirname(dir);
  return dir;
})();

/** ../shared next to the repository, where the peer clips and models live (may be absent). */
export const SHARED = path.resolve(ROOT, '..', 'shared');
/** The peer clips folder. */
export const PEER = path.join(SHARED, 'media', 'peer');
/** Reason to skip when ../shared is absent, or false. */
export const NO_SHARED: string | false = existsSync(path.join(PEER, 'expected.json')) ? false : `../shared/media/peer is absent (${PEER}): the peer clips come from the shared folder`;

/** A temp folder removed at process exit. */
export function tempDir(prefix = 'scenescope-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Run the bundled ffmpeg with arguments (quiet, overwrite). */
export async function ffmpeg(args: string[]): Promise<void> {
  const { ffmpeg: bin } = resolveFfmpegPaths();
  await run(bin, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args], { maxBuffer: 1 << 24 });
}

/** A lavfi source that looks like a distinct "shot": the named pattern, with motion where it has some. */
export function shot(kind: number, size = '320x180', rate = 25, seconds = 2): string {
  const sources = [
    `testsrc2=size=${size}:rate=${rate}:duration=${seconds}`,
    `smptebars=size=${size}:rate=${rate}:duration=${seconds}`,
    `mandelbrot=size=${size}:rate=${rate}`,
    `rgbtestsrc=size=${size}:rate=${rate}:duration=${seconds}`,
    `testsrc=size=${size}:rate=${rate}:duration=${seconds}`,
    `cellauto=size=${size}:rate=${rate}:rule=110`,
  ];
  return sources[kind % sources.length]!;
}

/**
 * Concatenate shots into one H.264 clip; returns the frame index where each shot after the first starts.
 * `filters` is applied to the concatenated video (for fades, flashes...).
 */
export async function makeClip(file: string, shots: { kind: number; seconds: number }[], options: { size?: string; rate?: number; filters?: string; extra?: string[] } = {}): Promise<number[]> {
  const rate = options.rate ?? 25;
  const size = options.size ?? '320x180';
  const inputs: string[] = [];
  shots.forEach((s) => inputs.push('-f', 'lavfi', '-t', String(s.seconds), '-i', shot(s.kind, size, rate, s.seconds)));
  const labels = shots.map((_, i) => `[${i}:v]`).join('');
  const post = options.filters ? `,${options.filters}` : '';
  const graph = `${labels}concat=n=${shots.length}:v=1:a=0,format=yuv420p${post}[v]`;
  await ffmpeg([...inputs, '-filter_complex', graph, '-map', '[v]', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-g', '60', ...(options.extra ?? []), file]);
  const cuts: number[] = [];
  let at = 0;
  for (const s of shots.slice(0, -1)) {
    at += Math.round(s.seconds * rate);
    cuts.push(at);
  }
  return cuts;
}
