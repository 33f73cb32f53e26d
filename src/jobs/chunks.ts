/**
 * Chunked detection of a long video: the per-frame features are computed in chunks that any worker may
 * decode, and detection runs once over their concatenation.
 *
 * Why this design and not detection per chunk with merged boundaries: detection is cheap next to decoding
 * (the decoder and the feature kernel are >95 % of a detect step), and running it once over the whole series
 * gives the boundaries of one pass by construction, gradual transitions across a seam included, with no seam
 * rule to get wrong. What must then hold is that every frame's features are those of one pass:
 * - A chunk starts at a keyframe (src/media/chunk.ts) and decodes with the stream's own timestamps
 *   (`-copyts`) up to and including the first frame of the next chunk, selected by pts, not by time. A decode
 *   that starts at a keyframe is bit-exact (the decoder is reset there), and the frame is identified by its pts,
 *   so no rounding of seek times can shift a frame.
 * - A frame's features depend on it and the frame before it (the kernel's differences). The first frame of a
 *   chunk has no previous frame in its decode, so its features come from the chunk before, whose last frame it
 *   is (one frame of overlap, decoded twice). The merge checks that the two decodes of that frame agree bit for
 *   bit on everything that does not depend on the previous frame (histogram, hash, colour layout), and that
 *   the pts join up; a mismatch fails the job (DECODE_FAILED) instead of passing off different boundaries.
 * - Frame times are computed from the merged raw pts by the decoder's own FrameTimes, exactly as in one pass.
 * A chunk's result (raw pts and features, ~800 bytes a frame, gzip level 1) is stored in the job store, so a
 * chunk decoded on one host is merged on another.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { InputError, throwIfAborted } from '../errors.js';
import type { FeaturePool } from '../features/pool.js';
import { SeriesFile } from '../features/series-file.js';
import { GRID_SIZE, HIST_BINS, SCALAR_COUNT, SCALAR_NAMES, type FeatureBatch } from '../features/types.js';
import { seriesFromBatches } from '../detect/series.js';
import { keyframesAtOrBefore } from '../media/chunk.js';
import { analysisSize, checkDecodedSpan, decodeBatches, FrameTimes } from '../media/decode.js';
import type { FfmpegPathOptions } from '../media/ffmpeg.js';
import type { ProbeResult } from '../media/probe.js';

/** What one chunk decodes: frames with pts in [start_pts, end_pts] (null: from the start / to the end). */
export interface ChunkSpec {
  chunk_index: number;
  /** Where ffmpeg seeks to (seconds, as its -ss takes them): just after the chunk's first keyframe. */
  seek_seconds: number;
  start_pts: number | null;
  end_pts: number | null;
  /** Seconds on the stream's clock the chunk covers (for progress). */
  start_seconds: number;
  end_seconds: number | null;
}

/** Options of the feature computation of a chunk (the detect options that change features). */
export interface ChunkFeatureOptions extends FfmpegPathOptions {
  analysisArea: number;
  decoderThreads: number;
  skipLoopFilter: boolean;
  batchFrames: number;
  workerThreads: number;
  /** The whole video's frame budget: a chunk that decodes more fails with BUDGET_EXCEEDED. */
  maxFrames?: number | undefined;
  /** The chunk's decode time budget (ms). */
  timeLimitMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Frames done so far, and the chunk's expected frame count. */
  onProgress?: ((frames: number, expected: number | null) => void) | undefined;
}

/**
 * Plan the chunks of a probed video: null when it is no longer than `spanSeconds` (one pass), else chunks of
 * about `spanSeconds` each, starting at the keyframe at or before every multiple of the span.
 */
export async function planChunks(probed: ProbeResult, spanSeconds: number, options: FfmpegPathOptions & { signal?: AbortSignal | undefined } = {}): Promise<ChunkSpec[] | null> {
  const duration = probed.metadata.duration_seconds;
  if (duration === null || !(duration > spanSeconds)) return null;
  const origin = Math.max(0, probed.stream.start_time);
  const positions: number[] = [];
  for (let t = spanSeconds; t < duration; t += spanSeconds) positions.push(origin + t);
  const keyframes = (await keyframesAtOrBefore(probed, positions, options)).filter((k) => k.seconds > origin + 1e-6);
  if (keyframes.length === 0) return null;
  const half = probed.stream.frame_rate > 0 ? 0.5 / probed.stream.frame_rate : 0.02;
  const containerStart = Math.max(0, probed.stream.container_start_time ?? 0);
  const chunks: ChunkSpec[] = [];
  for (let i = 0; i <= keyframes.length; i++) {
    const start = i === 0 ? null : keyframes[i - 1]!;
    const end = keyframes[i] ?? null;
    chunks.push({
      chunk_index: i,
      // ffmpeg adds the container's start time to -ss; half a frame past the keyframe lands on it, never before.
      seek_seconds: start === null ? 0 : Math.max(0, start.seconds - containerStart + half),
      start_pts: start?.pts ?? null,
      end_pts: end?.pts ?? null,
      start_seconds: start === null ? origin : start.seconds,
      end_seconds: end?.seconds ?? null,
    });
  }
  return chunks;
}

/** FrameTimes that also keep each frame's raw pts. */
class RawFrameTimes extends FrameTimes {
  readonly raw: number[] = [];
  override push(pts: number): void {
    this.raw.push(pts);
    super.push(pts);
  }
}

/**
 * Decode one chunk and compute its frames' features in `pool`; resolves with the stored form (raw pts and
 * features of every decoded frame, gzip).
 * @throws InputError DECODE_FAILED (no frame, or frames without timestamps); AbortError.
 */
export async function computeChunk(probed: ProbeResult, spec: ChunkSpec, pool: FeaturePool, options: ChunkFeatureOptions): Promise<Buffer> {
  const { width, height } = analysisSize(probed, options.analysisArea);
  const times = new RawFrameTimes();
  const finished = new Map<number, FeatureBatch>();
  const batches: FeatureBatch[] = [];
  let nextToAppend = 0;
  const inflight: Promise<void>[] = [];
  const fps = probed.stream.frame_rate > 0 ? probed.stream.frame_rate : 25;
  const expected = spec.end_seconds === null ? (probed.metadata.duration_seconds === null ? null : Math.max(1, Math.round((probed.metadata.duration_seconds + Math.max(0, probed.stream.start_time) - spec.start_seconds) * fps))) : Math.max(1, Math.round((spec.end_seconds - spec.start_seconds) * fps) + 1);
  let done = 0;
  try {
    let slot = 0;
    for await (const batch of decodeBatches(probed, times, {
      analysisArea: options.analysisArea,
      threads: options.decoderThreads,
      skipLoopFilter: options.skipLoopFilter,
      batchFrames: options.batchFrames,
      ffmpegPath: options.ffmpegPath,
      ffprobePath: options.ffprobePath,
      maxFrames: options.maxFrames,
      timeLimitMs: options.timeLimitMs,
      signal: options.signal,
      ptsWindow: { seekSeconds: spec.seek_seconds, startPts: spec.start_pts, endPts: spec.end_pts },
    })) {
      const at = slot++;
      const count = batch.count;
      const computed = pool.compute(batch.buffer, width, height, batch.count, batch.hasPrev, options.signal).then((features) => {
        finished.set(at, features);
        for (let ready = finished.get(nextToAppend); ready !== undefined; ready = finished.get(nextToAppend)) {
          finished.delete(nextToAppend++);
          batches.push(ready);
        }
        done += count;
        options.onProgress?.(done, expected);
      });
      computed.catch(() => undefined);
      inflight.push(computed);
      if (inflight.length >= options.workerThreads + 2) await inflight.shift();
    }
    await Promise.all(inflight);
  } catch (error) {
    await Promise.allSettled(inflight);
    throw error;
  }
  throwIfAborted(options.signal);
  return encodeChunk(times.raw, batches);
}

const MAGIC = 'SCK1';

/** The stored form of a chunk: header, raw pts (float64), then the feature arrays, gzip level 1. */
export function encodeChunk(pts: readonly number[], batches: readonly FeatureBatch[]): Buffer {
  const count = batches.reduce((n, b) => n + b.count, 0);
  if (count !== pts.length) throw new InputError('DECODE_FAILED', `The decoder reported ${pts.length} timestamps for ${count} frames`);
  // The chunk's features joined as one series (its times are the raw pts, stored beside them).
  const { scalars, hist, hash, grid } = seriesFromBatches(batches, new Float64Array(0), 0);
  const header = Buffer.alloc(16);
  header.write(MAGIC, 0, 'latin1');
  header.writeUInt32LE(count, 4);
  header.writeUInt32LE(SCALAR_COUNT, 8);
  header.writeUInt32LE(GRID_SIZE, 12);
  const parts = [header, Float64Array.from(pts), scalars, hist, hash, grid].map((a) => (Buffer.isBuffer(a) ? a : Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
  return gzipSync(Buffer.concat(parts), { level: 1 });
}

/** A decoded chunk. */
export interface DecodedChunk {
  count: number;
  pts: Float64Array;
  batch: FeatureBatch;
}

/** Read a stored chunk. @throws InputError DECODE_FAILED when it is damaged or from another feature layout. */
export function decodeChunk(stored: Buffer): DecodedChunk {
  const bytes = gunzipSync(stored);
  const count = bytes.readUInt32LE(4);
  if (bytes.toString('latin1', 0, 4) !== MAGIC || bytes.readUInt32LE(8) !== SCALAR_COUNT || bytes.readUInt32LE(12) !== GRID_SIZE) {
    throw new InputError('DECODE_FAILED', 'A stored chunk of features is damaged or was made by another version of scenescope');
  }
  const sizes = [count * 8, count * SCALAR_COUNT * 8, count * HIST_BINS * 4, count * 8, count * GRID_SIZE];
  if (bytes.byteLength !== 16 + sizes.reduce((a, b) => a + b, 0)) throw new InputError('DECODE_FAILED', 'A stored chunk of features is truncated');
  // Copies into fresh (aligned) buffers.
  let at = 16;
  const take = (n: number): ArrayBuffer => {
    const out = bytes.buffer.slice(bytes.byteOffset + at, bytes.byteOffset + at + n) as ArrayBuffer;
    at += n;
    return out;
  };
  const pts = new Float64Array(take(sizes[0]!));
  const batch: FeatureBatch = { count, scalars: new Float64Array(take(sizes[1]!)), hist: new Uint32Array(take(sizes[2]!)), hash: new Uint32Array(take(sizes[3]!)), grid: new Uint8Array(take(sizes[4]!)) };
  return { count, pts, batch };
}

/** Scalars that describe the frame alone (not its difference from the previous one): compared at seams. */
const INTRA_SCALARS = (['mean_luma', 'std_luma', 'mean_rgb', 'edge_density', 'sharpness'] as const).map((n) => SCALAR_NAMES.indexOf(n));

function sameIntraFeatures(a: FeatureBatch, i: number, b: FeatureBatch, j: number): boolean {
  for (let k = 0; k < HIST_BINS; k++) if (a.hist[i * HIST_BINS + k] !== b.hist[j * HIST_BINS + k]) return false;
  if (a.hash[2 * i] !== b.hash[2 * j] || a.hash[2 * i + 1] !== b.hash[2 * j + 1]) return false;
  for (let k = 0; k < GRID_SIZE; k++) if (a.grid[i * GRID_SIZE + k] !== b.grid[j * GRID_SIZE + k]) return false;
  for (const k of INTRA_SCALARS) if (!Object.is(a.scalars[i * SCALAR_COUNT + k], b.scalars[j * SCALAR_COUNT + k])) return false;
  return true;
}

function sliceBatch(b: FeatureBatch, from: number): FeatureBatch {
  return {
    count: b.count - from,
    scalars: b.scalars.subarray(from * SCALAR_COUNT),
    hist: b.hist.subarray(from * HIST_BINS),
    hash: b.hash.subarray(from * 2),
    grid: b.grid.subarray(from * GRID_SIZE),
  };
}

/**
 * Concatenate the chunks (read one at a time, in order) into one off-heap series with the times of one pass.
 * The caller closes the returned file.
 * @throws InputError DECODE_FAILED when the chunks do not join up (pts or the shared frame differ), or when the
 *   merged decode falls short of the file's stated duration (as one pass would).
 */
export async function mergeChunks(probed: ProbeResult, count: number, read: (index: number) => Promise<Buffer>, signal?: AbortSignal): Promise<SeriesFile> {
  const file = new SeriesFile(probed.stream.frame_rate);
  try {
    const times = new FrameTimes();
    if (probed.stream.frame_rate > 0) times.frameDuration = 1 / probed.stream.frame_rate;
    times.timeBase = [...probed.stream.time_base];
    let last: { pts: number; batch: FeatureBatch; index: number } | null = null;
    for (let k = 0; k < count; k++) {
      throwIfAborted(signal);
      const chunk = decodeChunk(await read(k));
      let from = 0;
      if (last !== null) {
        // The chunk's first frame is the previous chunk's last one, decoded again from its keyframe.
        if (chunk.count === 0 || chunk.pts[0] !== last.pts || !sameIntraFeatures(last.batch, last.index, chunk.batch, 0)) {
          throw new InputError('DECODE_FAILED', `Chunk ${k} of ${probed.path} does not join the one before it (first pts ${chunk.pts[0] ?? 'none'}, expected ${last.pts} with identical pixels): the file cannot be decoded in chunks`, { details: { path: probed.path, chunk: k } });
        }
        from = 1;
      }
      for (let i = from; i < chunk.count; i++) times.push(chunk.pts[i]!);
      file.appendBatch(sliceBatch(chunk.batch, from));
      if (chunk.count > 0) last = { pts: chunk.pts[chunk.count - 1]!, batch: chunk.batch, index: chunk.count - 1 };
    }
    if (file.count === 0) throw new InputError('DECODE_FAILED', `No frame could be decoded from ${probed.path}`, { details: { path: probed.path } });
    checkDecodedSpan(probed, times.span() + 1 / (probed.stream.frame_rate > 0 ? probed.stream.frame_rate : 25), []);
    file.setTimes(times.seconds());
    return file;
  } catch (error) {
    file.close();
    throw error;
  }
}
