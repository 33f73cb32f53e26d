/**
 * Histogram detector (PySceneDetect's HistogramDetector): 1 minus the correlation of the luma histograms of
 * consecutive frames; a new scene starts when it reaches the threshold (0.05). Insensitive to motion inside a
 * shot, but blind to cuts between shots of similar brightness and noisy on brightness ramps.
 */
import { HIST_BINS } from '../features/types.js';
import { confidence } from './confidence.js';
import type { Candidate, Detector, DetectorOutput } from './detector.js';
import type { FeatureSeries } from './series.js';

/** 1 - Pearson correlation of the luma histograms of frames a and b (0 identical .. 2 inverse). */
export function histCorrelationDistance(series: FeatureSeries, a: number, b: number): number {
  const h = series.hist;
  let ma = 0;
  let mb = 0;
  for (let k = 0; k < HIST_BINS; k++) {
    ma += h[a * HIST_BINS + k]!;
    mb += h[b * HIST_BINS + k]!;
  }
  ma /= HIST_BINS;
  mb /= HIST_BINS;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let k = 0; k < HIST_BINS; k++) {
    const x = h[a * HIST_BINS + k]! - ma;
    const y = h[b * HIST_BINS + k]! - mb;
    num += x * y;
    da += x * x;
    db += y * y;
  }
  if (da === 0 || db === 0) return da === db ? 0 : 1;
  return 1 - num / Math.sqrt(da * db);
}

/** Create a histogram detector. */
export function createHistogramDetector(options: { threshold?: number } = {}): Detector {
  const threshold = options.threshold ?? 0.05;
  return {
    name: 'histogram',
    threshold,
    detect(series: FeatureSeries): DetectorOutput {
      const values = new Float64Array(series.count);
      const candidates: Candidate[] = [];
      for (let i = 1; i < series.count; i++) {
        values[i] = histCorrelationDistance(series, i - 1, i);
        if (values[i]! >= threshold) candidates.push({ frame: i, kind: 'cut', start_frame: i, end_frame: i, confidence: confidence(values[i]!, threshold), detector: 'histogram' });
      }
      return { candidates, scores: [{ name: 'hist_diff', values, threshold }] };
    },
  };
}
