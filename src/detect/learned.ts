/**
 * The "learned" detector (issue 8): the default detector's cuts and fades, with dissolves and wipes from a
 * small learned model instead of the classical gradual detector. Pure: the model's per-frame probabilities are
 * computed beforehand (learned-model.ts, with onnxruntime-node) and travel with the series
 * ({@link LearnedSeries}); this module only reads them.
 *
 * The model gives, for every frame, the probabilities of: no transition, inside a dissolve, inside a wipe,
 * inside a fade, a cut's frame ({@link LEARNED_CLASSES}). A gradual transition is a run of frames whose
 * dissolve + wipe + fade probability reaches the threshold (default 0.5; gaps of up to two frames are bridged),
 * at least {@link MIN_RUN} frames long. Its span is the run, its boundary the run's middle frame, its kind the
 * largest of the summed dissolve, wipe and fade probabilities over the run, and its confidence
 * `confidence(mean probability over the run, threshold)` (docs/confidence.md: a run exactly at the threshold
 * scores 0.5). As in the default detector, a run that touches a cut (within 2 frames) or overlaps a fade of the
 * default detector is left to it; the model's fades add the ones the default detector misses (a fade right
 * after a cut, which it merges into the cut). A run is kept only where the classical straddle ratio reaches
 * {@link DEFAULT_SUPPORT} somewhere inside it: the model alone fires on some real-footage motion (whip pans,
 * water) that has no straddle peak at all.
 */
import { confidence } from './confidence.js';
import { createCombinedDetector } from './combined.js';
import type { Candidate, Detector, DetectorOutput } from './detector.js';
import type { FeatureSeries } from './series.js';
import { ModelError } from '../errors.js';

/** Classes of the model's output, in order. */
export const LEARNED_CLASSES = ['none', 'dissolve', 'wipe', 'fade', 'cut'] as const;

/** A feature series with the learned model's output: `learned[i * 5 + c]` is frame i's probability of class c. */
export interface LearnedSeries extends FeatureSeries {
  learned?: Float32Array;
}

/** Shortest run of frames reported as a gradual transition. */
export const MIN_RUN = 3;

/** Options of the learned detector. */
export interface LearnedOptions {
  /** Least dissolve + wipe + fade probability of a frame inside a transition. Default 0.5. */
  threshold?: number;
  /**
   * Least classical straddle ratio (the default detector's `gradual_ratio` track, gradual.ts: the change across
   * a window over the change of either side) somewhere inside a run, or 0 for none. Default {@link DEFAULT_SUPPORT}.
   */
  support?: number;
}

/** Default of {@link LearnedOptions.support}. */
export const DEFAULT_SUPPORT = 1.5;

/**
 * Gradual transitions from the model's probabilities (frame-major, 5 per frame): runs of frames whose dissolve +
 * wipe + fade probability reaches `threshold`, each labelled with the largest of the three summed over the run.
 * Gaps of up to `bridge` frames below the threshold inside a run are bridged.
 */
export function learnedGradualCandidates(probs: Float32Array, count: number, threshold: number, name = 'learned', bridge = 2): Candidate[] {
  const g = (i: number): number => probs[i * 5 + 1]! + probs[i * 5 + 2]! + probs[i * 5 + 3]!;
  const out: Candidate[] = [];
  let i = 0;
  while (i < count) {
    if (g(i) < threshold) {
      i++;
      continue;
    }
    const start = i;
    let end = i;
    for (let j = i + 1; j < count && j <= end + bridge + 1; j++) if (g(j) >= threshold) end = j;
    i = end + 1;
    if (end - start + 1 < MIN_RUN) continue;
    let sum = 0;
    const by = [0, 0, 0];
    for (let j = start; j <= end; j++) {
      sum += g(j);
      for (let c = 0; c < 3; c++) by[c]! += probs[j * 5 + 1 + c]!;
    }
    const best = by.indexOf(Math.max(...by));
    out.push({
      frame: start + Math.floor((end - start + 1) / 2),
      kind: (['dissolve', 'wipe', 'fade'] as const)[best]!,
      start_frame: start,
      end_frame: end,
      confidence: confidence(sum / (end - start + 1), threshold),
      detector: name,
    });
  }
  return out;
}

/**
 * Create the learned detector.
 * @throws ModelError MODEL_UNAVAILABLE from `detect` when the series carries no model output (it was not run:
 *   detectScenes runs it for this detector; detectAgain on a result of another detector cannot).
 */
export function createLearnedDetector(options: LearnedOptions = {}): Detector {
  const threshold = options.threshold ?? 0.5;
  const support = options.support ?? DEFAULT_SUPPORT;
  const classical = createCombinedDetector();
  return {
    name: 'learned',
    threshold,
    detect(series: LearnedSeries): DetectorOutput {
      const probs = series.learned;
      if (probs === undefined || probs.length < series.count * 5) {
        throw new ModelError('MODEL_UNAVAILABLE', 'The "learned" detector needs the gradual model\'s output for this series: run it through detectScenes (it needs onnxruntime-node)');
      }
      const base = classical.detect(series);
      const taken = base.candidates.filter((c) => c.kind === 'cut' || c.kind === 'fade').map((c) => ({ ...c, detector: 'learned' }));
      const ratio = base.scores.find((t) => t.name === 'gradual_ratio')?.values;
      const supported = (g: Candidate): boolean => {
        if (support <= 0 || ratio === undefined) return true;
        for (let j = g.start_frame; j <= g.end_frame; j++) if (ratio[j]! >= support) return true;
        return false;
      };
      const gradual = learnedGradualCandidates(probs, series.count, threshold).filter(
        (g) => supported(g) && !taken.some((t) => (t.frame >= g.start_frame - 2 && t.frame <= g.end_frame + 2) || (t.kind === 'fade' && t.start_frame <= g.end_frame && t.end_frame >= g.start_frame)),
      );
      const track = new Float64Array(series.count);
      for (let i = 0; i < series.count; i++) track[i] = probs[i * 5 + 1]! + probs[i * 5 + 2]! + probs[i * 5 + 3]!;
      return {
        candidates: [...taken, ...gradual].sort((a, b) => a.frame - b.frame),
        scores: [...base.scores.filter((s) => s.name !== 'gradual_ratio'), { name: 'learned_gradual', values: track, threshold }],
      };
    },
  };
}
