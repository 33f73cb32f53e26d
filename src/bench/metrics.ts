/**
 * Accuracy of a scene detector against ground truth: precision, recall and F1 with greedy one-to-one matching,
 * the way TRECVID's shot boundary task scored it.
 *
 * Matching, for one clip and one tolerance `t`:
 * 1. Every (detection, truth) pair that may match is a candidate. A detection may match a cut when its `frame`
 *    is within `t` frames of the cut's frame (the first frame of the new shot). It may match a gradual
 *    transition (dissolve, fade, wipe, or an unspecified gradual one) when its `frame` lies inside the
 *    transition's span widened by `gradualSlack` frames on each side (2 by default), whatever `t` is.
 * 2. Candidates are sorted by distance |detection.frame - truth.frame| (ties: earlier truth first, then earlier
 *    detection), and taken greedily: a pair is kept when neither side is matched yet. Each truth matches at
 *    most one detection and each detection at most one truth.
 * 3. Matched pairs are true positives; unmatched detections are false positives; unmatched truths are misses.
 *    Counts are summed over clips before precision and recall are taken (micro-average, as TRECVID does).
 *
 * Per kind: recall is over the truths of that kind (a dissolve found by a detection labelled "cut" still counts
 * as found; `kind_correct` tells how often the label agreed). A false positive is charged to the kind its
 * detection was labelled with, so per-kind precision answers "when the detector says dissolve, is there a
 * transition there?".
 *
 * Distractors: a false positive whose frame lies inside an annotated distractor span (widened by
 * `distractorSlack`, 2 by default) is a false boundary on that distractor, counted per distractor kind.
 */
import { DISTRACTOR_KINDS, TRUTH_KINDS, type DetectedBoundary, type DistractorKind, type TruthDistractor, type TruthKind, type TruthTransition } from './types.js';

/** Tolerances the benchmark reports, in frames. */
export const DEFAULT_TOLERANCES: readonly number[] = [0, 1, 2];
/** Frames a gradual transition's span is widened by on each side for matching. */
export const DEFAULT_GRADUAL_SLACK = 2;
/** Frames a distractor span is widened by when charging false positives to it. */
export const DEFAULT_DISTRACTOR_SLACK = 2;

/** Options of {@link evaluateClip}. */
export interface MatchOptions {
  /** Frames a detection may miss a cut by. */
  tolerance: number;
  /** Default {@link DEFAULT_GRADUAL_SLACK}. */
  gradualSlack?: number | undefined;
  /** Default {@link DEFAULT_DISTRACTOR_SLACK}. */
  distractorSlack?: number | undefined;
}

/** One matched pair. */
export interface Match {
  /** Index into the detections. */
  detection: number;
  /** Index into the truth. */
  truth: number;
  /** |detection.frame - truth.frame|. */
  distance: number;
}

/** Counts for one group (all, or one kind). */
export interface Counts {
  tp: number;
  fp: number;
  fn: number;
}

/** Counts with the ratios derived from them. */
export interface Scores extends Counts {
  precision: number;
  recall: number;
  f1: number;
}

/** Per-kind counts. */
export interface KindCounts extends Counts {
  /** Truths of this kind. */
  truth: number;
  /** Matched truths of this kind whose detection carried the same kind label. */
  kind_correct: number;
}

/** Per-distractor-kind counts. */
export interface DistractorCounts {
  /** Annotated distractors of this kind. */
  count: number;
  /** False positives inside their spans. */
  false_boundaries: number;
  /** Distractors of this kind with at least one false positive. */
  fired: number;
}

/** The evaluation of one clip at one tolerance. */
export interface ClipEvaluation {
  tolerance: number;
  all: Counts;
  kinds: Record<TruthKind, KindCounts>;
  distractors: Record<DistractorKind, DistractorCounts>;
  /** Sum of |offset| over matched cuts, and their number (for the mean offset). */
  cut_offset_sum: number;
  cut_matches: number;
  matches: Match[];
  /** Indices of detections that matched nothing. */
  false_positives: number[];
  /** Indices of truths that nothing matched. */
  misses: number[];
}

/** Per-kind scores in a summary. */
export interface KindScores extends Scores {
  truth: number;
  kind_correct: number;
}

/** The evaluation of a whole dataset at one tolerance. */
export interface Summary {
  tolerance: number;
  clips: number;
  all: Scores;
  kinds: Record<TruthKind, KindScores>;
  distractors: Record<DistractorKind, DistractorCounts> & Record<string, DistractorCounts>;
  /** All distractors and all false positives on them. */
  distractor_total: DistractorCounts;
  /** False positives per distractor (the target: at most 0.1). */
  false_per_distractor: number;
  /** Mean |offset| of matched cuts in frames (NaN when none matched). */
  mean_cut_offset: number;
}

function emptyKinds(): Record<TruthKind, KindCounts> {
  return Object.fromEntries(TRUTH_KINDS.map((k) => [k, { truth: 0, tp: 0, fp: 0, fn: 0, kind_correct: 0 }])) as Record<TruthKind, KindCounts>;
}

function emptyDistractors(): Record<DistractorKind, DistractorCounts> {
  return Object.fromEntries(DISTRACTOR_KINDS.map((k) => [k, { count: 0, false_boundaries: 0, fired: 0 }])) as Record<DistractorKind, DistractorCounts>;
}

/** The truth kind a detection's label stands for, given the kinds present in the truth. */
function labelKind(label: string | undefined, present: ReadonlySet<TruthKind>): TruthKind {
  if (label === 'dissolve' || label === 'fade' || label === 'wipe') return present.has(label) || !present.has('gradual') ? label : 'gradual';
  if (label === 'gradual') return 'gradual';
  return 'cut';
}

/** May detection frame `frame` match `truth` at `tolerance`? */
export function canMatch(frame: number, truth: TruthTransition, tolerance: number, gradualSlack = DEFAULT_GRADUAL_SLACK): boolean {
  if (truth.kind === 'cut') return Math.abs(frame - truth.frame) <= tolerance;
  return frame >= truth.start_frame - gradualSlack && frame <= truth.end_frame + gradualSlack;
}

/** Score one clip's detections against its truth at one tolerance (see the module header for the rules). */
export function evaluateClip(
  truth: readonly TruthTransition[],
  detections: readonly DetectedBoundary[],
  distractors: readonly TruthDistractor[],
  options: MatchOptions,
): ClipEvaluation {
  const tolerance = options.tolerance;
  const gradualSlack = options.gradualSlack ?? DEFAULT_GRADUAL_SLACK;
  const distractorSlack = options.distractorSlack ?? DEFAULT_DISTRACTOR_SLACK;
  const candidates: Match[] = [];
  for (let i = 0; i < detections.length; i++) {
    const frame = detections[i]!.frame;
    for (let j = 0; j < truth.length; j++) {
      const t = truth[j]!;
      if (canMatch(frame, t, tolerance, gradualSlack)) candidates.push({ detection: i, truth: j, distance: Math.abs(frame - t.frame) });
    }
  }
  candidates.sort((a, b) => a.distance - b.distance || a.truth - b.truth || a.detection - b.detection);
  const detectionUsed = new Array<boolean>(detections.length).fill(false);
  const truthUsed = new Array<boolean>(truth.length).fill(false);
  const matches: Match[] = [];
  for (const c of candidates) {
    if (detectionUsed[c.detection] === true || truthUsed[c.truth] === true) continue;
    detectionUsed[c.detection] = true;
    truthUsed[c.truth] = true;
    matches.push(c);
  }
  matches.sort((a, b) => a.truth - b.truth);

  const kinds = emptyKinds();
  const present = new Set(truth.map((t) => t.kind));
  let cutOffsetSum = 0;
  let cutMatches = 0;
  for (const t of truth) kinds[t.kind].truth++;
  for (const m of matches) {
    const t = truth[m.truth]!;
    kinds[t.kind].tp++;
    if (labelKind(detections[m.detection]!.kind, present) === t.kind) kinds[t.kind].kind_correct++;
    if (t.kind === 'cut') {
      cutOffsetSum += m.distance;
      cutMatches++;
    }
  }
  const misses: number[] = [];
  truth.forEach((t, j) => {
    if (truthUsed[j] !== true) {
      kinds[t.kind].fn++;
      misses.push(j);
    }
  });

  const distractorCounts = emptyDistractors();
  for (const d of distractors) distractorCounts[d.kind].count++;
  const fired = new Set<number>();
  const falsePositives: number[] = [];
  detections.forEach((d, i) => {
    if (detectionUsed[i] === true) return;
    falsePositives.push(i);
    kinds[labelKind(d.kind, present)].fp++;
    const hit = distractors.findIndex((s) => d.frame >= s.start_frame - distractorSlack && d.frame <= s.end_frame + distractorSlack);
    if (hit >= 0) {
      const s = distractors[hit]!;
      distractorCounts[s.kind].false_boundaries++;
      if (!fired.has(hit)) {
        fired.add(hit);
        distractorCounts[s.kind].fired++;
      }
    }
  });

  return {
    tolerance,
    all: { tp: matches.length, fp: falsePositives.length, fn: misses.length },
    kinds,
    distractors: distractorCounts,
    cut_offset_sum: cutOffsetSum,
    cut_matches: cutMatches,
    matches,
    false_positives: falsePositives,
    misses,
  };
}

/** Precision, recall and F1 of counts (0 when undefined, as TRECVID tables print them). */
export function scores(counts: Counts): Scores {
  const precision = counts.tp + counts.fp === 0 ? 0 : counts.tp / (counts.tp + counts.fp);
  const recall = counts.tp + counts.fn === 0 ? 0 : counts.tp / (counts.tp + counts.fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { ...counts, precision, recall, f1 };
}

/** Sum clip evaluations (all at the same tolerance) into a dataset summary. */
export function summarize(evaluations: readonly ClipEvaluation[], tolerance = evaluations[0]?.tolerance ?? 0): Summary {
  const all: Counts = { tp: 0, fp: 0, fn: 0 };
  const kinds = emptyKinds();
  const distractors = emptyDistractors();
  let offsetSum = 0;
  let offsetCount = 0;
  for (const e of evaluations) {
    all.tp += e.all.tp;
    all.fp += e.all.fp;
    all.fn += e.all.fn;
    for (const k of TRUTH_KINDS) {
      for (const field of ['truth', 'tp', 'fp', 'fn', 'kind_correct'] as const) kinds[k][field] += e.kinds[k][field];
    }
    for (const k of DISTRACTOR_KINDS) {
      for (const field of ['count', 'false_boundaries', 'fired'] as const) distractors[k][field] += e.distractors[k][field];
    }
    offsetSum += e.cut_offset_sum;
    offsetCount += e.cut_matches;
  }
  const total: DistractorCounts = { count: 0, false_boundaries: 0, fired: 0 };
  for (const k of DISTRACTOR_KINDS) {
    total.count += distractors[k].count;
    total.false_boundaries += distractors[k].false_boundaries;
    total.fired += distractors[k].fired;
  }
  return {
    tolerance,
    clips: evaluations.length,
    all: scores(all),
    kinds: Object.fromEntries(TRUTH_KINDS.map((k) => [k, { ...scores(kinds[k]), truth: kinds[k].truth, kind_correct: kinds[k].kind_correct }])) as Record<TruthKind, KindScores>,
    distractors,
    distractor_total: total,
    false_per_distractor: total.count === 0 ? 0 : total.false_boundaries / total.count,
    mean_cut_offset: offsetCount === 0 ? Number.NaN : offsetSum / offsetCount,
  };
}

/** One acceptance target of issue 3 and whether a summary meets it. */
export interface TargetCheck {
  name: string;
  value: number;
  target: string;
  pass: boolean;
}

/**
 * Issue 3's acceptance targets on the generated corpus, checked on the summary at tolerance 1 (cuts within 1
 * frame, gradual transitions inside their span widened by 2): F1 >= 0.96; recall on dissolves, fades and wipes
 * each >= 0.9 (kinds absent from the truth are skipped); at most 1 false boundary per 10 distractors.
 */
export function checkTargets(summary: Summary): TargetCheck[] {
  const checks: TargetCheck[] = [{ name: 'F1', value: summary.all.f1, target: '>= 0.96', pass: summary.all.f1 >= 0.96 }];
  for (const k of ['dissolve', 'fade', 'wipe'] as const) {
    const s = summary.kinds[k];
    if (s.truth > 0) checks.push({ name: `${k} recall`, value: s.recall, target: '>= 0.9', pass: s.recall >= 0.9 });
  }
  if (summary.distractor_total.count > 0) {
    checks.push({ name: 'false boundaries per distractor', value: summary.false_per_distractor, target: '<= 0.1', pass: summary.false_per_distractor <= 0.1 });
  }
  return checks;
}
