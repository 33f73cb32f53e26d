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
import type { BufferPool } from '../util/buffer-pool.js';

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
  /** Stop with BUDGET_EXCEEDED once more than this many frames decode. Default: no limit. */
  maxFrames?: number | undefined;
  /** Stop with BUDGET_EXCEEDED when decoding takes longer than this (wall clock, ms). Default: no limit. */
  timeLimitMs?: number | undefined;
  /**
   * Decode from this position, in seconds from the start of the video. ffmpeg seeks before opening the input
   * (`-ss` before `-i`, fast), then decodes and drops frames up to the position, so the first frame is exact.
   * Frame timestamps stay relative to the first decoded frame; {@link FrameTimes.firstSeconds} says where it is.
   */
  start?: number | undefined;
  /** Stop before this position (exclusive), in seconds from the start of the video. */
  end?: number | undefined;
  /**
   * Decode the frames whose stream timestamps lie in [startPts, endPts] (inclusive; endPts null: to the end),
   * keeping the stream's own timestamps (`-copyts`): ffmpeg seeks the demuxer to the keyframe at or before
   * `seekSeconds` (no frame dropping by time) and a pts-exact trim keeps the range. Instead of `start`/`end`;
   * the span checks of a whole decode are left to the caller (a chunk of a long video, see src/jobs/chunks.ts).
   */
  ptsWindow?: { seekSeconds: number; startPts: number | null; endPts: number | null } | undefined;
  /**
   * Where batch buffers come from: the consumer gives each batch's buffer back once done with it, and the
   * decoder fills it again. Default: a new buffer for every batch.
   */
  buffers?: BufferPool | undefined;
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
  /**
   * (hasPrev ? 1 : 0) + count frames of width*height*3 bytes; owned by the consumer (transferable), who may give
   * it back to {@link DecodeOptions.buffers} once done with it.
   */
  buffer: ArrayBuffer;
}

/** The frame size used for analysis of a probed video. */
export function analysisSize(probed: ProbeResult, area = 20736): { width: number; height: number } {
  const aspect = probed.stream.display_width / probed.stream.display_height;
  const even = (v: number): number => Math.min(ANALYSIS_MAX_SIDE, Math.max(16, 2 * Math.round(v / 2)));
  let width = even(Math.sqrt(area * aspect));
  let height = even(width / aspect);
  // Past about 810:1 one side stops at 16 pixels and the other would grow without bound (16x16384 asked for a
  // 16x16384 analysis frame, which the feature pool refuses): keep the area instead of the aspect ratio.
  if (width * height > 1.1 * area) {
    if (width <= height) height = even(area / width);
    else width = even(area / height);
  }
  return { width, height };
}

/**
 * Codecs ffmpeg decodes only in some of their variants: when none of their frames decodes, the codec is the
 * likelier cause than damage, and the error says so (UNSUPPORTED_CODEC).
 */
const PARTLY_SUPPORTED_CODECS = new Map([
  ['cfhd', 'CineForm'],
  ['prores_raw', 'ProRes RAW'],
  ['braw', 'Blackmagic RAW'],
  ['r3d', 'REDCODE'],
  ['dxv', 'Resolume DXV'],
  ['hap', 'Hap'],
  ['notchlc', 'NotchLC'],
]);

/** Largest analysis side (the feature kernel accepts up to 4096). */
const ANALYSIS_MAX_SIDE = 4096;

/** Frames of pts per chunk of {@link FrameTimes} (512 KB). */
const TIMES_CHUNK = 65536;
const EMPTY = new Float64Array(0);

/**
 * Timestamps of decoded frames, filled while decoding runs. They are kept in fixed chunks, not one array that
 * doubles: growing a doubling array copies it with both copies alive (50 MB at a moment, for 24 hours at 30
 * fps), where chunks cost 8 bytes a frame and nothing more.
 */
export class FrameTimes {
  private chunks: Float64Array[] = [];
  private length = 0;
  private first: number | null = null;
  /** Time base of the pts values. */
  timeBase: [number, number] = [1, 1];
  /** Nominal frame duration in seconds, the step used where timestamps do not move forward. */
  frameDuration = 0.04;

  /** Record the pts of frame n (in order). */
  push(pts: number): void {
    if (this.first === null) this.first = pts;
    const at = this.length % TIMES_CHUNK;
    if (at === 0) this.chunks.push(new Float64Array(TIMES_CHUNK));
    this.chunks[this.chunks.length - 1]![at] = pts;
    this.length++;
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

  /** Seconds from the first frame to the last one, on the same monotone clock as {@link seconds} (no allocation). */
  span(): number {
    let last = 0;
    this.walk((_, t) => (last = t));
    return last;
  }

  /**
   * Seconds from the first frame, exact to the stream's time base, rounded to the microsecond, and strictly
   * increasing by construction: a timestamp that does not move forward (pts that go backwards or repeat, as in
   * badly joined segments) is placed one `frameDuration` after the frame before it, so no scene can end before
   * it starts or last zero seconds.
   */
  seconds(): Float64Array {
    const out = new Float64Array(this.length);
    this.walk((i, t) => (out[i] = t));
    return out;
  }

  /**
   * {@link seconds}, freeing the pts as they are converted (chunk by chunk), so the two never sit in memory
   * whole at once. The timestamps are gone afterwards (`count` is 0; {@link firstSeconds} still answers).
   */
  takeSeconds(): Float64Array {
    const out = new Float64Array(this.length);
    const chunks = this.chunks;
    this.walk((i, t) => {
      out[i] = t;
      // The last value of a chunk read: drop the chunk.
      if (i % TIMES_CHUNK === TIMES_CHUNK - 1) chunks[Math.floor(i / TIMES_CHUNK)] = EMPTY;
    });
    this.chunks = [];
    this.length = 0;
    return out;
  }

  /** Call `visit` with each frame's monotone time (see {@link seconds}). */
  private walk(visit: (index: number, seconds: number) => void): void {
    const [num, den] = this.timeBase;
    const first = this.first ?? 0;
    const step = this.frameDuration > 0 ? Math.max(1e-6, Math.round(this.frameDuration * 1e6) / 1e6) : 0.04;
    let previous = -Infinity;
    for (let i = 0; i < this.length; i++) {
      let t = Math.round((((this.chunks[Math.floor(i / TIMES_CHUNK)]![i % TIMES_CHUNK]! - first) * num) / den) * 1e6) / 1e6;
      if (!(t > previous)) t = i === 0 ? 0 : Math.round((previous + step) * 1e6) / 1e6;
      visit(i, t);
      previous = t;
    }
  }
}

/**
 * Throw DECODE_FAILED when the decoded time falls short of what the file states. Most containers state no
 * frame count, so the frame-count check alone let a `head -c 30%` MKV pass with a third of its scenes.
 * - Matroska/WebM: the muxer writes each track's DURATION (an end time) once the file is complete, so a file
 *   that decodes to less than it, minus its start, was cut, decoder errors or not.
 * - Other containers: their stated durations are often wrong on intact files (a header claiming 25.8 s where
 *   21 s decode cleanly), so falling short counts only together with decoder errors.
 * - Ogg states no duration (ffmpeg estimates it from the last page), so a cut is seen in the last page itself
 *   (`StreamInfo.complete`).
 * @param decodedSeconds time from the first decoded frame to the end of the last one.
 * @param errors decoder error lines seen.
 * @param expectedSeconds what should have been decoded, when the caller decodes a range (default: the file's
 *   stated duration).
 * @throws InputError DECODE_FAILED with `details.decoded_seconds` and `details.expected_seconds`.
 */
export function checkDecodedSpan(probed: ProbeResult, decodedSeconds: number, errors: readonly string[], expectedSeconds?: number): void {
  const s = probed.stream;
  const name = probed.path.split(/[\\/]/).pop();
  const matroska = s.raw_format_name.split(',').includes('matroska');
  const stated = s.duration ?? s.container_duration;
  let expected: number | null = expectedSeconds ?? null;
  if (expected === null && stated !== null && stated > 0 && (matroska || errors.length > 0)) {
    const start = Math.max(0, s.start_time - Math.max(0, s.container_start_time ?? 0), matroska ? s.start_time : 0);
    expected = stated - start > 0 ? stated - start : stated;
  }
  const frame = 1 / (s.frame_rate > 0 ? s.frame_rate : 25);
  // A track's own duration is frame-exact; the container's covers every stream (audio may run a little longer).
  const tolerance = expectedSeconds !== undefined || s.duration !== null ? Math.max(3 * frame, 0.02 * (expected ?? 0)) : Math.max(0.5, 0.05 * (expected ?? 0), 3 * frame);
  const details = { path: probed.path, decoded_seconds: Math.round(decodedSeconds * 1e6) / 1e6, expected_seconds: expected === null ? null : Math.round(expected * 1e6) / 1e6 };
  if (expected !== null && decodedSeconds < expected - tolerance) {
    throw new InputError('DECODE_FAILED', `${name} is truncated or corrupt: decoded ${decodedSeconds.toFixed(3)} s of the ${expected.toFixed(3)} s it states${errors[0] !== undefined ? ` (${errors[0]})` : ''}`, { details });
  }
  if (s.complete === false) {
    throw new InputError('DECODE_FAILED', `${name} is truncated or corrupt: its last Ogg page is incomplete or not an end-of-stream page (decoded ${decodedSeconds.toFixed(3)} s)`, { details });
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
  const window = options.ptsWindow;
  // -ss before -i seeks the demuxer (fast) and ffmpeg then drops the frames before the position (exact).
  if (window !== undefined) args.push('-copyts', ...(window.seekSeconds > 0 ? ['-noaccurate_seek', '-ss', window.seekSeconds.toFixed(6)] : []));
  else if (start > 0) args.push('-ss', start.toFixed(6));
  args.push(...safeInputArgs(resolveFfmpegPaths(options).ffmpeg), '-i', fileUrl(probed.path));
  args.push('-map', `0:${probed.stream.index}`, '-an', '-sn', '-dn');
  // After the seek, timestamps start at the seek point, so the range's end is `end - start`; trim cuts exactly
  // there (the output option -t overshoots by a frame or two).
  let trim = options.end !== undefined ? `trim=end=${(options.end - start).toFixed(6)},` : '';
  if (window !== undefined) {
    const bounds = [...(window.startPts === null ? [] : [`start_pts=${window.startPts}`]), ...(window.endPts === null ? [] : [`end_pts=${window.endPts + 1}`])];
    trim = bounds.length === 0 ? '' : `trim=${bounds.join(':')},`;
  }
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
  if (probed.stream.frame_rate > 0) times.frameDuration = 1 / probed.stream.frame_rate;
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
      // Our own rawvideo pipe complains about pts that go backwards; FrameTimes handles those, they are no damage.
      if (/non monotonically increasing dts to muxer/.test(line)) continue;
      if (/error|invalid|corrupt|truncat|missing/i.test(line) && errors.length < 20) errors.push(line.replace(/^\[[^\]]*\]\s*/, '').trim());
    }
  };
  const { child, stderrTail } = spawnTool(ffmpeg, decodeArgs(probed, width, height, options), { signal: options.signal, onStderr });
  let overBudget: string | null = null;
  const budgetTimer =
    options.timeLimitMs === undefined
      ? undefined
      : setTimeout(() => {
          overBudget = `decoding took longer than the ${options.timeLimitMs} ms budget (timeLimitMs)`;
          child.kill('SIGKILL');
        }, options.timeLimitMs);
  const budgetError = (): InputError =>
    new InputError('BUDGET_EXCEEDED', `${probed.path.split(/[\\/]/).pop()}: ${overBudget ?? 'over budget'}`, { details: { path: probed.path, maxFrames: options.maxFrames ?? null, timeLimitMs: options.timeLimitMs ?? null } });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  exited.catch(() => undefined);
  let index = 0;
  const take = (bytes: number): ArrayBuffer => options.buffers?.take(bytes) ?? new ArrayBuffer(bytes);
  let batch = new Uint8Array(take(frameBytes * batchFrames));
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
          if (options.maxFrames !== undefined && index + count > options.maxFrames) {
            overBudget = `more than the ${options.maxFrames} frames of its budget (maxFrames)`;
            throw budgetError();
          }
          const full: FrameBatch = { firstIndex: index, count, hasPrev, width, height, buffer: batch.buffer as ArrayBuffer };
          const next = new Uint8Array(take(frameBytes * (batchFrames + 1)));
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
    if (overBudget !== null) throw budgetError();
    if (options.maxFrames !== undefined && index + Math.floor((fill - slotStart()) / frameBytes) > options.maxFrames) {
      overBudget = `more than the ${options.maxFrames} frames of its budget (maxFrames)`;
      throw budgetError();
    }
    const rest = fill - slotStart();
    if (rest >= frameBytes) {
      const count = Math.floor(rest / frameBytes);
      const used = slotStart() + count * frameBytes;
      // A short last batch (a full one was handed on in the loop): a copy of its exact size.
      const buffer = batch.buffer.slice(0, used) as ArrayBuffer;
      options.buffers?.give(batch.buffer as ArrayBuffer);
      index += count;
      yield { firstIndex: index - count, count, hasPrev, width, height, buffer };
    }
    if (index === 0) {
      const why = errors[0] ?? stderrTail().trim().split('\n').pop() ?? 'no frame decoded';
      const codec = probed.metadata.video_codec ?? 'unknown';
      if (/Decoder \(codec [^)]*\) not found|not implemented|Unsupported codec|no decoder/i.test(stderrTail()) || PARTLY_SUPPORTED_CODECS.has(codec)) {
        const known = PARTLY_SUPPORTED_CODECS.get(codec);
        throw new InputError('UNSUPPORTED_CODEC', `${probed.path.split(/[\\/]/).pop()} uses the ${codec} codec${known === undefined ? '' : ` (${known})`} in a form this ffmpeg cannot decode (${why})`, { details: { path: probed.path, codec, exitCode: code } });
      }
      throw new InputError('DECODE_FAILED', `No frame could be decoded from ${probed.path.split(/[\\/]/).pop()}: truncated or corrupt video (${why})`, { details: { path: probed.path, exitCode: code } });
    }
    const expected = options.start !== undefined || options.end !== undefined || options.ptsWindow !== undefined ? null : probed.stream.nb_frames;
    const partial = errors.some((e) => /partial file/i.test(e)) || (expected !== null && errors.length > 0 && index < expected - Math.max(2, 0.02 * expected));
    if (partial) {
      throw new InputError('DECODE_FAILED', `${probed.path.split(/[\\/]/).pop()} is truncated or corrupt: decoded ${index} of ${expected ?? '?'} frames (${errors[0] ?? 'partial file'})`, { details: { path: probed.path, decoded: index, expected } });
    }
    const decodedSeconds = times.span() + 1 / probed.stream.frame_rate;
    if (options.ptsWindow !== undefined) {
      // A chunk: the caller checks the span of the merged chunks against the file's.
    } else if (options.start === undefined && options.end === undefined) checkDecodedSpan(probed, decodedSeconds, errors);
    // A range that ends inside the file must decode whole; one that runs to the end is checked like the file's
    // tail would be only by its stated duration, which intact files often overstate: left to the errors above.
    else if (options.end !== undefined && options.end < (probed.metadata.duration_seconds ?? Infinity)) checkDecodedSpan(probed, decodedSeconds, errors, options.end - (options.start ?? 0));
    if (times.count !== index) {
      throw new InputError('DECODE_FAILED', `Decoder reported ${times.count} timestamps for ${index} frames`, { details: { path: probed.path } });
    }
  } catch (error) {
    if (options.signal?.aborted === true) throw new AbortError(undefined, { cause: options.signal.reason });
    throw error;
  } finally {
    if (budgetTimer !== undefined) clearTimeout(budgetTimer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

