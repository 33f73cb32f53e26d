/**
 * Detection: pure functions from a feature series to boundaries and scenes. The detectors live one per file;
 * this module names them, resolves options once, and applies the shared filters.
 */
import { bool, numberIn, oneOf, opt, plainOptions } from '../util/validate.js';
import { createAdaptiveDetector } from './adaptive.js';
import { createCombinedDetector } from './combined.js';
import { createContentDetector } from './content.js';
import type { Candidate, Detector, ScoreTrack } from './detector.js';
import { createFadeDetector } from './fade.js';
import { applyMinSceneLength, suppressFlashes } from './filters.js';
import { createHashDetector } from './hash.js';
import { createHistogramDetector } from './histogram.js';
import { createHybridDetector } from './hybrid.js';
import { createLearnedDetector } from './learned.js';
import { scenesFromBoundaries } from './scenes.js';
import type { FeatureSeries } from './series.js';
import type { Boundary, Scene } from './types.js';

export type { Boundary, BoundaryKind, Scene } from './types.js';
export type { Candidate, Detector, DetectorOutput, ScoreTrack } from './detector.js';
export type { FeatureSeries } from './series.js';
export { formatTime, scenesFromBoundaries } from './scenes.js';

/**
 * Names of the built-in detectors. "scenescope" is the default (hybrid.ts: "classical" plus the gradual
 * transitions of the learned model, run in TypeScript). "learned" (learned.ts) runs the same model with
 * onnxruntime-node and runs only through detectScenes, which computes its model's output first.
 */
export const DETECTOR_NAMES = ['scenescope', 'classical', 'content', 'adaptive', 'fade', 'histogram', 'hash', 'learned'] as const;
/** A built-in detector name. */
export type DetectorName = (typeof DETECTOR_NAMES)[number];

/** Detection options (all optional). */
export interface DetectionOptions {
  /** Detector to use. Default "scenescope". */
  detector?: DetectorName;
  /** Override the detector's main threshold (its scale depends on the detector; see the README). */
  threshold?: number;
  /**
   * Minimum scene length in seconds. Default 0.5; for the default detector, {@link DEFAULT_MIN_CUT_SCENE_LEN}
   * next to a hard cut (fast montages, a cut right before a fade; flash suppression drops the cuts of a flash).
   * A value given here applies everywhere.
   */
  minSceneLen?: number;
  /** Drop cuts caused by flashes and short white-outs. Default true. */
  flashSuppression?: boolean;
}

/** Default minimum scene length in seconds next to a hard cut: montage shots run 6-12 frames. */
export const DEFAULT_MIN_CUT_SCENE_LEN = 0.2;

/** Detection options with every default applied. */
export interface ResolvedDetectionOptions {
  detector: DetectorName;
  threshold: number | undefined;
  minSceneLen: number;
  /** Minimum scene length next to a hard cut, in seconds. */
  minCutSceneLen: number;
  flashSuppression: boolean;
}

/** The keys detection options accept. */
export const DETECTION_OPTION_KEYS = ['detector', 'threshold', 'minSceneLen', 'flashSuppression'] as const;

/** Validate detection options (from a larger options object: unknown keys are the caller's to check). */
export function resolveDetectionOptions(input: Record<string, unknown>): ResolvedDetectionOptions {
  const minSceneLen = opt<number | undefined>(input, 'minSceneLen', undefined, (n, v) => numberIn(n, v, 0, 3600));
  return {
    detector: opt(input, 'detector', 'scenescope', (n, v) => oneOf(n, v, DETECTOR_NAMES)),
    threshold: opt<number | undefined>(input, 'threshold', undefined, (n, v) => numberIn(n, v, 0, 1000)),
    minSceneLen: minSceneLen ?? 0.5,
    minCutSceneLen: minSceneLen ?? DEFAULT_MIN_CUT_SCENE_LEN,
    flashSuppression: opt(input, 'flashSuppression', true, bool),
  };
}

/** Validate a standalone detection options object (unknown keys rejected). */
export function resolveStandaloneDetectionOptions(input: unknown): ResolvedDetectionOptions {
  return resolveDetectionOptions(plainOptions('detection options', input, DETECTION_OPTION_KEYS));
}

/** Build a detector by name. */
export function createDetector(name: DetectorName, threshold?: number): Detector {
  const t = threshold === undefined ? {} : { threshold };
  switch (name) {
    case 'scenescope':
      return createHybridDetector(t);
    case 'classical':
      return createCombinedDetector(t);
    case 'content':
      return createContentDetector(t);
    case 'adaptive':
      return createAdaptiveDetector(t);
    case 'fade':
      return createFadeDetector(t);
    case 'histogram':
      return createHistogramDetector(t);
    case 'hash':
      return createHashDetector(t);
    case 'learned':
      return createLearnedDetector(t);
  }
}

/** What detection returns. */
export interface DetectionResult {
  detector: DetectorName;
  threshold: number;
  boundaries: Boundary[];
  scenes: Scene[];
  scores: ScoreTrack[];
}

/** Run detection over a feature series. Pure: same series and options, same result. */
export function detectBoundaries(series: FeatureSeries, options: ResolvedDetectionOptions): DetectionResult {
  const detector = createDetector(options.detector, options.threshold);
  const output = detector.detect(series);
  let candidates: Candidate[] = output.candidates;
  if (options.flashSuppression) candidates = suppressFlashes(series, candidates);
  candidates = applyMinSceneLength(candidates, series, options);
  const boundaries: Boundary[] = candidates.map((c) => ({
    frame: c.frame,
    time: series.times[c.frame]!,
    kind: c.kind,
    start_frame: Math.min(c.start_frame, c.frame),
    end_frame: Math.max(c.end_frame, c.frame),
    confidence: c.confidence,
    detector: c.detector,
  }));
  return { detector: options.detector, threshold: detector.threshold, boundaries, scenes: scenesFromBoundaries(boundaries, series.times, series.frameRate), scores: output.scores };
}
