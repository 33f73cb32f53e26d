/**
 * Ground truth and detections as the benchmark sees them. Frames are 0-based indices of decoded frames;
 * spans are inclusive.
 */

/** Kinds of ground-truth transition. "gradual" is a gradual transition whose kind the dataset does not say. */
export type TruthKind = 'cut' | 'dissolve' | 'fade' | 'wipe' | 'gradual';
/** Every {@link TruthKind}, in report order. */
export const TRUTH_KINDS: readonly TruthKind[] = ['cut', 'dissolve', 'fade', 'wipe', 'gradual'];

/** Kinds of annotated distractor: events that must not produce a boundary. */
export type DistractorKind = 'flash' | 'exposure' | 'caption' | 'object' | 'pan' | 'shake' | 'dark' | 'non_transition' | 'negative';
/**
 * Every {@link DistractorKind}, in report order. The last two come from truth.json datasets: `non_transition` is
 * an annotated hard-negative span inside a clip, `negative` a whole clip whose right answer is no boundary.
 */
export const DISTRACTOR_KINDS: readonly DistractorKind[] = ['flash', 'exposure', 'caption', 'object', 'pan', 'shake', 'dark', 'non_transition', 'negative'];

/** A ground-truth transition between two shots. */
export interface TruthTransition {
  kind: TruthKind;
  /** First frame of the transition (equal to `frame` for a cut). */
  start_frame: number;
  /** Last frame of the transition, inclusive (equal to `frame` for a cut). */
  end_frame: number;
  /** First frame of the new shot; inside the span. */
  frame: number;
  /** The annotator was not sure (truth.json `"uncertain": true`); see MatchOptions.uncertainTruth. */
  uncertain?: boolean | undefined;
}

/** A ground-truth distractor span. */
export interface TruthDistractor {
  kind: DistractorKind;
  start_frame: number;
  /** Inclusive. */
  end_frame: number;
  /** The annotator was not sure this span holds no boundary (truth.json `"uncertain": true`). */
  uncertain?: boolean | undefined;
  /** What happens in the span, when the annotation says. */
  what?: string | undefined;
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
  /** The truth file's schema, when it states one ("scenescope-corpus/2" for the realistic corpus). */
  schema?: string | undefined;
  /** The dataset's own matching rule (truth.json `matching`), when it states one. */
  matching?: DatasetMatching | undefined;
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

/** A dataset's matching rule, as truth.json's `matching` block states it. */
export interface DatasetMatching {
  /** A detection matches a cut within this many frames. */
  cut_tolerance_frames: number;
  /** A gradual transition's span is widened by this many frames on each side. */
  gradual_tolerance_frames: number;
  /** Each truth and each detection is matched at most once (the only rule the scorer implements). */
  one_to_one: boolean;
}
