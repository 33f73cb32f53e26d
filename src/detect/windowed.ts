/**
 * Windowed detection: the same boundaries as {@link detectBoundaries} over a whole series, computed from
 * bounded, overlapping windows of it, so memory stays flat however long the video is.
 *
 * Why it is exact. Every detector is local: whether frame f is a candidate (and with which span and
 * confidence) depends only on frames within a bounded reach of f, except through fade runs (maximal runs of
 * black or white frames), which may be arbitrarily long. So the series is cut into cores [c_k, c_k+1), each
 * run with a margin of {@link windowPlan} frames on both sides, and a window keeps only the candidates whose
 * frame lies in its core. The margin covers the largest reach (the gradual detector's multi-scale span, up to
 * 0.6 s, compared over 2 spans and verified over peaks a span apart: 2.4 s; the adaptive windows; the fade
 * ramps of up to 3 s) with room to spare. A seam c_k is only placed where no frame within the margin could
 * belong to a fade run (see {@link fadeThresholdOf}); a run longer than the core grows its window until it has
 * ended, so the run is always seen whole (memory then grows with the longest black or white run, not with the
 * video).
 *
 * The shared filters run over the merged candidate list, as in a single pass: the minimum scene length needs
 * only frame numbers; flash suppression reads the frames just after each cut, which are gathered into one
 * compact series of the stretches around the cuts (differences and order of frames within a stretch are
 * kept, so the filter sees exactly what it would see in the whole series).
 *
 * The windows only read the series through {@link SeriesSource.read}, so they could come from separate decodes
 * (chunks of a long video decoded in parallel): each chunk must cover its core plus the margin on both sides.
 */
import type { Candidate, DetectorOutput } from './detector.js';
import { applyMinSceneLength, suppressFlashes } from './filters.js';
import { createDetector, type DetectorName, type ResolvedDetectionOptions } from './index.js';
import { scenesFromBoundaries } from './scenes.js';
import { framesIn, type FeatureSeries } from './series.js';
import type { Boundary, Scene } from './types.js';
import { GRID_SIZE, HIST_BINS, SCALAR_COUNT, SCALAR_NAMES } from '../features/types.js';

/** Where windowed detection reads the series from. */
export interface SeriesSource {
  /** Frames in the series. */
  readonly count: number;
  /** Nominal frame rate. */
  readonly frameRate: number;
  /**
   * Frames [start, end) as a series (its frame 0 is frame `start`). It may live in buffers the source reuses:
   * it is only read until the next call of `read` (so a long video costs one window's memory, not one per window).
   */
  read(start: number, end: number): FeatureSeries;
  /** Every frame's time in seconds. */
  times(): Float64Array;
}

/** Tunables of the windowing. */
export interface WindowOptions {
  /** Frames in a window's core (before the seam search moves its end). Default: 5 minutes of frames. */
  coreFrames?: number;
  /** Frames of margin on each side of a core. Default: {@link windowPlan}'s. */
  marginFrames?: number;
  /**
   * Receives every score track's values for the core frames [start, end) of each window, in order (for the
   * stats file), so the tracks of the whole video are never held.
   */
  onScores?: (start: number, end: number, tracks: readonly Float64Array[]) => void;
  /** Frames of cut stretches flash suppression gathers at a time (a group holds at least one stretch). Default 4096. */
  flashBatchFrames?: number;
}

/** What windowed detection returns. */
export interface WindowedDetection {
  detector: DetectorName;
  threshold: number;
  boundaries: Boundary[];
  scenes: Scene[];
  /** Names and thresholds of the score tracks (their values went to `onScores`). */
  scoreTracks: { name: string; threshold: number }[];
  /** Number of windows run, and the longest window in frames (for tests and benchmarks). */
  windows: number;
  longestWindow: number;
}

/**
 * The intensity threshold of the fade runs a detector looks at, or null when it has none. A frame is part of a
 * black run below it, of a white run above 255 - 2 x it with a flat picture (fade.ts).
 */
export function fadeThresholdOf(options: ResolvedDetectionOptions): number | null {
  if (options.detector === 'fade') return options.threshold ?? 12;
  if (options.detector === 'scenescope' || options.detector === 'classical' || options.detector === 'learned') return 12;
  return null;
}

/**
 * The margin (frames on each side of a core, and the clearance of a seam from any frame of a fade run) for a
 * frame rate: the detectors' reach (2.4 s of gradual spans, 3 s fade ramps) doubled, plus a fixed 32 frames
 * for reaches counted in frames.
 */
export function windowPlan(frameRate: number): { marginFrames: number; coreFrames: number } {
  const fps = { frameRate } as FeatureSeries;
  const marginFrames = framesIn(fps, 6.5) + 32;
  return { marginFrames, coreFrames: Math.max(framesIn(fps, 300), 4 * marginFrames) };
}

/** Loosened run membership (a little wider than fade.ts's), so a seam keeps well clear of every run. */
function fadeish(series: FeatureSeries, i: number, threshold: number): boolean {
  const mean = series.scalars[i * SCALAR_COUNT + MEAN_RGB]!;
  const std = series.scalars[i * SCALAR_COUNT + STD_LUMA]!;
  return mean < threshold + 2 || (mean > 255 - 2 * threshold - 2 && std < 8);
}
const MEAN_RGB = SCALAR_NAMES.indexOf('mean_rgb');
const STD_LUMA = SCALAR_NAMES.indexOf('std_luma');

/**
 * The first seam at or after `from`: a frame p with no fade-ish frame in [p - clearance, p + clearance], or
 * `count` when there is none.
 */
function findSeam(source: SeriesSource, from: number, clearance: number, threshold: number | null): number {
  const n = source.count;
  if (threshold === null || from >= n) return Math.min(from, n);
  const chunk = 4096;
  let lastFade = -Infinity;
  let at = Math.max(0, from - clearance);
  while (at < n) {
    const end = Math.min(n, at + chunk);
    const s = source.read(at, end);
    for (let i = 0; i < s.count; i++) {
      const f = at + i;
      if (fadeish(s, i, threshold)) lastFade = f;
      // f is clean and so are the `2 * clearance` frames before it: their middle is a seam.
      const p = f - clearance;
      if (p >= from && f - lastFade > 2 * clearance) return p;
    }
    at = end;
  }
  return n;
}

function shift(c: Candidate, by: number): Candidate {
  return { ...c, frame: c.frame + by, start_frame: c.start_frame + by, end_frame: c.end_frame + by };
}

/** Frames of cut stretches gathered before flash suppression runs over them (see suppressFlashesWindowed). */
const FLASH_BATCH_FRAMES = 4096;

/**
 * Flash suppression over the whole candidate list, reading only the stretches of frames around the cuts
 * (`reach` frames after each, one before), concatenated into compact series a few thousand frames at a time.
 * Overlapping stretches are merged first; the filter's decision for a cut (and the cuts it drops) never
 * leaves its merged stretch, so running it stretch group by stretch group is exactly one run over all of them,
 * and memory holds one group (not 40 frames a cut of the whole video: 30 MB at 4 hours of cuts every 15 s).
 */
function suppressFlashesWindowed(source: SeriesSource, candidates: readonly Candidate[], reach: number, batchFrames = FLASH_BATCH_FRAMES): Candidate[] {
  const cuts = candidates.filter((c) => c.kind === 'cut');
  if (cuts.length === 0) return [...candidates];
  const n = source.count;
  const spans: [number, number][] = [];
  for (const c of cuts) {
    const s = Math.max(0, c.frame - 1);
    const e = Math.min(n, c.frame + reach + 1);
    const last = spans[spans.length - 1];
    if (last !== undefined && s <= last[1]) last[1] = Math.max(last[1], e);
    else spans.push([s, e]);
  }
  const kept = new Set<Candidate>();
  let compact: FeatureSeries | undefined;
  let k = 0; // next cut
  for (let first = 0; first < spans.length; ) {
    // A group of whole stretches, at least one, up to `batchFrames` frames.
    let last = first;
    let total = spans[first]![1] - spans[first]![0];
    while (last + 1 < spans.length && total + spans[last + 1]![1] - spans[last + 1]![0] <= batchFrames) total += spans[++last]![1] - spans[last]![0];
    if (compact === undefined || compact.times.length < total) {
      const size = Math.max(total, Math.min(batchFrames, FLASH_BATCH_FRAMES));
      compact = { count: size, times: new Float64Array(size), frameRate: source.frameRate, scalars: new Float64Array(size * SCALAR_COUNT), hist: new Uint32Array(size * HIST_BINS), hash: new Uint32Array(size * 2), grid: new Uint8Array(size * GRID_SIZE) };
    }
    const group: FeatureSeries = { count: total, times: compact.times.subarray(0, total), frameRate: source.frameRate, scalars: compact.scalars.subarray(0, total * SCALAR_COUNT), hist: compact.hist.subarray(0, total * HIST_BINS), hash: compact.hash.subarray(0, total * 2), grid: compact.grid.subarray(0, total * GRID_SIZE) };
    const remapped: Candidate[] = [];
    const original = new Map<Candidate, Candidate>();
    let at = 0;
    for (let i = first; i <= last; i++) {
      const [s, e] = spans[i]!;
      const part = source.read(s, e);
      group.times.set(part.times, at);
      group.scalars.set(part.scalars, at * SCALAR_COUNT);
      group.hist.set(part.hist, at * HIST_BINS);
      group.hash.set(part.hash, at * 2);
      group.grid.set(part.grid, at * GRID_SIZE);
      for (; k < cuts.length && cuts[k]!.frame < e; k++) {
        const r = shift(cuts[k]!, at - s);
        remapped.push(r);
        original.set(r, cuts[k]!);
      }
      at += e - s;
    }
    for (const r of suppressFlashes(group, remapped)) kept.add(original.get(r)!);
    first = last + 1;
  }
  return candidates.filter((c) => c.kind !== 'cut' || kept.has(c));
}

/**
 * Detect boundaries over a series read in windows. Same boundaries and scenes as detectBoundaries over the
 * whole series; pure apart from the reads the source does.
 */
export function detectWindowed(source: SeriesSource, options: ResolvedDetectionOptions, windowing: WindowOptions = {}): WindowedDetection {
  const n = source.count;
  const plan = windowPlan(source.frameRate);
  const margin = windowing.marginFrames ?? plan.marginFrames;
  const core = Math.max(1, windowing.coreFrames ?? plan.coreFrames);
  const threshold = fadeThresholdOf(options);
  const detector = createDetector(options.detector, options.threshold);
  const merged: Candidate[] = [];
  let scoreTracks: { name: string; threshold: number }[] = [];
  let windows = 0;
  let longestWindow = 0;
  let coreStart = 0;
  while (coreStart < n) {
    const coreEnd = coreStart + core >= n ? n : findSeam(source, coreStart + core, margin, threshold);
    const es = Math.max(0, coreStart - margin);
    const ee = Math.min(n, coreEnd + margin);
    const window = source.read(es, ee);
    const output: DetectorOutput = detector.detect(window);
    for (const c of output.candidates) if (c.frame + es >= coreStart && c.frame + es < coreEnd) merged.push(shift(c, es));
    if (windows === 0) scoreTracks = output.scores.map((t) => ({ name: t.name, threshold: t.threshold }));
    windowing.onScores?.(coreStart, coreEnd, output.scores.map((t) => t.values.subarray(coreStart - es, coreEnd - es)));
    windows++;
    longestWindow = Math.max(longestWindow, ee - es);
    coreStart = coreEnd;
  }
  let candidates: Candidate[] = merged;
  const rate = { frameRate: source.frameRate, count: n } as FeatureSeries;
  if (options.flashSuppression) candidates = suppressFlashesWindowed(source, candidates, framesIn(rate, 1) + 8, Math.max(1, windowing.flashBatchFrames ?? FLASH_BATCH_FRAMES));
  candidates = applyMinSceneLength(candidates, rate, options);
  const times = source.times();
  const boundaries: Boundary[] = candidates.map((c) => ({
    frame: c.frame,
    time: times[c.frame]!,
    kind: c.kind,
    start_frame: Math.min(c.start_frame, c.frame),
    end_frame: Math.max(c.end_frame, c.frame),
    confidence: c.confidence,
    detector: c.detector,
  }));
  return {
    detector: options.detector,
    threshold: detector.threshold,
    boundaries,
    scenes: scenesFromBoundaries(boundaries, times, source.frameRate),
    scoreTracks,
    windows,
    longestWindow,
  };
}

/** A source over an in-memory series (for tests and for stats read back whole). */
export function memorySource(series: FeatureSeries): SeriesSource {
  return {
    count: series.count,
    frameRate: series.frameRate,
    times: () => series.times,
    read(start, end) {
      const s = Math.max(0, Math.min(start, series.count));
      const e = Math.max(s, Math.min(end, series.count));
      return {
        count: e - s,
        times: series.times.subarray(s, e),
        frameRate: series.frameRate,
        scalars: series.scalars.subarray(s * SCALAR_COUNT, e * SCALAR_COUNT),
        hist: series.hist.subarray(s * HIST_BINS, e * HIST_BINS),
        hash: series.hash.subarray(s * 2, e * 2),
        grid: series.grid.subarray(s * GRID_SIZE, e * GRID_SIZE),
      };
    },
  };
}
