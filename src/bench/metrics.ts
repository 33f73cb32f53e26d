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
 *
 * Detected spans (`matchSpans`, on by default, the rule of ../shared/media/real/README.md): a detection that
 * carries `start_frame..end_frame` matches a gradual transition when any frame of its span lies inside the
 * widened truth span; its distance is then from the truth's frame to the nearest frame of the span. Cuts are
 * matched by the detection's `frame` only.
 *
 * Uncertain annotations (truth.json `"uncertain": true`):
 * - an uncertain transition takes part in matching (so the detection that finds it is not a false positive),
 *   but by default (`uncertainTruth: 'ignore'`) it is neither a hit nor a miss; it is counted apart
 *   (`uncertain`). With `'score'` it counts like any other transition.
 * - a false positive inside an uncertain distractor span (exactly the span, no slack) is left out of the
 *   false-positive count only when `excuseUncertain` is set; it is then listed in `excused`. Off by default.
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
  /** Let any frame of a detected span match a gradual transition. Default true. */
  matchSpans?: boolean | undefined;
  /** How uncertain transitions count: `'ignore'` (default: neither hit nor miss) or `'score'`. */
  uncertainTruth?: 'ignore' | 'score' | undefined;
  /** Leave false positives inside uncertain distractor spans out of the count. Default false. */
  excuseUncertain?: boolean | undefined;
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
  /** Indices of truths that nothing matched (uncertain ones left out unless scored). */
  misses: number[];
  /** Uncertain transitions left out of the counts, and how many of them a detection found. */
  uncertain: { truth: number; found: number };
  /** Indices of unmatched detections left out of the false positives (inside uncertain spans; excuseUncertain). */
  excused: number[];
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
  /** Matched transitions whose detection carried the right kind label, over all matches (NaN when none). */
  kind_accuracy: number;
  /** Uncertain transitions left out of the counts, and how many were found. */
  uncertain: { truth: number; found: number };
  /** False positives excused inside uncertain distractor spans. */
  excused: number;
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

/** The frames of a detection that may match a gradual transition: its span when it has one and spans count. */
function detectedSpan(d: DetectedBoundary, matchSpans: boolean): [number, number] {
  if (!matchSpans || d.start_frame === undefined || d.end_frame === undefined || d.end_frame < d.start_frame) return [d.frame, d.frame];
  return [Math.min(d.start_frame, d.frame), Math.max(d.end_frame, d.frame)];
}

/**
 * The matching distance of a (detection, truth) pair at `tolerance`, or undefined when they may not match (see
 * the module header).
 */
export function matchDistance(d: DetectedBoundary, truth: TruthTransition, tolerance: number, gradualSlack = DEFAULT_GRADUAL_SLACK, matchSpans = true): number | undefined {
  if (truth.kind === 'cut') {
    const distance = Math.abs(d.frame - truth.frame);
    return distance <= tolerance ? distance : undefined;
  }
  const [lo, hi] = detectedSpan(d, matchSpans);
  if (hi < truth.start_frame - gradualSlack || lo > truth.end_frame + gradualSlack) return undefined;
  return truth.frame < lo ? lo - truth.frame : truth.frame > hi ? truth.frame - hi : 0;
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
  const matchSpans = options.matchSpans ?? true;
  const scoreUncertain = options.uncertainTruth === 'score';
  const excuseUncertain = options.excuseUncertain ?? false;
  const candidates: Match[] = [];
  for (let i = 0; i < detections.length; i++) {
    for (let j = 0; j < truth.length; j++) {
      const distance = matchDistance(detections[i]!, truth[j]!, tolerance, gradualSlack, matchSpans);
      if (distance !== undefined) candidates.push({ detection: i, truth: j, distance });
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
  const counted = (t: TruthTransition): boolean => scoreUncertain || t.uncertain !== true;
  const uncertain = { truth: 0, found: 0 };
  let cutOffsetSum = 0;
  let cutMatches = 0;
  for (const t of truth) {
    if (counted(t)) kinds[t.kind].truth++;
    else uncertain.truth++;
  }
  const scored: Match[] = [];
  for (const m of matches) {
    const t = truth[m.truth]!;
    if (!counted(t)) {
      uncertain.found++;
      continue;
    }
    scored.push(m);
    kinds[t.kind].tp++;
    if (labelKind(detections[m.detection]!.kind, present) === t.kind) kinds[t.kind].kind_correct++;
    if (t.kind === 'cut') {
      cutOffsetSum += m.distance;
      cutMatches++;
    }
  }
  const misses: number[] = [];
  truth.forEach((t, j) => {
    if (truthUsed[j] !== true && counted(t)) {
      kinds[t.kind].fn++;
      misses.push(j);
    }
  });

  const distractorCounts = emptyDistractors();
  for (const d of distractors) distractorCounts[d.kind].count++;
  const fired = new Set<number>();
  const falsePositives: number[] = [];
  const excused: number[] = [];
  detections.forEach((d, i) => {
    if (detectionUsed[i] === true) return;
    if (excuseUncertain && distractors.some((s) => s.uncertain === true && d.frame >= s.start_frame && d.frame <= s.end_frame)) {
      excused.push(i);
      return;
    }
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
    all: { tp: scored.length, fp: falsePositives.length, fn: misses.length },
    kinds,
    distractors: distractorCounts,
    cut_offset_sum: cutOffsetSum,
    cut_matches: cutMatches,
    matches,
    false_positives: falsePositives,
    misses,
    uncertain,
    excused,
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
  const uncertain = { truth: 0, found: 0 };
  let excused = 0;
  for (const e of evaluations) {
    uncertain.truth += e.uncertain.truth;
    uncertain.found += e.uncertain.found;
    excused += e.excused.length;
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
    kind_accuracy: all.tp === 0 ? Number.NaN : TRUTH_KINDS.reduce((n, k) => n + kinds[k].kind_correct, 0) / all.tp,
    uncertain,
    excused,
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
 * Named sets of acceptance targets (see {@link checkTargets}):
 * - `issue3`: the first generated corpus: F1 >= 0.96; dissolve, fade and wipe recall each >= 0.9; at most 1
 *   false boundary per 10 distractors.
 * - `issue8-corpus`: the realistic generator (corpus v2): F1 >= 0.96; dissolve and wipe recall each >= 0.85;
 *   at most 2 false boundaries on distractors in all.
 * - `issue8-real`: real footage (../shared/media/real): F1 >= 0.92 with precision >= 0.95.
 */
export const TARGET_SETS = ['issue3', 'issue8-corpus', 'issue8-real'] as const;
/** One of {@link TARGET_SETS}. */
export type TargetSet = (typeof TARGET_SETS)[number];

/**
 * Check a summary (take the one at the dataset's headline tolerance: cuts within 1 frame) against a set of
 * acceptance targets. Kinds absent from the truth are skipped, and so are distractor targets without
 * distractors.
 */
export function checkTargets(summary: Summary, set: TargetSet = 'issue3'): TargetCheck[] {
  if (set === 'issue8-real') {
    return [
      { name: 'F1', value: summary.all.f1, target: '>= 0.92', pass: summary.all.f1 >= 0.92 },
      { name: 'precision', value: summary.all.precision, target: '>= 0.95', pass: summary.all.precision >= 0.95 },
    ];
  }
  if (set === 'issue8-corpus') {
    const checks: TargetCheck[] = [{ name: 'F1', value: summary.all.f1, target: '>= 0.96', pass: summary.all.f1 >= 0.96 }];
    for (const k of ['dissolve', 'wipe'] as const) {
      const s = summary.kinds[k];
      if (s.truth > 0) checks.push({ name: `${k} recall`, value: s.recall, target: '>= 0.85', pass: s.recall >= 0.85 });
    }
    if (summary.distractor_total.count > 0) {
      const n = summary.distractor_total.false_boundaries;
      checks.push({ name: 'false boundaries on distractors', value: n, target: '<= 2', pass: n <= 2 });
    }
    return checks;
  }
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
