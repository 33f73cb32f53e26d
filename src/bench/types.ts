/**
 * Ground truth and detections as the benchmark sees them. Frames are 0-based indices of decoded frames;
 * spans are inclusive.
 */

/** Kinds of ground-truth transition. "gradual" is a gradual transition whose kind the dataset does not say. */
export type TruthKind = 'cut' | 'dissolve' | 'fade' | 'wipe' | 'gradual';
/** Every {@link TruthKind}, in report order. */
export const TRUTH_KINDS: readonly TruthKind[] = ['cut', 'dissolve', 'fade', 'wipe', 'gradual'];

/** Kinds of annotated distractor: events that must not produce a boundary. */
export type DistractorKind = 'flash' | 'exposure' | 'caption' | 'object' | 'pan' | 'shake' | 'dark';
/** Every {@link DistractorKind}, in report order. */
export const DISTRACTOR_KINDS: readonly DistractorKind[] = ['flash', 'exposure', 'caption', 'object', 'pan', 'shake', 'dark'];

/** A ground-truth transition between two shots. */
export interface TruthTransition {
  kind: TruthKind;
  /** First frame of the transition (equal to `frame` for a cut). */
  start_frame: number;
  /** Last frame of the transition, inclusive (equal to `frame` for a cut). */
  end_frame: number;
  /** First frame of the new shot; inside the span. */
  frame: number;
}

/** A ground-truth distractor span. */
export interface TruthDistractor {
  kind: DistractorKind;
  start_frame: number;
  /** Inclusive. */
  end_frame: number;
}

/** One video of a dataset with its ground truth. */
export interface DatasetEntry {
  /** Absolute path of the video. */
  video: string;
  /** A short name for tables (the file name without extension). */
  name: string;
  truth: TruthTransition[];
  distractors: TruthDistractor[];
  /** Frame count when the annotation states it. */
  frame_count?: number | undefined;
  /** Frame rate when the annotation states it. */
  frame_rate?: number | undefined;
  /** Oddities met while reading (reversed pairs, unparseable lines), one line each. */
  warnings: string[];
}

/** A detected boundary, as the metrics need it (a detect result's boundary fits). */
export interface DetectedBoundary {
  /** First frame of the new scene. */
  frame: number;
  kind?: string | undefined;
  start_frame?: number | undefined;
  end_frame?: number | undefined;
  confidence?: number | undefined;
}
