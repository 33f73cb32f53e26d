/**
 * Input of the learned gradual-transition model (issue 8): a small vector of content-independent measurements
 * per frame, computed from the feature series the classical detectors already read. The model (a 1D temporal
 * convolution, training/gradual/) looks at a window of these vectors, so it never sees the picture itself,
 * only how frames relate to each other: that is what makes a dissolve a dissolve whatever the shots show.
 *
 * For frame i and each half-width k in {@link LEARNED_SCALES}, with A = frame i - k and B = frame i + k on the
 * 16x9 colour-layout grid:
 * - straddle: mean |B - A| / 64;
 * - dissolve residual: mean |i - (A + t (B - A))| / max(4, mean |B - A|), t the least-squares progress, clipped
 *   to 3; and t itself;
 * - wipe residual: mean over cells of min(|i - A|, |i - B|) / max(4, mean |B - A|), clipped to 3;
 * - histogram distance: half the L1 distance of the normalised luma histograms of A and B (0..1).
 * Then per frame: the grid, histogram and hash distances to the previous frame, mean intensity / 255, luma
 * standard deviation / 64 and the luma-layout correlation with the previous frame.
 *
 * Frames outside the series are clamped to its ends. Pure; the same series gives the same numbers.
 */
import { GRID_SIZE } from '../features/types.js';
import { gridDistance, hashDistance, histDistance, scalar, type FeatureSeries } from './series.js';
import { lumaCorrelation } from './gradual.js';

/** Half-widths (frames) of the straddle comparisons. */
export const LEARNED_SCALES: readonly number[] = [1, 2, 3, 5, 8, 12, 18, 26];
/** Values per scale. */
const PER_SCALE = 5;
/** Values per frame that do not depend on a scale. */
const PER_FRAME = 6;
/** Channels of the model input per frame. */
export const LEARNED_CHANNELS = LEARNED_SCALES.length * PER_SCALE + PER_FRAME;
/** Frames of the series either side of a frame that its input vector reads (the largest scale). */
export const LEARNED_FEATURE_REACH = LEARNED_SCALES[LEARNED_SCALES.length - 1]!;

const CELLS = GRID_SIZE / 3;

/**
 * The model input for frames [from, to) of a series, channel-major (`[LEARNED_CHANNELS][to - from]`), as the
 * ONNX model takes it (batch of one).
 */
export function learnedInput(series: FeatureSeries, from = 0, to = series.count): Float32Array {
  const n = series.count;
  const len = Math.max(0, to - from);
  const out = new Float32Array(LEARNED_CHANNELS * len);
  const g = series.grid;
  const clamp = (j: number): number => (j < 0 ? 0 : j >= n ? n - 1 : j);
  const scales = LEARNED_SCALES.length;
  for (let q = 0; q < len; q++) {
    const i = from + q;
    const oi = i * GRID_SIZE;
    // Channel ch of this frame is out[ch * len + q] (written without a closure: this loop is the model's main cost).
    let o = q;
    for (let si = 0; si < scales; si++) {
      const k = LEARNED_SCALES[si]!;
      const a = clamp(i - k);
      const b = clamp(i + k);
      const oa = a * GRID_SIZE;
      const ob = b * GRID_SIZE;
      let dd = 0;
      let dabs = 0;
      let dot = 0;
      for (let v = 0; v < GRID_SIZE; v++) {
        const d = g[ob + v]! - g[oa + v]!;
        dd += d * d;
        dabs += Math.abs(d);
        dot += (g[oi + v]! - g[oa + v]!) * d;
      }
      const meanChange = dabs / GRID_SIZE;
      const t = dd > 0 ? Math.max(0, Math.min(1, dot / dd)) : 0;
      let rd = 0;
      let rw = 0;
      for (let c = 0; c < CELLS; c++) {
        let ea = 0;
        let eb = 0;
        for (let chn = 0; chn < 3; chn++) {
          const v = 3 * c + chn;
          const x = g[oi + v]!;
          const av = g[oa + v]!;
          const bv = g[ob + v]!;
          rd += Math.abs(x - (av + t * (bv - av)));
          ea += Math.abs(x - av);
          eb += Math.abs(x - bv);
        }
        rw += Math.min(ea, eb);
      }
      const norm = Math.max(4, meanChange) * GRID_SIZE;
      out[o] = meanChange / 64;
      out[o + len] = Math.min(3, rd / norm);
      out[o + 2 * len] = t;
      out[o + 3 * len] = Math.min(3, rw / norm);
      out[o + 4 * len] = histDistance(series, a, b);
      o += PER_SCALE * len;
    }
    const p = clamp(i - 1);
    out[o] = gridDistance(series, p, i) / 64;
    out[o + len] = histDistance(series, p, i);
    out[o + 2 * len] = hashDistance(series, p, i);
    out[o + 3 * len] = scalar(series, i, 'mean_rgb') / 255;
    out[o + 4 * len] = scalar(series, i, 'std_luma') / 64;
    out[o + 5 * len] = p === i ? 1 : lumaCorrelation(g, p, i);
  }
  return out;
}
