/**
 * Content detector (PySceneDetect's ContentDetector): the score of frame i is the weighted mean of the mean
 * absolute differences of hue, saturation, value and edges between frames i-1 and i (HSV on OpenCV's scale, so
 * thresholds carry over: 27 by default). A frame whose score reaches the threshold starts a new scene.
 */
import { confidence } from './confidence.js';
import type { Candidate, Detector, DetectorOutput } from './detector.js';
import { scalar, type FeatureSeries } from './series.js';

/** Weights of the four components. PySceneDetect's default ignores edges. */
export interface ContentWeights {
  hue: number;
  sat: number;
  lum: number;
  edges: number;
}

/** Default component weights. */
export const DEFAULT_CONTENT_WEIGHTS: ContentWeights = { hue: 1, sat: 1, lum: 1, edges: 0 };

/** The content score of every frame (frame 0 scores 0). */
export function contentScores(series: FeatureSeries, weights: ContentWeights = DEFAULT_CONTENT_WEIGHTS): Float64Array {
  const total = weights.hue + weights.sat + weights.lum + weights.edges;
  const out = new Float64Array(series.count);
  for (let i = 1; i < series.count; i++) {
    out[i] =
      (weights.hue * scalar(series, i, 'delta_hue') +
        weights.sat * scalar(series, i, 'delta_sat') +
        weights.lum * scalar(series, i, 'delta_lum') +
        weights.edges * scalar(series, i, 'delta_edges')) /
      total;
  }
  return out;
}

/** Create a content detector. */
export function createContentDetector(options: { threshold?: number; weights?: ContentWeights } = {}): Detector {
  const threshold = options.threshold ?? 27;
  const weights = options.weights ?? DEFAULT_CONTENT_WEIGHTS;
  return {
    name: 'content',
    threshold,
    detect(series: FeatureSeries): DetectorOutput {
      const values = contentScores(series, weights);
      const candidates: Candidate[] = [];
      for (let i = 1; i < series.count; i++) {
        const s = values[i]!;
        if (s >= threshold) candidates.push({ frame: i, kind: 'cut', start_frame: i, end_frame: i, confidence: confidence(s, threshold), detector: 'content' });
      }
      return { candidates, scores: [{ name: 'content_val', values, threshold }] };
    },
  };
}
