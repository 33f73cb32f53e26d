/**
 * Decode a few full-resolution frames of a scene at exact timestamps, in one ffmpeg process.
 *
 * `-ss` before `-i` seeks fast (to the keyframe before) and then accurately (frames before the target are
 * decoded and dropped), so the process starts at the first wanted frame. A `select` filter keeps, for each
 * target time, the first frame at or after it (half a frame early, to absorb rounding); `-frames:v` stops
 * decoding after the last one, and `-t` bounds the input in case a target is never reached. Frames leave as
 * PPM images (a tiny header with the size, then raw RGB), so no probe is needed to know the size. They go to a
 * private temporary file, read in one go: megabytes through a 64 KiB pipe cost Node about twice the CPU
 * (measured: ~110 ms against ~45 ms for three 720p frames), and ffmpeg never waits on a busy event loop.
 * ffmpeg applies the display rotation itself (autorotate); the scale filter corrects non-square pixels to the
 * display aspect ratio and shrinks frames whose long side exceeds {@link MAX_FRAME_SIDE}.
 */
import { randomBytes } from 'node:crypto';
import { lstat, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AbortError, InputError, throwIfAborted } from '../errors.js';
import { fileUrl, resolveFfmpegPaths, runTool, safeInputArgs, type FfmpegPathOptions } from '../media/ffmpeg.js';
import type { RgbImage } from './types.js';

/** Longest side of a decoded frame; larger videos (4K) are shrunk to it, which is plenty for OCR and thumbnails. */
export const MAX_FRAME_SIDE = 1920;

/** A decoded frame and the target time it answers. */
export interface DecodedFrame {
  /** The requested time (seconds). */
  time: number;
  image: RgbImage;
}

/**
 * The ffmpeg arguments that decode the frames at `times` (sorted ascending); exported for tests. With
 * `showinfo`, each selected frame's time (from the seek point) is logged on stderr (frame-stream.ts reads it).
 */
export function frameArgs(videoPath: string, times: readonly number[], frameDuration: number, output = 'pipe:1', options: { showinfo?: boolean } = {}): string[] {
  const half = Math.max(0.0005, frameDuration / 2);
  const seek = Math.max(0, times[0]! - half);
  const span = times[times.length - 1]! - seek + Math.max(1, frameDuration * 4);
  const terms = times.map((t) => {
    const a = Math.max(0, t - seek - half).toFixed(6);
    return `gte(t\\,${a})*not(gte(prev_t\\,${a}))`;
  });
  // The first frame has prev_t = NAN and gte(NAN, a) = 0, so it is selected when it already passes a target.
  const select = `select='${terms.join('+')}'`;
  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    options.showinfo === true ? 'info' : 'error',
    '-ss',
    seek.toFixed(6),
    '-t',
    span.toFixed(6),
    ...safeInputArgs(),
    '-i',
    fileUrl(videoPath),
    '-map',
    '0:v:0',
    '-an',
    '-sn',
    '-dn',
    '-vf',
    // Display size (square pixels), shrunk so that the long side is at most MAX_FRAME_SIDE.
    `${select}${options.showinfo === true ? ',showinfo' : ''},scale=w='trunc(iw*sar*min(1,${MAX_FRAME_SIDE}/max(iw*sar,ih))+0.5)':h='trunc(ih*min(1,${MAX_FRAME_SIDE}/max(iw*sar,ih))+0.5)':flags=bicubic,setsar=1,format=rgb24`,
    '-vsync',
    '0',
    '-frames:v',
    String(times.length),
    '-f',
    'image2pipe',
    '-c:v',
    'ppm',
    '-y',
    output,
  ];
}

/** Split a stream of concatenated binary PPM (P6, maxval 255) images. */
export function parsePpmStream(buffer: Buffer): RgbImage[] {
  const images: RgbImage[] = [];
  let pos = 0;
  const token = (): string => {
    // Skip whitespace and comments, then read one token.
    for (;;) {
      while (pos < buffer.length && /\s/.test(String.fromCharCode(buffer[pos]!))) pos++;
      if (buffer[pos] === 0x23) {
        while (pos < buffer.length && buffer[pos] !== 0x0a) pos++;
        continue;
      }
      break;
    }
    const start = pos;
    while (pos < buffer.length && !/\s/.test(String.fromCharCode(buffer[pos]!))) pos++;
    return buffer.toString('latin1', start, pos);
  };
  while (pos < buffer.length) {
    const magic = token();
    if (magic === '') break;
    if (magic !== 'P6') throw new Error(`not a PPM image (magic ${JSON.stringify(magic.slice(0, 8))})`);
    const width = Number(token());
    const height = Number(token());
    const maxval = Number(token());
    pos++; // the single whitespace byte after maxval
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0 || maxval !== 255) {
      throw new Error(`unsupported PPM header ${width}x${height} maxval ${maxval}`);
    }
    const size = width * height * 3;
    if (pos + size > buffer.length) throw new Error(`truncated PPM image (${buffer.length - pos} of ${size} bytes)`);
    images.push({ data: new Uint8Array(buffer.buffer, buffer.byteOffset + pos, size), width, height, channels: 3 });
    pos += size;
  }
  return images;
}

/** The typical frame duration of a run of frame times (median difference), or 1/30 s. */
export function frameDurationOf(times: readonly number[]): number {
  const diffs: number[] = [];
  for (let i = 1; i < times.length; i++) {
    const d = times[i]! - times[i - 1]!;
    if (d > 0) diffs.push(d);
  }
  if (diffs.length === 0) return 1 / 30;
  diffs.sort((a, b) => a - b);
  return diffs[diffs.length >> 1]!;
}

let sweeping: Promise<number> | undefined;

/**
 * Remove `scenescope-frames-<pid>-*.ppm` files that a killed process left in the temp folder: only files of
 * this user, at least `minAgeMs` old, whose process no longer runs. Runs once per process, before its first
 * frame decode.
 * @returns how many files were removed.
 */
export async function sweepStaleFrameFiles(dir: string = tmpdir(), minAgeMs = 60_000): Promise<number> {
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  let removed = 0;
  for (const name of await readdir(dir)) {
    const m = /^scenescope-frames-(\d+)-[0-9a-f]+\.ppm$/.exec(name);
    if (m === null) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid)) continue;
    const file = path.join(dir, name);
    try {
      const info = await lstat(file);
      if (!info.isFile() || (uid !== undefined && info.uid !== uid) || Date.now() - info.mtimeMs < minAgeMs) continue;
      await rm(file, { force: true });
      removed++;
    } catch {
      // Gone meanwhile, or not ours to remove.
    }
  }
  return removed;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Decode the frames nearest at or after each of `times` (seconds from the first frame), at full resolution,
 * upright and with square pixels. Returns one frame per distinct target that was reached, in time order.
 * @throws InputError DECODE_FAILED when no frame comes out; AbortError when aborted.
 */
export async function decodeFramesAt(
  videoPath: string,
  times: readonly number[],
  options: FfmpegPathOptions & { frameDuration?: number; signal?: AbortSignal | undefined } = {},
): Promise<DecodedFrame[]> {
  throwIfAborted(options.signal);
  const frameDuration = options.frameDuration ?? 1 / 30;
  const targets = [...new Set(times)].sort((a, b) => a - b).filter((t, i, all) => i === 0 || t - all[i - 1]! >= frameDuration * 0.75);
  if (targets.length === 0) return [];
  const { ffmpeg } = resolveFfmpegPaths(options);
  sweeping ??= sweepStaleFrameFiles().catch(() => 0);
  const file = path.join(tmpdir(), `scenescope-frames-${process.pid}-${randomBytes(6).toString('hex')}.ppm`);
  let result: Awaited<ReturnType<typeof runTool>>;
  let bytes: Buffer;
  try {
    result = await runTool(ffmpeg, frameArgs(videoPath, targets, frameDuration, fileUrl(file)), { signal: options.signal, timeoutMs: 120_000 });
    if (options.signal?.aborted === true) throw new AbortError(undefined, { cause: options.signal.reason });
    bytes = await readFile(file).catch(() => Buffer.alloc(0));
  } finally {
    await rm(file, { force: true }).catch(() => undefined);
  }
  let images: RgbImage[];
  try {
    images = parsePpmStream(bytes);
  } catch (error) {
    throw new InputError('DECODE_FAILED', `Cannot read the frames ffmpeg decoded at ${targets.map((t) => t.toFixed(3)).join(', ')} s: ${(error as Error).message}`, {
      cause: error,
      details: { path: videoPath },
    });
  }
  if (images.length === 0) {
    const why = result.stderr.trim().split('\n').pop() ?? `exit code ${String(result.code)}`;
    throw new InputError('DECODE_FAILED', `No frame decoded at ${targets.map((t) => t.toFixed(3)).join(', ')} s (${why || `exit code ${String(result.code)}`})`, {
      details: { path: videoPath, exitCode: result.code },
    });
  }
  // When fewer frames came out than asked (the end of the stream), the ones that did are the earliest targets.
  return images.map((image, i) => ({ time: targets[i]!, image }));
}
