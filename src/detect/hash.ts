/**
 * Perceptual-hash detector (PySceneDetect's HashDetector): the Hamming distance between the 64-bit DCT hashes
 * of consecutive frames, as a fraction of the bits; a new scene starts when it reaches the threshold (0.395).
 * Robust to brightness and colour shifts, since the hash keeps only the coarse structure of the picture.
 */
import { confidence } from './confidence.js';
import type { Candidate, Detector, DetectorOutput } from './detector.js';
import { hashDistance, type FeatureSeries } from './series.js';

/** Create a hash detector. */
export function createHashDetector(options: { threshold?: number } = {}): Detector {
  const threshold = options.threshold ?? 0.395;
  return {
    name: 'hash',
    threshold,
    detect(series: FeatureSeries): DetectorOutput {
      const values = new Float64Array(series.count);
      const candidates: Candidate[] = [];
      for (let i = 1; i < series.count; i++) {
        values[i] = hashDistance(series, i - 1, i);
        if (values[i]! >= threshold) candidates.push({ frame: i, kind: 'cut', start_frame: i, end_frame: i, confidence: confidence(values[i]!, threshold), detector: 'hash' });
      }
      return { candidates, scores: [{ name: 'hash_dist', values, threshold }] };
    },
  };
}
