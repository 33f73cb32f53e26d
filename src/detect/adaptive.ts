/**
 * Adaptive detector (PySceneDetect's AdaptiveDetector): the content score of frame i divided by the mean score
 * of its neighbours (window frames on each side). Fast motion raises every score in the window and so keeps the
 * ratio low; a cut stands out from its neighbours even in a dark, low-contrast shot. A frame is a cut when the
 * ratio reaches the threshold (3.0) and its content score reaches a floor (15).
 */
import { confidence } from './confidence.js';
import { contentScores } from './content.js';
import type { Candidate, Detector, DetectorOutput } from './detector.js';
import type { FeatureSeries } from './series.js';

/** Ratio of each frame's score to the mean of its `window` neighbours on each side. */
export function adaptiveRatios(scores: Float64Array, window: number): Float64Array {
  const n = scores.length;
  const out = new Float64Array(n);
  for (let i = 1; i < n; i++) {
    let sum = 0;
    let count = 0;
    for (let k = i - window; k <= i + window; k++) {
      if (k === i || k < 1 || k >= n) continue;
      sum += scores[k]!;
      count++;
    }
    const mean = count === 0 ? 0 : sum / count;
    out[i] = mean < 1e-6 ? (scores[i]! > 1e-6 ? 255 : 0) : scores[i]! / mean;
  }
  return out;
}

/** Create an adaptive detector. */
export function createAdaptiveDetector(options: { threshold?: number; minContentVal?: number; window?: number } = {}): Detector {
  const threshold = options.threshold ?? 3;
  const minContentVal = options.minContentVal ?? 15;
  const window = options.window ?? 2;
  return {
    name: 'adaptive',
    threshold,
    detect(series: FeatureSeries): DetectorOutput {
      const scores = contentScores(series);
      const ratios = adaptiveRatios(scores, window);
      const candidates: Candidate[] = [];
      for (let i = 1; i < series.count; i++) {
        if (ratios[i]! >= threshold && scores[i]! >= minContentVal) {
          candidates.push({ frame: i, kind: 'cut', start_frame: i, end_frame: i, confidence: confidence(Math.min(ratios[i]!, 2 * threshold), threshold), detector: 'adaptive' });
        }
      }
      return { candidates, scores: [{ name: 'adaptive_ratio', values: ratios, threshold }, { name: 'content_val', values: scores, threshold: minContentVal }] };
    },
  };
}
