/**
 * Decode a video into small RGB24 frames for analysis. ffmpeg scales and converts in one pass and writes raw
 * frames to a pipe; the `showinfo` filter reports each frame's presentation timestamp on stderr, so every
 * frame keeps its real time (variable frame rate included) and none is duplicated or dropped (`-vsync 0`).
 * Rotation is applied by ffmpeg's autorotate; the analysis size follows the display aspect ratio (rotation and
 * pixel aspect applied). Reading is pull-based: when the consumer stops pulling, the pipe fills and ffmpeg
 * waits, so memory does not grow with the video's length.
 */
import { AbortError, InputError, throwIfAborted } from '../errors.js';
import { fileUrl, resolveFfmpegPaths, safeInputArgs, spawnTool, type FfmpegPathOptions } from './ffmpeg.js';
import type { ProbeResult } from './probe.js';

/** Options for decoding. */
export interface DecodeOptions extends FfmpegPathOptions {
  /** Analysis frame area in pixels; the size follows the display aspect ratio. Default 20736 (192x108 at 16:9). */
  analysisArea?: number | undefined;
  /** ffmpeg decoder threads; 0 lets ffmpeg choose. Default 0. */
  threads?: number | undefined;
  /** Skip H.264's in-loop deblocking filter (faster; measured in benchmarks/speed). Default false. */
  skipLoopFilter?: boolean | undefined;
  /** Scaler algorithm. Default "area". */
  scaler?: 'area' | 'bilinear' | 'fast_bilinear' | 'bicubic' | undefined;
  /** Frames per batch handed to the consumer. Default 64. */
  batchFrames?: number | undefined;
  /**
   * Decode from this position, in seconds from the start of the video. ffmpeg seeks before opening the input
   * (`-ss` before `-i`, fast), then decodes and drops frames up to the position, so the first frame is exact.
   * Frame timestamps stay relative to the first decoded frame; {@link FrameTimes.firstSeconds} says where it is.
   */
  start?: number | undefined;
  /** Stop before this position (exclusive), in seconds from the start of the video. */
  end?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** A run of consecutive decoded frames, packed RGB24, preceded by the previous frame when there is one. */
export interface FrameBatch {
  /** Index of the first frame of the batch (not counting the leading previous frame). */
  firstIndex: number;
  /** Frames in the batch (not counting the leading previous frame). */
  count: number;
  /** True when slot 0 holds the frame before `firstIndex`. */
  hasPrev: boolean;
  width: number;
  height: number;
  /** (hasPrev ? 1 : 0) + count frames of width*height*3 bytes; owned by the consumer (transferable). */
  buffer: ArrayBuffer;
}

/** The frame size used for analysis of a probed video. */
export function analysisSize(probed: ProbeResult, area = 20736): { width: number; height: number } {
  const aspect = probed.stream.display_width / probed.stream.display_height;
  const even = (v: number): number => Math.max(16, 2 * Math.round(v / 2));
  const width = even(Math.sqrt(area * aspect));
  const height = even(width / aspect);
  return { width, height };
}

/** Timestamps of decoded frames, filled while decoding runs. */
export class FrameTimes {
  private values = new Float64Array(1024);
  private length = 0;
  private first: number | null = null;
  /** Time base of the pts values. */
  timeBase: [number, number] = [1, 1];

  /** Record the pts of frame n (in order). */
  push(pts: number): void {
    if (this.first === null) this.first = pts;
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = pts;
  }

  /** Number of timestamps recorded. */
  get count(): number {
    return this.length;
  }

  /**
   * Seconds of the first frame after the seek point (0 without `start`); add `start` for the position on the
   * video's own timeline.
   */
  firstSeconds(): number {
    const [num, den] = this.timeBase;
    return this.first === null ? 0 : (this.first * num) / den;
  }

  /** Seconds from the first frame, exact to the stream's time base. */
  seconds(): Float64Array {
    const out = new Float64Array(this.length);
    const [num, den] = this.timeBase;
    const first = this.first ?? 0;
    for (let i = 0; i < this.length; i++) out[i] = ((this.values[i]! - first) * num) / den;
    return out;
  }
}

const SHOWINFO = /\bn:\s*(\d+)\s+pts:\s*(-?\d+|NOPTS)/;
const TIMEBASE = /config in time_base:\s*(\d+)\/(\d+)/;

/** The ffmpeg argument array for analysis decoding (exported for tests and benchmarks). */
export function decodeArgs(probed: ProbeResult, width: number, height: number, options: DecodeOptions = {}): string[] {
  const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info'];
  args.push('-threads', String(options.threads ?? 0));
  if (options.skipLoopFilter === true) args.push('-skip_loop_filter', 'all');
  const start = options.start ?? 0;
  // -ss before -i seeks the demuxer (fast) and ffmpeg then drops the frames before the position (exact).
  if (start > 0) args.push('-ss', start.toFixed(6));
  args.push(...safeInputArgs(), '-i', fileUrl(probed.path));
  args.push('-map', `0:${probed.stream.index}`, '-an', '-sn', '-dn');
  // After the seek, timestamps start at the seek point, so the range's end is `end - start`; trim cuts exactly
  // there (the output option -t overshoots by a frame or two).
  const trim = options.end !== undefined ? `trim=end=${(options.end - start).toFixed(6)},` : '';
  args.push('-vf', `${trim}scale=${width}:${height}:flags=${options.scaler ?? 'area'},format=rgb24,showinfo`);
  args.push('-vsync', '0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');
  return args;
}

/**
 * Decode `probed` into batches of analysis frames. `times` receives every frame's pts as it is decoded; read
 * `times.seconds()` once the iteration ends.
 * @throws InputError DECODE_FAILED when no frame can be decoded; AbortError when aborted.
 */
export async function* decodeBatches(probed: ProbeResult, times: FrameTimes, options: DecodeOptions = {}): AsyncGenerator<FrameBatch> {
  const { width, height } = analysisSize(probed, options.analysisArea);
  const frameBytes = width * height * 3;
  const batchFrames = options.batchFrames ?? 64;
  const { ffmpeg } = resolveFfmpegPaths(options);
  throwIfAborted(options.signal);
  let lineBuffer = '';
  const errors: string[] = [];
  const onStderr = (chunk: string): void => {
    lineBuffer += chunk;
    let newline: number;
    while ((newline = lineBuffer.indexOf('\n')) >= 0) {
      const line = lineBuffer.slice(0, newline);
      lineBuffer = lineBuffer.slice(newline + 1);
      const m = SHOWINFO.exec(line);
      if (m !== null) {
        times.push(m[2] === 'NOPTS' ? times.count : Number(m[2]));
        continue;
      }
      const tb = TIMEBASE.exec(line);
      if (tb !== null) {
        times.timeBase = [Number(tb[1]), Number(tb[2])];
        continue;
      }
      if (/error|invalid|corrupt|truncat|missing/i.test(line) && errors.length < 20) errors.push(line.replace(/^\[[^\]]*\]\s*/, '').trim());
    }
  };
  const { child, stderrTail } = spawnTool(ffmpeg, decodeArgs(probed, width, height, options), { signal: options.signal, onStderr });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  exited.catch(() => undefined);
  let index = 0;
  let batch = new Uint8Array(new ArrayBuffer(frameBytes * batchFrames));
  let hasPrev = false;
  let fill = 0; // bytes written into batch, including the previous-frame slot
  const slotStart = (): number => (hasPrev ? frameBytes : 0);
  try {
    for await (const chunk of child.stdout! as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(chunk.length - offset, batch.length - fill);
        batch.set(chunk.subarray(offset, offset + n), fill);
        fill += n;
        offset += n;
        if (fill === batch.length) {
          const count = (fill - slotStart()) / frameBytes;
          const full: FrameBatch = { firstIndex: index, count, hasPrev, width, height, buffer: batch.buffer as ArrayBuffer };
          const next = new Uint8Array(new ArrayBuffer(frameBytes * (batchFrames + 1)));
          next.set(batch.subarray(fill - frameBytes, fill), 0);
          index += count;
          batch = next;
          hasPrev = true;
          fill = frameBytes;
          yield full;
        }
      }
    }
    const code = await exited;
    throwIfAborted(options.signal);
    const rest = fill - slotStart();
    if (rest >= frameBytes) {
      const count = Math.floor(rest / frameBytes);
      const used = slotStart() + count * frameBytes;
      const buffer = batch.buffer.slice(0, used) as ArrayBuffer;
      index += count;
      yield { firstIndex: index - count, count, hasPrev, width, height, buffer };
    }
    if (index === 0) {
      const why = errors[0] ?? stderrTail().trim().split('\n').pop() ?? 'no frame decoded';
      throw new InputError('DECODE_FAILED', `No frame could be decoded from ${probed.path.split(/[\\/]/).pop()}: truncated or corrupt video (${why})`, { details: { path: probed.path, exitCode: code } });
    }
    const expected = options.start !== undefined || options.end !== undefined ? null : probed.stream.nb_frames;
    const partial = errors.some((e) => /partial file/i.test(e)) || (expected !== null && errors.length > 0 && index < expected - Math.max(2, 0.02 * expected));
    if (partial) {
      throw new InputError('DECODE_FAILED', `${probed.path.split(/[\\/]/).pop()} is truncated or corrupt: decoded ${index} of ${expected ?? '?'} frames (${errors[0] ?? 'partial file'})`, { details: { path: probed.path, decoded: index, expected } });
    }
    if (times.count !== index) {
      throw new InputError('DECODE_FAILED', `Decoder reported ${times.count} timestamps for ${index} frames`, { details: { path: probed.path } });
    }
  } catch (error) {
    if (options.signal?.aborted === true) throw new AbortError(undefined, { cause: options.signal.reason });
    throw error;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

