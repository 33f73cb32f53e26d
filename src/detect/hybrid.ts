/**
 * The default detector ("scenescope"), a hybrid: the classical detector (combined.ts: cuts, fades, dissolves and
 * wipes from the gradual fit) plus the gradual transitions the learned model (learned-net.ts, run here in
 * TypeScript) finds and the classical fit misses. Pure and synchronous, like every detector.
 *
 * A learned run (learned.ts {@link learnedGradualCandidates}; runs less than {@link RUN_BRIDGE} frames apart are
 * one run: the model's probability dips inside some transitions, such as a wipe whose panel fills the frame
 * or a fade through a flat colour) is added only when it is a transition of its own:
 * - **not one already reported**: it does not overlap or touch (within {@link SAME_TRANSITION_GAP} frames) the
 *   span of a boundary the classical detector reports (a cut, a fade or a gradual fit). The model's run and the
 *   fit's span often cover different parts of one transition, and two reports of one transition are one hit
 *   and one false boundary. The gap is small because a cut followed within a few frames by a fade is two
 *   transitions (issue 8 class 5);
 * - **not a fade's**: it does not overlap or touch a black or white run with its ramps (fade.ts
 *   {@link findFadeRuns}). The classical fade logic has judged those already: a fade boundary, part of the cut
 *   that enters or leaves the run, or a flash; a run the model finds on a ramp is one of those;
 * - **the model is sure**: its mean dissolve + wipe + fade probability over the run's frames above the threshold
 *   (bridged dips left out) is at least {@link HYBRID_MEAN_PROBABILITY}. Where the classical fit failed, an
 *   unsure model is not enough;
 * - **between two different pictures**: the luma layouts of the frames just before and just after the run
 *   correlate less than {@link SAME_SHOT_CORRELATION}, and at least {@link MIN_CHANGED_FRACTION} of their grid
 *   values differ (gradual.ts {@link changedFraction}, the count its wipe fit uses). A transition replaces the picture; motion inside
 *   one shot (an object crossing it, water, a slow pan or a grade change) keeps its layout, and a caption or
 *   logo appearing changes a few cells (a flat field has no layout to correlate, so the count decides there);
 * - **seen by the classical measures too**: the straddle ratio (gradual.ts: change across a window over the
 *   change of either side, after motion compensation) reaches {@link HYBRID_SUPPORT} somewhere inside it;
 * - **not motion**: it is at most {@link MAX_RUN_SECONDS} long. A steady pan or zoom of smooth content changes
 *   the grid almost linearly, which the model reads as a dissolve for as long as the motion lasts;
 *   transitions last at most 2.5 s in everything we have (the generator's dissolves 0.6-1.5 s, wipes 0.5-0.9 s);
 * - **a shot either side**: at least {@link EDGE_SECONDS} (the default minimum scene length) of picture before it
 *   and after it. Nearer the ends of the series the model's inputs compare frames with copies of the first or
 *   last frame (learned-features.ts clamps them), which makes a camera move that runs into the end of the video
 *   look like a transition onto a steady shot.
 * Its span, kind and confidence are the learned run's (docs/confidence.md).
 */
import type { Candidate, Detector, DetectorOutput } from './detector.js';
import { createCombinedDetector, type CombinedOptions } from './combined.js';
import { findFadeRuns, type FadeRun } from './fade.js';
import { learnedGradualCandidates } from './learned.js';
import { learnedProbabilities } from './learned-net.js';
import { changedFraction, lumaCorrelation } from './gradual.js';
import { framesIn, type FeatureSeries } from './series.js';

/** Frames between a learned run and an already reported boundary's span up to which they are one transition. */
export const SAME_TRANSITION_GAP = 2;
/** Frames below the threshold bridged inside one learned run. */
export const RUN_BRIDGE = 8;
/** Least mean dissolve + wipe + fade probability over a learned run's frames at or above the threshold. */
export const HYBRID_MEAN_PROBABILITY = 0.75;
/** Luma-layout correlation of the frames either side of a run from which they are one shot. */
export const SAME_SHOT_CORRELATION = 0.6;
/** Least fraction of grid values that change between the frames either side of a run. */
export const MIN_CHANGED_FRACTION = 0.2;
/** Longest learned run (seconds) taken as a transition; longer ones are motion. */
export const MAX_RUN_SECONDS = 3;
/** Least picture (seconds) between a learned run and either end of the series. */
export const EDGE_SECONDS = 0.5;
/** Least classical straddle ratio somewhere inside a learned run. */
export const HYBRID_SUPPORT = 1.5;
/** Least dissolve + wipe + fade probability of a frame inside a learned run. */
export const HYBRID_THRESHOLD = 0.5;

/** Options of the hybrid detector: the classical detector's. */
export type HybridOptions = CombinedOptions;

/**
 * The learned runs the hybrid detector adds to the classical detector's candidates (see the header).
 * `probs` is frame-major, 5 per frame; `fadeRuns` the series' black and white runs; `ratio` the classical
 * `gradual_ratio` track.
 */
export function hybridAdditions(series: FeatureSeries, probs: Float32Array, classical: readonly Candidate[], fadeRuns: readonly FadeRun[], ratio: Float64Array | undefined, name: string): Candidate[] {
  const n = series.count;
  const maxRun = framesIn(series, MAX_RUN_SECONDS);
  const edge = framesIn(series, EDGE_SECONDS);
  const g = (i: number): number => probs[i * 5 + 1]! + probs[i * 5 + 2]! + probs[i * 5 + 3]!;
  const keep = (c: Candidate): boolean => {
    const { start_frame: s, end_frame: e } = c;
    if (e - s + 1 > maxRun || s < edge || e >= n - edge) return false;
    let sum = 0;
    let firing = 0;
    for (let j = s; j <= e; j++) {
      if (g(j) < HYBRID_THRESHOLD) continue;
      sum += g(j);
      firing++;
    }
    if (sum / firing < HYBRID_MEAN_PROBABILITY) return false;
    if (lumaCorrelation(series.grid, s - 1, e + 1) >= SAME_SHOT_CORRELATION || changedFraction(series, s - 1, e + 1) < MIN_CHANGED_FRACTION) return false;
    let supported = false;
    if (ratio !== undefined) for (let j = s; j <= e && !supported; j++) supported = ratio[j]! >= HYBRID_SUPPORT;
    if (!supported) return false;
    const near = (from: number, to: number): boolean => s <= to + SAME_TRANSITION_GAP && e >= from - SAME_TRANSITION_GAP;
    return !classical.some((t) => near(Math.min(t.start_frame, t.frame), Math.max(t.end_frame, t.frame))) && !fadeRuns.some((r) => near(r.start_frame, r.end_frame));
  };
  return learnedGradualCandidates(probs, n, HYBRID_THRESHOLD, name, RUN_BRIDGE).filter(keep);
}

/**
 * The model's probabilities only where a learned run could be kept: within `reach` frames of a frame whose
 * straddle ratio reaches {@link HYBRID_SUPPORT}; every other frame reads "no transition". With `reach` more
 * than the longest run kept plus the bridge, the runs kept are those of the probabilities of every frame: a
 * run needs a supported frame, and a run cut short by the edge of a stretch already reaches from that frame
 * past the longest length kept. Each stretch is computed with its context (learned-net.ts), so its values are
 * those of the whole series. Most frames of most videos are far from any straddle peak: this keeps the model's
 * cost to the stretches around transitions (and cuts).
 */
export function probabilitiesNearSupport(series: FeatureSeries, ratio: Float64Array | undefined, reach: number): Float32Array {
  const n = series.count;
  const probs = new Float32Array(n * 5);
  for (let i = 0; i < n; i++) probs[i * 5] = 1;
  if (ratio === undefined) return probs;
  let i = 0;
  while (i < n) {
    if (!(ratio[i]! >= HYBRID_SUPPORT)) {
      i++;
      continue;
    }
    const from = Math.max(0, i - reach);
    let to = Math.min(n, i + reach + 1);
    for (let j = i + 1; j < to; j++) if (ratio[j]! >= HYBRID_SUPPORT) to = Math.min(n, j + reach + 1);
    probs.set(learnedProbabilities(series, from, to), from * 5);
    i = to;
  }
  return probs;
}

/** Create the hybrid detector (`name` labels its candidates). */
export function createHybridDetector(options: HybridOptions = {}, name = 'scenescope'): Detector {
  const classical = createCombinedDetector(options, name);
  const fadeThreshold = options.fadeThreshold ?? 12;
  return {
    name,
    threshold: classical.threshold,
    detect(series: FeatureSeries): DetectorOutput {
      const base = classical.detect(series);
      const ratio = base.scores.find((t) => t.name === 'gradual_ratio')?.values;
      const probs = probabilitiesNearSupport(series, ratio, framesIn(series, MAX_RUN_SECONDS) + RUN_BRIDGE + 2);
      const added = hybridAdditions(series, probs, base.candidates, findFadeRuns(series, fadeThreshold), ratio, name);
      const track = new Float64Array(series.count);
      for (let i = 0; i < series.count; i++) track[i] = probs[i * 5 + 1]! + probs[i * 5 + 2]! + probs[i * 5 + 3]!;
      return {
        candidates: [...base.candidates, ...added].sort((a, b) => a.frame - b.frame),
        // learned_gradual: the model's dissolve + wipe + fade probability, 0 away from straddle peaks (not computed).
        scores: [...base.scores, { name: 'learned_gradual', values: track, threshold: HYBRID_THRESHOLD }],
      };
    },
  };
}
