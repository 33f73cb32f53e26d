/**
 * A feature series: the per-frame features of a whole video, in frame order, with each frame's time. This is
 * the only input of detection, which is pure: no I/O, no decoding, so it can be re-run from stored features.
 */
import { GRID_H, GRID_SIZE, GRID_W, HIST_BINS, SCALAR_COUNT, SCALAR_NAMES, type FeatureBatch, type ScalarName } from '../features/types.js';

/** Per-frame features of a whole video. */
export interface FeatureSeries {
  count: number;
  /** Seconds from the first frame. */
  times: Float64Array;
  /** Nominal frame rate (frames per second), for converting seconds to frames. */
  frameRate: number;
  scalars: Float64Array;
  hist: Uint32Array;
  hash: Uint32Array;
  grid: Uint8Array;
}

const SCALAR_INDEX: Record<ScalarName, number> = Object.fromEntries(SCALAR_NAMES.map((n, i) => [n, i])) as Record<ScalarName, number>;

/** Join batches (in order) into one series. */
export function seriesFromBatches(batches: readonly FeatureBatch[], times: Float64Array, frameRate: number): FeatureSeries {
  const count = batches.reduce((s, b) => s + b.count, 0);
  const series: FeatureSeries = {
    count,
    times,
    frameRate,
    scalars: new Float64Array(count * SCALAR_COUNT),
    hist: new Uint32Array(count * HIST_BINS),
    hash: new Uint32Array(count * 2),
    grid: new Uint8Array(count * GRID_SIZE),
  };
  let at = 0;
  for (const b of batches) {
    series.scalars.set(b.scalars.subarray(0, b.count * SCALAR_COUNT), at * SCALAR_COUNT);
    series.hist.set(b.hist.subarray(0, b.count * HIST_BINS), at * HIST_BINS);
    series.hash.set(b.hash.subarray(0, b.count * 2), at * 2);
    series.grid.set(b.grid.subarray(0, b.count * GRID_SIZE), at * GRID_SIZE);
    at += b.count;
  }
  return series;
}

/** One scalar feature of frame i. */
export function scalar(series: FeatureSeries, i: number, name: ScalarName): number {
  return series.scalars[i * SCALAR_COUNT + SCALAR_INDEX[name]]!;
}

/** One scalar feature for every frame. */
export function scalarTrack(series: FeatureSeries, name: ScalarName): Float64Array {
  const out = new Float64Array(series.count);
  const k = SCALAR_INDEX[name];
  for (let i = 0; i < series.count; i++) out[i] = series.scalars[i * SCALAR_COUNT + k]!;
  return out;
}

/**
 * Mean absolute difference of the colour-layout grids of frames a and b (0..255). Cheap enough to compare
 * frames far apart (multi-scale differences, flash checks).
 */
export function gridDistance(series: FeatureSeries, a: number, b: number): number {
  const g = series.grid;
  const oa = a * GRID_SIZE;
  const ob = b * GRID_SIZE;
  let sum = 0;
  for (let k = 0; k < GRID_SIZE; k++) sum += Math.abs(g[oa + k]! - g[ob + k]!);
  return sum / GRID_SIZE;
}

/**
 * The smallest mean absolute difference of the colour-layout grids of frames a and b when b is shifted by up to
 * one cell in each direction (over the cells that overlap): how much of a change camera motion explains.
 */
export function shiftedGridDistance(series: FeatureSeries, a: number, b: number): number {
  const g = series.grid;
  const oa = a * GRID_SIZE;
  const ob = b * GRID_SIZE;
  let best = Infinity;
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      let sum = 0;
      let n = 0;
      for (let y = Math.max(0, -dy); y < Math.min(GRID_H, GRID_H - dy); y++) {
        for (let x = Math.max(0, -dx); x < Math.min(GRID_W, GRID_W - dx); x++) {
          const ca = oa + 3 * (y * GRID_W + x);
          const cb = ob + 3 * ((y + dy) * GRID_W + x + dx);
          sum += Math.abs(g[ca]! - g[cb]!) + Math.abs(g[ca + 1]! - g[cb + 1]!) + Math.abs(g[ca + 2]! - g[cb + 2]!);
          n += 3;
        }
      }
      best = Math.min(best, sum / n);
    }
  }
  return best;
}

/** Half the L1 distance of the normalised luma histograms of frames a and b (0: same, 1: disjoint). */
export function histDistance(series: FeatureSeries, a: number, b: number): number {
  const h = series.hist;
  let sa = 0;
  let sb = 0;
  for (let k = 0; k < HIST_BINS; k++) {
    sa += h[a * HIST_BINS + k]!;
    sb += h[b * HIST_BINS + k]!;
  }
  if (sa === 0 || sb === 0) return sa === sb ? 0 : 1;
  let d = 0;
  for (let k = 0; k < HIST_BINS; k++) d += Math.abs(h[a * HIST_BINS + k]! / sa - h[b * HIST_BINS + k]! / sb);
  return d / 2;
}

/** Mean absolute difference of the chroma (Cb, Cr) of the colour-layout grids of frames a and b (0..255). */
export function chromaDistance(series: FeatureSeries, a: number, b: number): number {
  const g = series.grid;
  const oa = a * GRID_SIZE;
  const ob = b * GRID_SIZE;
  let sum = 0;
  for (let k = 0; k < GRID_SIZE; k += 3) sum += Math.abs(g[oa + k + 1]! - g[ob + k + 1]!) + Math.abs(g[oa + k + 2]! - g[ob + k + 2]!);
  return sum / ((2 * GRID_SIZE) / 3);
}

/** Hamming distance of the 64-bit perceptual hashes of frames a and b, as a fraction of 64 bits. */
export function hashDistance(series: FeatureSeries, a: number, b: number): number {
  const popcount = (x: number): number => {
    x -= (x >>> 1) & 0x55555555;
    x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
    return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
  };
  const h = series.hash;
  return (popcount((h[2 * a]! ^ h[2 * b]!) >>> 0) + popcount((h[2 * a + 1]! ^ h[2 * b + 1]!) >>> 0)) / 64;
}

/** Frames in `seconds` at the series' frame rate, at least 1. */
export function framesIn(series: Pick<FeatureSeries, 'frameRate'>, seconds: number): number {
  return Math.max(1, Math.round(seconds * series.frameRate));
}
