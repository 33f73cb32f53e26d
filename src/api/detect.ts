/**
 * detectScenes(path): probe, decode at analysis size, compute features in the worker pool, and find the
 * boundaries. Decoding and feature work overlap: a bounded number of batches is in flight, so memory stays
 * flat however long the video is.
 */
import { stat } from 'node:fs/promises';
import { detectBoundaries, resolveDetectionOptions, resolveStandaloneDetectionOptions, DETECTION_OPTION_KEYS, type DetectionResult, type ResolvedDetectionOptions } from '../detect/index.js';
import { seriesFromBatches, type FeatureSeries } from '../detect/series.js';
import type { Boundary, Scene } from '../detect/types.js';
import { AbortError, throwIfAborted } from '../errors.js';
import { FeaturePool } from '../features/pool.js';
import type { FeatureBatch } from '../features/types.js';
import { analysisSize, decodeBatches, FrameTimes } from '../media/decode.js';
import { probe, type ProbeResult } from '../media/probe.js';
import type { VideoMetadata } from '../types.js';
import { bool, func, integerIn, invalid, numberIn, oneOf, opt, plainOptions, signal as signalCheck, string } from '../util/validate.js';
import { readStats, writeStats, type StatsIdentity } from './stats.js';

/** Progress of a detection run. */
export interface DetectProgress {
  /** Frames decoded and analysed so far. */
  frames: number;
  /** Expected total (from the container), or null when unknown. */
  totalFrames: number | null;
  /** 0..100 */
  percent: number;
  /** "Detecting scenes (1520/3440 frames)" */
  currentStep: string;
}

/** Options of detectScenes (all optional). */
export interface DetectOptions {
  detector?: ResolvedDetectionOptions['detector'];
  threshold?: number;
  /** Minimum scene length in seconds. Default 0.5. */
  minSceneLen?: number;
  flashSuppression?: boolean;
  /** Write per-frame stats to this CSV; when it already holds this video's stats, read them instead of decoding. */
  statsFile?: string;
  /** Feature backend: "auto" (native, else TypeScript), "native" (insist), "typescript". Default "auto". */
  backend?: 'auto' | 'native' | 'typescript';
  /** Feature worker threads. Default 1 (ffmpeg's decoder takes the other cores). */
  workerThreads?: number;
  /** ffmpeg decoder threads, 0 = ffmpeg's choice. Default 0. */
  decoderThreads?: number;
  /** Frames per feature batch. Default 64. */
  batchFrames?: number;
  /** Analysis frame area in pixels. Default 20736 (192x108 at 16:9). */
  analysisArea?: number;
  /**
   * Skip the deblocking (loop) filter while decoding (H.264, HEVC). Default true: it saves 15-30 % of decode time
   * and left accuracy unchanged on two generated corpora and the peer clips (benchmarks/speed, docs/benchmarks.md).
   */
  skipLoopFilter?: boolean;
  /**
   * Analyse from this position, in seconds (default 0). Only the range is decoded: ffmpeg seeks first (fast),
   * then drops frames up to the position (exact). Frames, times and scenes of the result stay on the video's own
   * timeline: with `start: 10`, the first scene starts at about 10 s, at the frame index it has in the whole video.
   */
  start?: number;
  /** Stop before this position, in seconds (exclusive; default the end of the video). */
  end?: number;
  ffmpegPath?: string;
  ffprobePath?: string;
  signal?: AbortSignal;
  onProgress?: (progress: DetectProgress) => void;
}

/** Options with defaults applied. */
export interface ResolvedDetectOptions extends ResolvedDetectionOptions {
  statsFile: string | undefined;
  backend: 'auto' | 'native' | 'typescript';
  workerThreads: number;
  decoderThreads: number;
  batchFrames: number;
  analysisArea: number;
  skipLoopFilter: boolean;
  start: number;
  end: number | undefined;
  ffmpegPath: string | undefined;
  ffprobePath: string | undefined;
  signal: AbortSignal | undefined;
  onProgress: ((progress: DetectProgress) => void) | undefined;
}

const KEYS = [...DETECTION_OPTION_KEYS, 'statsFile', 'backend', 'workerThreads', 'decoderThreads', 'batchFrames', 'analysisArea', 'skipLoopFilter', 'start', 'end', 'ffmpegPath', 'ffprobePath', 'signal', 'onProgress'] as const;

/** Validate detectScenes options once, at the boundary. */
export function resolveDetectOptions(input: unknown): ResolvedDetectOptions {
  const o = plainOptions('detectScenes options', input, KEYS);
  return {
    ...resolveDetectionOptions(o),
    statsFile: opt<string | undefined>(o, 'statsFile', undefined, string),
    backend: opt(o, 'backend', 'auto', (n, v) => oneOf(n, v, ['auto', 'native', 'typescript'] as const)),
    workerThreads: opt(o, 'workerThreads', 1, (n, v) => integerIn(n, v, 1, 64)),
    decoderThreads: opt(o, 'decoderThreads', 0, (n, v) => integerIn(n, v, 0, 64)),
    batchFrames: opt(o, 'batchFrames', 64, (n, v) => integerIn(n, v, 1, 4096)),
    analysisArea: opt(o, 'analysisArea', 20736, (n, v) => numberIn(n, v, 1024, 1_000_000)),
    skipLoopFilter: opt(o, 'skipLoopFilter', true, bool),
    ...range(o),
    ffmpegPath: opt<string | undefined>(o, 'ffmpegPath', undefined, string),
    ffprobePath: opt<string | undefined>(o, 'ffprobePath', undefined, string),
    signal: opt<AbortSignal | undefined>(o, 'signal', undefined, signalCheck),
    onProgress: opt<((p: DetectProgress) => void) | undefined>(o, 'onProgress', undefined, func),
  };
}

function range(o: Record<string, unknown>): { start: number; end: number | undefined } {
  const start = opt(o, 'start', 0, (n, v) => numberIn(n, v, 0, 1e7));
  const end = opt<number | undefined>(o, 'end', undefined, (n, v) => numberIn(n, v, 0, 1e7));
  if (end !== undefined && end <= start) throw invalid(`end after start (${start})`, 'end', end);
  return { start, end };
}

/** What detectScenes returns: the JSON contract's fields plus the features and scores behind them. */
export interface DetectResult {
  schema_version: 1;
  video: VideoMetadata;
  frame_count: number;
  frame_rate: number;
  boundaries: Boundary[];
  scenes: Scene[];
  /** Detector name and threshold used. */
  detector: DetectionResult['detector'];
  threshold: number;
  /** Per-frame score tracks the detector thresholded. */
  scores: DetectionResult['scores'];
  /** Per-frame features (for re-running detection, keyframe choice, reports). */
  features: FeatureSeries;
  /** The probe result, with stream facts. */
  probe: ProbeResult;
  /** Where the features came from: "native", "typescript" or "stats". */
  featureSource: string;
  /**
   * Index in the whole video of the first analysed frame (0 unless `start` was given): `features` frame i is the
   * video's frame `frameOffset + i`, while boundaries and scenes already carry whole-video frame numbers.
   */
  frameOffset: number;
}

/**
 * Decode and compute the feature series of a probed video. Uses `pool` when given (the caller closes it),
 * else a pool of its own.
 */
export async function computeFeatureSeries(probed: ProbeResult, options: ResolvedDetectOptions, pool?: FeaturePool): Promise<{ series: FeatureSeries; backend: string }> {
  const { width, height } = analysisSize(probed, options.analysisArea);
  const ownPool = pool === undefined;
  pool ??= new FeaturePool({ threads: options.workerThreads, backend: options.backend });
  const times = new FrameTimes();
  const batches: FeatureBatch[] = [];
  const inflight: Promise<void>[] = [];
  const whole = probed.stream.nb_frames ?? (probed.metadata.duration_seconds !== null ? Math.round(probed.metadata.duration_seconds * probed.stream.frame_rate) : null);
  const rangeEnd = options.end ?? probed.metadata.duration_seconds;
  const total = options.start > 0 || options.end !== undefined ? (rangeEnd !== null ? Math.max(1, Math.round((rangeEnd - options.start) * probed.stream.frame_rate)) : null) : whole;
  let done = 0;
  let lastReport = 0;
  const report = (force = false): void => {
    if (options.onProgress === undefined) return;
    const now = Date.now();
    if (!force && now - lastReport < 100) return;
    lastReport = now;
    const totalShown = total === null ? null : Math.max(total, done);
    options.onProgress({
      frames: done,
      totalFrames: totalShown,
      percent: totalShown ? Math.min(100, (100 * done) / totalShown) : 0,
      currentStep: `Detecting scenes (${done}/${totalShown ?? '?'} frames)`,
    });
  };
  const maxInflight = options.workerThreads + 2;
  try {
    let slot = 0;
    for await (const batch of decodeBatches(probed, times, {
      analysisArea: options.analysisArea,
      threads: options.decoderThreads,
      skipLoopFilter: options.skipLoopFilter,
      batchFrames: options.batchFrames,
      ffmpegPath: options.ffmpegPath,
      ffprobePath: options.ffprobePath,
      signal: options.signal,
      start: options.start > 0 ? options.start : undefined,
      end: options.end,
    })) {
      const at = slot++;
      const count = batch.count;
      const computed = pool.compute(batch.buffer, width, height, batch.count, batch.hasPrev, options.signal).then((features) => {
        batches[at] = features;
        done += count;
        report();
      });
      // A rejection (abort, worker failure) can arrive while the loop waits on the decoder; it is rethrown by
      // the awaits below, so mark it handled now rather than let Node report it as unhandled.
      computed.catch(() => undefined);
      inflight.push(computed);
      if (inflight.length >= maxInflight) await inflight.shift();
    }
    await Promise.all(inflight);
    report(true);
  } catch (error) {
    await Promise.allSettled(inflight);
    if (options.signal?.aborted === true) throw new AbortError(undefined, { cause: options.signal.reason });
    throw error;
  } finally {
    if (ownPool) await pool.close();
  }
  // With a range, times are shifted onto the video's own timeline (the seek point plus the first frame's pts).
  const seconds = times.seconds();
  const shift = options.start > 0 ? options.start + times.firstSeconds() : 0;
  // Rounded to the nanosecond so that 0.4 + 0.8 is 1.2 and times match those of a whole-video run.
  if (shift !== 0) for (let i = 0; i < seconds.length; i++) seconds[i] = Math.round((seconds[i]! + shift) * 1e9) / 1e9;
  return { series: seriesFromBatches(batches, seconds, probed.stream.frame_rate), backend: pool.info().backend };
}

/**
 * Find the scene boundaries of a video.
 * @throws InputError (bad file: see probe()), DecodeError, OptionError, AbortError.
 */
export async function detectScenes(filePath: string, options?: DetectOptions): Promise<DetectResult> {
  const resolved = resolveDetectOptions(options);
  throwIfAborted(resolved.signal);
  // The feature worker starts while ffprobe runs: its start-up is off the critical path.
  const pool = new FeaturePool({ threads: resolved.workerThreads, backend: resolved.backend });
  try {
    return await detectWithPool(filePath, resolved, pool);
  } finally {
    await pool.close();
  }
}

async function detectWithPool(filePath: string, resolved: ResolvedDetectOptions, pool: FeaturePool): Promise<DetectResult> {
  const probed = await probe(filePath, { signal: resolved.signal, ffmpegPath: resolved.ffmpegPath, ffprobePath: resolved.ffprobePath });
  const { width, height } = analysisSize(probed, resolved.analysisArea);
  const duration = probed.metadata.duration_seconds;
  if (resolved.start > 0 && duration !== null && resolved.start >= duration) throw invalid(`a start before the end of the video (${duration.toFixed(3)} s)`, 'start', resolved.start);
  let series: FeatureSeries | null = null;
  let source = 'stats';
  let identity: StatsIdentity | undefined;
  if (resolved.statsFile !== undefined) {
    const info = await stat(probed.path);
    identity = { format: 'scenescope-stats', version: 1, file_size: info.size, mtime_ms: Math.floor(info.mtimeMs), analysis: `${width}x${height}`, frame_rate: probed.stream.frame_rate, range: `${resolved.start}-${resolved.end ?? 'end'}` };
    series = await readStats(resolved.statsFile, identity);
  }
  if (series === null) {
    const computed = await computeFeatureSeries(probed, resolved, pool);
    series = computed.series;
    source = computed.backend;
  }
  throwIfAborted(resolved.signal);
  const frameOffset = resolved.start > 0 && series.count > 0 ? Math.round(series.times[0]! * probed.stream.frame_rate) : 0;
  const detection = shiftFrames(detectBoundaries(series, resolved), frameOffset);
  if (resolved.statsFile !== undefined && identity !== undefined && source !== 'stats') await writeStats(resolved.statsFile, series, identity, detection.scores);
  return {
    schema_version: 1,
    video: probed.metadata,
    frame_count: series.count,
    frame_rate: probed.stream.frame_rate,
    boundaries: detection.boundaries,
    scenes: detection.scenes,
    detector: detection.detector,
    threshold: detection.threshold,
    scores: detection.scores,
    features: series,
    probe: probed,
    featureSource: source,
    frameOffset,
  };
}

/** Boundaries and scenes renumbered onto the whole video's frames (times are already on its timeline). */
function shiftFrames(detection: DetectionResult, offset: number): DetectionResult {
  if (offset === 0) return detection;
  return {
    ...detection,
    boundaries: detection.boundaries.map((b) => ({ ...b, frame: b.frame + offset, start_frame: b.start_frame + offset, end_frame: b.end_frame + offset })),
    scenes: detection.scenes.map((s) => ({ ...s, start_frame: s.start_frame + offset, end_frame: s.end_frame + offset })),
  };
}

/**
 * Run other detectors (or thresholds) on a result's features, without decoding again: several detectors from
 * one decode. The returned result shares the features and probe of `result`.
 * @throws OptionError for bad detection options.
 */
export function detectAgain(result: DetectResult, options: Pick<DetectOptions, 'detector' | 'threshold' | 'minSceneLen' | 'flashSuppression'>): DetectResult {
  const resolved = resolveStandaloneDetectionOptions(options);
  const detection = shiftFrames(detectBoundaries(result.features, resolved), result.frameOffset);
  return { ...result, boundaries: detection.boundaries, scenes: detection.scenes, detector: detection.detector, threshold: detection.threshold, scores: detection.scores };
}

/** The JSON contract of `scenescope detect --format json` (schema_version 1). */
export function detectResultToJSON(result: DetectResult): Record<string, unknown> {
  return {
    schema_version: 1,
    video: result.video,
    frame_count: result.frame_count,
    frame_rate: result.frame_rate,
    boundaries: result.boundaries.map(({ frame, time, kind, start_frame, end_frame, confidence }) => ({ frame, time, kind, start_frame, end_frame, confidence })),
    scenes: result.scenes,
  };
}
