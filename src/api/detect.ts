/**
 * detectScenes(path): probe, decode at analysis size, compute features in the worker pool, and find the
 * boundaries. Decoding and feature work overlap: a bounded number of batches is in flight; the features go to
 * an off-heap file (features/series-file.ts) and detection reads it in bounded windows (detect/windowed.ts), so
 * memory stays flat however long the video is (8 bytes a frame for the frame times).
 */
import { stat } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { detectBoundaries, resolveDetectionOptions, resolveStandaloneDetectionOptions, DETECTION_OPTION_KEYS, type DetectionResult, type ResolvedDetectionOptions } from '../detect/index.js';
import type { FeatureSeries } from '../detect/series.js';
import { detectWindowed, type SeriesSource, type WindowedDetection } from '../detect/windowed.js';
import { loadLearnedModel } from '../detect/learned-model.js';
import type { LearnedSeries } from '../detect/learned.js';
import type { Boundary, Scene } from '../detect/types.js';
import { AbortError, throwIfAborted } from '../errors.js';
import { FeaturePool } from '../features/pool.js';
import { acquireFeaturePool } from '../features/pool-registry.js';
import { withAnalysisSlot } from './limit.js';
import { SeriesFile, TrackFile } from '../features/series-file.js';
import type { FeatureBatch } from '../features/types.js';
import { analysisSize, decodeBatches, FrameTimes } from '../media/decode.js';
import { BufferPool } from '../util/buffer-pool.js';
import { batchBytes } from '../features/kernel.js';
import { probe, type ProbeResult } from '../media/probe.js';
import type { VideoMetadata } from '../types.js';
import { bool, func, inputPath, integerIn, invalid, numberIn, oneOf, opt, plainOptions, signal as signalCheck, string } from '../util/validate.js';
import { readStatsInto, writeStatsWindowed, type StatsIdentity } from './stats.js';

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
  /**
   * The file's probe result when the caller already has it (a library job probes in its own step): ffprobe is
   * not run again. Must be the probe of this very path.
   */
  probed?: ProbeResult;
  /** Fail with BUDGET_EXCEEDED once more frames than this decode. Default: no limit. */
  maxFrames?: number;
  /** Fail with BUDGET_EXCEEDED when decoding takes longer than this many milliseconds. Default: no limit. */
  timeLimitMs?: number;
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
  probed: ProbeResult | undefined;
  maxFrames: number | undefined;
  timeLimitMs: number | undefined;
  signal: AbortSignal | undefined;
  onProgress: ((progress: DetectProgress) => void) | undefined;
}

const KEYS = [...DETECTION_OPTION_KEYS, 'statsFile', 'backend', 'workerThreads', 'decoderThreads', 'batchFrames', 'analysisArea', 'skipLoopFilter', 'start', 'end', 'ffmpegPath', 'ffprobePath', 'probed', 'maxFrames', 'timeLimitMs', 'signal', 'onProgress'] as const;

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
    probed: opt<ProbeResult | undefined>(o, 'probed', undefined, (n, v) => {
      const p = v as Partial<ProbeResult> | null;
      if (p === null || typeof p !== 'object' || typeof p.path !== 'string' || typeof p.stream !== 'object' || typeof p.metadata !== 'object') throw invalid('a probe() result', n, v);
      return v as ProbeResult;
    }),
    maxFrames: opt<number | undefined>(o, 'maxFrames', undefined, (n, v) => integerIn(n, v, 1, Number.MAX_SAFE_INTEGER)),
    timeLimitMs: opt<number | undefined>(o, 'timeLimitMs', undefined, (n, v) => numberIn(n, v, 1, 2 ** 31 - 1)),
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
  /**
   * Per-frame score tracks the detector thresholded. Read from a temporary file the first time it is used (8
   * bytes a frame a track).
   */
  scores: DetectionResult['scores'];
  /**
   * Per-frame features (for re-running detection, keyframe choice, reports). The features live in a temporary
   * file, not on the heap: this reads all of them the first time it is used (about 800 bytes a frame), so for
   * long videos prefer {@link DetectResult.readFeatures}.
   */
  features: FeatureSeries;
  /** The features of frames [start, end) (frame 0 of the returned series is frame `start`). */
  readFeatures(start: number, end: number): FeatureSeries;
  /**
   * Free the temporary feature files now (otherwise when the result is garbage-collected). `features`,
   * `scores` and `readFeatures` fail after it unless they were read before.
   */
  release(): void;
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
 * Decode and compute the feature series of a probed video into an off-heap {@link SeriesFile} (the caller
 * closes it). Uses `pool` when given (the caller closes it), else a pool of its own.
 */
export async function computeFeatureFile(probed: ProbeResult, options: ResolvedDetectOptions, pool?: FeaturePool): Promise<{ file: SeriesFile; backend: string }> {
  const { width, height } = analysisSize(probed, options.analysisArea);
  const ownPool = pool === undefined;
  pool ??= new FeaturePool({ threads: options.workerThreads, backend: options.backend });
  const times = new FrameTimes();
  const file = new SeriesFile(probed.stream.frame_rate);
  // Batches finish in any order; they are appended in frame order, so at most `maxInflight` wait here.
  const finished = new Map<number, FeatureBatch>();
  let nextToAppend = 0;
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
  const appendReady = (): void => {
    let ready = finished.get(nextToAppend);
    while (ready !== undefined) {
      finished.delete(nextToAppend);
      file.appendBatch(ready);
      featureBuffers.give(ready.scalars.buffer as ArrayBuffer);
      nextToAppend++;
      ready = finished.get(nextToAppend);
    }
  };
  const maxInflight = options.workerThreads + 2;
  // Frame and feature buffers come back from the worker and are filled again: a few for the whole video.
  const buffers = new BufferPool(maxInflight + 1);
  const featureBuffers = new BufferPool(maxInflight + 1);
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
      start: options.start > 0 ? options.start : undefined,
      end: options.end,
      buffers,
    })) {
      const at = slot++;
      const count = batch.count;
      const features = featureBuffers.take(batchBytes(count));
      const computed = pool.computeReusing(batch.buffer, width, height, count, batch.hasPrev, { signal: options.signal, features }).then(({ batch: computedBatch, frames }) => {
        buffers.give(frames);
        finished.set(at, computedBatch);
        appendReady();
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
    // With a range, times are shifted onto the video's own timeline (the seek point plus the first frame's pts),
    // rounded to the nanosecond so that 0.4 + 0.8 is 1.2 and times match those of a whole-video run.
    const seconds = times.takeSeconds();
    const shift = options.start > 0 ? options.start + times.firstSeconds() : 0;
    if (shift !== 0) for (let i = 0; i < seconds.length; i++) seconds[i] = Math.round((seconds[i]! + shift) * 1e9) / 1e9;
    file.setTimes(seconds);
    report(true);
  } catch (error) {
    await Promise.allSettled(inflight);
    file.close();
    if (options.signal?.aborted === true) throw new AbortError(undefined, { cause: options.signal.reason });
    throw error;
  } finally {
    if (ownPool) await pool.close();
  }
  return { file, backend: pool.info().backend };
}

/**
 * Decode and compute the feature series of a probed video, whole, in memory (about 800 bytes a frame: use
 * {@link computeFeatureFile} for long videos). Uses `pool` when given (the caller closes it), else its own.
 */
export async function computeFeatureSeries(probed: ProbeResult, options: ResolvedDetectOptions, pool?: FeaturePool): Promise<{ series: FeatureSeries; backend: string }> {
  const { file, backend } = await computeFeatureFile(probed, options, pool);
  try {
    return { series: file.read(0, file.count), backend };
  } finally {
    file.close();
  }
}

/**
 * Find the scene boundaries of a video, given as a path or a `file:` URL. A limited number of detections and analyses run at once in a process
 * (see setAnalysisConcurrency); more wait their turn.
 * @throws OptionError INVALID_OPTION for a path that is not a non-empty string or file: URL; InputError (bad file:
 *   see probe()), DecodeError, OptionError, AbortError.
 */
export async function detectScenes(filePath: string | URL, options?: DetectOptions): Promise<DetectResult> {
  const file = inputPath('the video path', filePath);
  const resolved = resolveDetectOptions(options);
  throwIfAborted(resolved.signal);
  // Calls beyond the process's limit wait here (api/limit.ts); concurrent ones share one feature pool.
  return withAnalysisSlot(resolved.signal, async () => {
    // The feature worker starts while ffprobe runs: its start-up is off the critical path.
    const lease = acquireFeaturePool({ threads: resolved.workerThreads, backend: resolved.backend });
    try {
      return await detectWithPool(file, resolved, lease.pool);
    } finally {
      lease.release();
    }
  });
}

/** A windowed read of an off-heap series, as windowed detection wants it (each window reuses the last one's buffers). */
function fileSource(file: SeriesFile): SeriesSource {
  return { count: file.count, frameRate: file.frameRate, read: (s, e) => file.window(s, e), times: () => file.timesView() };
}

/**
 * The source the detector reads: for the "learned" detector, each window carries the learned model's output
 * for its frames (computed here, the one asynchronous step; 20 bytes a frame), else the file as it is.
 */
async function detectorSource(file: SeriesFile, resolved: ResolvedDetectOptions): Promise<SeriesSource> {
  const source = fileSource(file);
  if (resolved.detector !== 'learned') return source;
  const model = await loadLearnedModel();
  const probs = await model.probabilities(file.count, (s, e) => file.read(s, e), resolved.signal);
  return { ...source, read: (s, e): LearnedSeries => ({ ...file.read(s, e), learned: probs.subarray(s * 5, e * 5) }) };
}

async function detectWithPool(filePath: string, resolved: ResolvedDetectOptions, pool: FeaturePool): Promise<DetectResult> {
  const probed = resolved.probed !== undefined && resolved.probed.path === resolvePath(filePath) ? resolved.probed : await probe(filePath, { signal: resolved.signal, ffmpegPath: resolved.ffmpegPath, ffprobePath: resolved.ffprobePath });
  const { width, height } = analysisSize(probed, resolved.analysisArea);
  const duration = probed.metadata.duration_seconds;
  if (resolved.start > 0 && duration !== null && resolved.start >= duration) throw invalid(`a start before the end of the video (${duration.toFixed(3)} s)`, 'start', resolved.start);
  let file: SeriesFile | null = null;
  let tracks: TrackFile | null = null;
  let source = 'stats';
  let identity: StatsIdentity | undefined;
  try {
    if (resolved.statsFile !== undefined) {
      const info = await stat(probed.path);
      identity = { format: 'scenescope-stats', version: 1, file_size: info.size, mtime_ms: Math.floor(info.mtimeMs), analysis: `${width}x${height}`, frame_rate: probed.stream.frame_rate, range: `${resolved.start}-${resolved.end ?? 'end'}` };
      let made: SeriesFile | null = null;
      try {
        file = await readStatsInto(resolved.statsFile, identity, (rate) => (made = new SeriesFile(rate)));
      } catch (error) {
        (made as SeriesFile | null)?.close();
        throw error;
      }
    }
    if (file === null) {
      const computed = await computeFeatureFile(probed, resolved, pool);
      file = computed.file;
      source = computed.backend;
    }
    throwIfAborted(resolved.signal);
    const times = file.timesView();
    const frameOffset = resolved.start > 0 && file.count > 0 ? Math.round(times[0]! * probed.stream.frame_rate) : 0;
    const windowed = detectWindowed(await detectorSource(file, resolved), resolved, {
      onScores: (start, end, values) => {
        tracks ??= new TrackFile(values.length);
        tracks.append(values, end - start);
      },
    });
    const detection = shiftFrames(windowed, frameOffset);
    const trackFile = tracks as TrackFile | null;
    const names = detection.scoreTracks.map((t) => t.name);
    const readTracks = (s: number, e: number): Float64Array => trackFile?.read(s, e) ?? new Float64Array(0);
    if (resolved.statsFile !== undefined && identity !== undefined && source !== 'stats') {
      const f = file;
      await writeStatsWindowed(resolved.statsFile, { count: f.count, read: (s, e) => f.window(s, e), trackNames: names, readTracks }, identity);
    }
    return detectResult(probed, file, trackFile, detection, source, frameOffset);
  } catch (error) {
    file?.close();
    (tracks as TrackFile | null)?.close();
    throw error;
  }
}

/**
 * The result object: boundaries and scenes in memory; the features and score tracks stay in their files and
 * are read on demand (`features` and `scores` read everything the first time they are used: for a long video,
 * read windows with `readFeatures`).
 */
function detectResult(probed: ProbeResult, file: SeriesFile, tracks: TrackFile | null, detection: WindowedDetection, source: string, frameOffset: number): DetectResult {
  let features: FeatureSeries | undefined;
  let scores: DetectionResult['scores'] | undefined;
  const result = {
    schema_version: 1,
    video: probed.metadata,
    frame_count: file.count,
    frame_rate: probed.stream.frame_rate,
    boundaries: detection.boundaries,
    scenes: detection.scenes,
    detector: detection.detector,
    threshold: detection.threshold,
    probe: probed,
    featureSource: source,
    frameOffset,
    readFeatures: (start: number, end: number): FeatureSeries => file.read(start, end),
    release: (): void => {
      file.close();
      tracks?.close();
    },
  } as Omit<DetectResult, 'features' | 'scores'> as DetectResult;
  Object.defineProperty(result, 'features', {
    enumerable: true,
    get: () => (features ??= file.read(0, file.count)),
  });
  Object.defineProperty(result, 'scores', {
    enumerable: true,
    get: () => {
      if (scores !== undefined) return scores;
      const width = detection.scoreTracks.length;
      const all = tracks?.read(0, file.count) ?? new Float64Array(0);
      scores = detection.scoreTracks.map((t, k) => {
        const values = new Float64Array(file.count);
        for (let i = 0; i < file.count; i++) values[i] = all[i * width + k] ?? 0;
        return { name: t.name, threshold: t.threshold, values };
      });
      return scores;
    },
  });
  return result;
}

/** Boundaries and scenes renumbered onto the whole video's frames (times are already on its timeline). */
function shiftFrames<T extends { boundaries: Boundary[]; scenes: Scene[] }>(detection: T, offset: number): T {
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
