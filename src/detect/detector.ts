/**
 * The detector interface. A detector reads a whole feature series in frame order and proposes boundaries with
 * the per-frame scores it used; shared filters (flash suppression, minimum scene length) are applied after, by
 * the caller, so no detector re-implements them.
 */
import type { BoundaryKind } from './types.js';
import type { FeatureSeries } from './series.js';

/** A per-frame score a detector thresholds, kept for stats, plots and re-runs. */
export interface ScoreTrack {
  name: string;
  values: Float64Array;
  threshold: number;
}

/** A proposed boundary. */
export interface Candidate {
  /** First frame of the new scene. */
  frame: number;
  kind: BoundaryKind;
  start_frame: number;
  end_frame: number;
  /** 0..1, see confidence.ts. */
  confidence: number;
  detector: string;
}

/** What a detector returns. */
export interface DetectorOutput {
  candidates: Candidate[];
  scores: ScoreTrack[];
}

/** A scene detector. */
export interface Detector {
  /** Registry name ("content", "adaptive", ...). */
  readonly name: string;
  /** The threshold in use (its meaning depends on the detector). */
  readonly threshold: number;
  detect(series: FeatureSeries): DetectorOutput;
}
