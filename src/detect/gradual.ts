/**
 * Gradual transitions: dissolves and wipes (and fades, which the fade detector names).
 *
 * First pass, multi-scale: for every frame i and half-width k (0.1 to 0.7 s), compare the frames k before and k
 * after i (the "straddle") with how much each side changes by itself over the same span (the "steadiness").
 * A transition shorter than 2k between two fairly steady shots makes the straddle large and the sides small;
 * a pan or shake changes everything at a steady rate, so its straddle is only about twice its sides.
 *
 * Second pass, only on candidate windows [a, b]: model every frame between the two steady endpoints A = a and
 * B = b on the 16x9 colour-layout grid:
 * - dissolve (and fade): frame j = A + t_j (B - A) for one t_j for the whole picture;
 * - wipe: every cell is either A's or B's (each switches once, at its own time).
 * The better model's residual, relative to |B - A|, must be small: camera motion, objects and captions do not
 * move the picture along the straight line from A to B. The endpoints must differ in structure (luma layout
 * correlation below a bound), so that an exposure ramp (B = gain * A) is not a scene change, and most of the
 * picture must change (a caption or an object changes only part of it). The progress t_j must rise
 * monotonically; the boundary is placed where it crosses one half.
 */
import { GRID_SIZE } from '../features/types.js';
import type { Candidate } from './detector.js';
import { fieldUnderOverlays } from './fade.js';
import { framesIn, gridDistance, scalar, shiftedGridDistance, type FeatureSeries } from './series.js';

/** Tunables of the gradual detector. */
export interface GradualOptions {
  /** Least straddle/steadiness ratio for a candidate. */
  minRatio: number;
  /** Least straddle distance (grid mean absolute difference, 0..255). */
  minJump: number;
  /** Largest model residual relative to the mean change |B - A|, for endpoints whose structure still correlates. */
  maxResidual: number;
  /**
   * Extra residual allowed when the endpoints are unrelated pictures: it grows linearly from 0 at a luma layout
   * correlation of `unrelatedCorrelation` to this at 0 and below. Moving shots on both sides of a transition
   * leave frames that are no exact blend of the endpoints; motion inside one shot keeps its layout correlated.
   */
  movingResidual: number;
  /** Luma layout correlation under which the endpoints start to count as unrelated pictures. */
  unrelatedCorrelation: number;
  /** Least fraction of grid values that change between A and B. */
  minChangedFraction: number;
  /** Largest correlation of A's and B's luma layouts (above it: same picture, e.g. an exposure change). */
  maxStructureCorrelation: number;
}

/** Defaults, tuned on the generated corpus (docs/benchmarks.md). */
export const DEFAULT_GRADUAL: GradualOptions = {
  minRatio: 2.5,
  minJump: 12,
  maxResidual: 0.085,
  movingResidual: 0.085,
  unrelatedCorrelation: 0.35,
  minChangedFraction: 0.4,
  maxStructureCorrelation: 0.9,
};

/** A fitted transition. */
export interface GradualFit {
  kind: 'dissolve' | 'wipe';
  a: number;
  b: number;
  start_frame: number;
  end_frame: number;
  frame: number;
  residual: number;
  /** The residual bound the fit was held to (see {@link residualBound}). */
  bound: number;
  ratio: number;
  jump: number;
}

const CELLS = GRID_SIZE / 3;

/** Pearson correlation of the luma layouts (16x9 cell means) of frames a and b; 0 when either is flat. */
export function lumaCorrelation(g: Uint8Array, a: number, b: number): number {
  let ma = 0;
  let mb = 0;
  for (let c = 0; c < CELLS; c++) {
    ma += g[a * GRID_SIZE + 3 * c]!;
    mb += g[b * GRID_SIZE + 3 * c]!;
  }
  ma /= CELLS;
  mb /= CELLS;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let c = 0; c < CELLS; c++) {
    const x = g[a * GRID_SIZE + 3 * c]! - ma;
    const y = g[b * GRID_SIZE + 3 * c]! - mb;
    num += x * y;
    da += x * x;
    db += y * y;
  }
  if (da < 1e-9 || db < 1e-9) return 0;
  return num / Math.sqrt(da * db);
}

/** Grid values differing by this much or more count as changed between two frames ({@link changedFraction}). */
export const CHANGED_VALUE = 10;

/** Fraction of the grid values of frames a and b that differ by {@link CHANGED_VALUE} or more. */
export function changedFraction(series: FeatureSeries, a: number, b: number): number {
  const g = series.grid;
  let changed = 0;
  for (let v = 0; v < GRID_SIZE; v++) if (Math.abs(g[b * GRID_SIZE + v]! - g[a * GRID_SIZE + v]!) >= CHANGED_VALUE) changed++;
  return changed / GRID_SIZE;
}

/**
 * Fit both models over (a, b). Returns per-frame progress (0..1) of the better model, its mean residual
 * (relative to the mean |B - A|) and the fraction of values that change.
 */
export function fitTransition(series: FeatureSeries, a: number, b: number): { kind: 'dissolve' | 'wipe'; progress: Float64Array; residual: number; changed: number } {
  const g = series.grid;
  const oa = a * GRID_SIZE;
  const ob = b * GRID_SIZE;
  let dd = 0;
  let dabs = 0;
  let changed = 0;
  for (let v = 0; v < GRID_SIZE; v++) {
    const d = g[ob + v]! - g[oa + v]!;
    dd += d * d;
    dabs += Math.abs(d);
    if (Math.abs(d) >= CHANGED_VALUE) changed++;
  }
  const meanChange = dabs / GRID_SIZE;
  const n = b - a - 1;
  const progressD = new Float64Array(Math.max(0, n));
  const progressW = new Float64Array(Math.max(0, n));
  let residualD = 0;
  let residualW = 0;
  for (let k = 0; k < n; k++) {
    const oj = (a + 1 + k) * GRID_SIZE;
    let dot = 0;
    for (let v = 0; v < GRID_SIZE; v++) dot += (g[oj + v]! - g[oa + v]!) * (g[ob + v]! - g[oa + v]!);
    const t = dd > 0 ? Math.max(0, Math.min(1, dot / dd)) : 0;
    progressD[k] = t;
    let rd = 0;
    for (let v = 0; v < GRID_SIZE; v++) rd += Math.abs(g[oj + v]! - (g[oa + v]! + t * (g[ob + v]! - g[oa + v]!)));
    residualD += rd / GRID_SIZE;
    // Wipe: each cell (3 values) is nearer A or nearer B.
    let rw = 0;
    let bWeight = 0;
    let total = 0;
    for (let c = 0; c < CELLS; c++) {
      let ea = 0;
      let eb = 0;
      let dc = 0;
      for (let ch = 0; ch < 3; ch++) {
        const v = 3 * c + ch;
        ea += Math.abs(g[oj + v]! - g[oa + v]!);
        eb += Math.abs(g[oj + v]! - g[ob + v]!);
        dc += Math.abs(g[ob + v]! - g[oa + v]!);
      }
      rw += Math.min(ea, eb);
      if (dc >= 15) {
        total += dc;
        if (eb < ea) bWeight += dc;
      }
    }
    residualW += rw / GRID_SIZE;
    progressW[k] = total > 0 ? bWeight / total : 0;
  }
  const norm = Math.max(1e-9, meanChange) * Math.max(1, n);
  const rD = residualD / norm;
  const rW = residualW / norm;
  return rD <= rW
    ? { kind: 'dissolve', progress: progressD, residual: rD, changed: changed / GRID_SIZE }
    : { kind: 'wipe', progress: progressW, residual: rW, changed: changed / GRID_SIZE };
}

/** The endpoints just outside where a progress curve (frames a+1...) leaves 0 and reaches 1, two frames wide. */
function tightWindow(progress: Float64Array, a: number): [number, number] {
  let first = 0;
  let last = progress.length - 1;
  while (first < progress.length && progress[first]! <= 0.08) first++;
  while (last >= 0 && progress[last]! >= 0.92) last--;
  return [Math.max(a, a + first - 1), Math.min(a + progress.length + 1, a + last + 3)];
}

/** A frame that is a flat black or white field, or black under overlays (a ticker, a logo). */
function isFlatField(series: FeatureSeries, i: number): boolean {
  const mean = scalar(series, i, 'mean_rgb');
  return (scalar(series, i, 'std_luma') < 5 && (mean < 12 || mean > 231)) || fieldUnderOverlays(series, i, 12, 'black');
}

/** How far a progress curve is from rising monotonically (sum of its drops). */
function nonMonotonic(progress: Float64Array): number {
  let drops = 0;
  let max = 0;
  for (const p of progress) {
    if (p < max) drops = Math.max(drops, max - p);
    max = Math.max(max, p);
  }
  return drops;
}

/** The largest residual a fit may have between endpoints of this luma layout correlation. */
export function residualBound(correlation: number, options: GradualOptions = DEFAULT_GRADUAL): number {
  const unrelated = Math.max(0, Math.min(1, (options.unrelatedCorrelation - correlation) / options.unrelatedCorrelation));
  return options.maxResidual + options.movingResidual * unrelated;
}

/** Verify the candidate window (i - k, i + k) with the model fit; null when no transition fits. */
function verify(series: FeatureSeries, i: number, k: number, options: GradualOptions): Omit<GradualFit, 'ratio' | 'jump'> | null {
  const a = i - k;
  const b = i + k;
  const correlation = lumaCorrelation(series.grid, a, b);
  if (correlation > options.maxStructureCorrelation) return null;
  const maxResidual = residualBound(correlation, options);
  // A flat black or white endpoint makes this a fade (or an exposure blow-out): the fade detector owns those.
  if (isFlatField(series, a) || isFlatField(series, b)) return null;
  let fit = fitTransition(series, a, b);
  let [fa, fb] = [a, b];
  if (fit.residual > maxResidual && fit.changed >= options.minChangedFraction) {
    // The window may reach past a short transition into a moving shot: fit again on the span it found.
    const [ta, tb] = tightWindow(fit.progress, a);
    if (tb - ta >= 3 && (ta > a || tb < b) && !isFlatField(series, ta) && !isFlatField(series, tb)) {
      const tight = fitTransition(series, ta, tb);
      if (tight.residual < fit.residual) [fit, fa, fb] = [tight, ta, tb];
    }
  }
  if (fit.changed < options.minChangedFraction || fit.residual > maxResidual) return null;
  if (nonMonotonic(fit.progress) > 0.35) return null;
  // The span: where progress leaves 0 and reaches 1; the boundary where it crosses one half.
  let start = fa + 1;
  let end = fb - 1;
  let frame = i;
  for (let q = 0; q < fit.progress.length; q++) if (fit.progress[q]! <= 0.08) start = fa + 2 + q;
  for (let q = fit.progress.length - 1; q >= 0; q--) if (fit.progress[q]! >= 0.92) end = fa + q;
  for (let q = 0; q < fit.progress.length; q++) {
    if (fit.progress[q]! >= 0.5) {
      frame = fa + 1 + q;
      break;
    }
  }
  start = Math.min(start, frame);
  end = Math.max(end, frame);
  // The structure must change across the span the fit found, not only across the window: a long window around
  // a quick exposure step pairs frames far apart in a moving shot, whose layouts differ, while the frames just
  // outside the step itself have the same structure.
  if (lumaCorrelation(series.grid, Math.max(a, start - 2), Math.min(b, end + 2)) > options.maxStructureCorrelation) return null;
  return { kind: fit.kind, a, b, start_frame: start, end_frame: end, frame, residual: fit.residual, bound: maxResidual };
}

/** Find gradual transitions. Pure. */
export function detectGradual(series: FeatureSeries, options: GradualOptions = DEFAULT_GRADUAL): { fits: GradualFit[]; score: Float64Array } {
  const n = series.count;
  const score = new Float64Array(n);
  const scales = [...new Set([0.1, 0.16, 0.24, 0.34, 0.46, 0.6, 0.8, 1.05, 1.3].map((s) => framesIn(series, s)))].filter((k) => k >= 2);
  // First pass: the ratio of every frame at every scale, and its best over the scales (the score track).
  const ratios = scales.map(() => new Float64Array(n));
  const jumps = scales.map(() => new Float64Array(n));
  const bestScale = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let top = 0;
    scales.forEach((k, si) => {
      if (i - 2 * k < 0 || i + 2 * k >= n) return;
      const jump = gridDistance(series, i - k, i + k);
      if (jump < options.minJump) return;
      // Steadiness is motion-compensated (up to one grid cell): a pan on either side is no change of picture.
      const steady = Math.max(shiftedGridDistance(series, i - 2 * k, i - k), shiftedGridDistance(series, i + k, i + 2 * k));
      const ratio = jump / (steady + 2);
      ratios[si]![i] = ratio;
      jumps[si]![i] = jump;
      if (ratio > top) {
        top = ratio;
        bestScale[i] = si;
      }
    });
    score[i] = top;
  }
  // Local maxima of each scale's ratio above the bound, each verified by the model fit. Peaks are taken per scale,
  // not over the best scale only: a long window that straddles two transitions (a fade out and a fade in through
  // a colour) can out-score the short window of one of them and then fail the fit, and must not hide it.
  const verified: GradualFit[] = [];
  scales.forEach((k, si) => {
    const rs = ratios[si]!;
    for (let i = 0; i < n; i++) {
      const r = rs[i]!;
      if (r < options.minRatio) continue;
      let isMax = true;
      for (let j = Math.max(0, i - k); j <= Math.min(n - 1, i + k); j++) {
        if (j !== i && (rs[j]! > r || (rs[j]! === r && j < i))) {
          isMax = false;
          break;
        }
      }
      if (!isMax) continue;
      const fit = verify(series, i, k, options);
      if (fit !== null) verified.push({ ...fit, ratio: r, jump: jumps[si]![i]! });
    }
  });
  // Fits whose windows overlap describe one transition: keep the strongest (highest ratio).
  verified.sort((x, y) => y.ratio - x.ratio || x.frame - y.frame);
  const fits: GradualFit[] = [];
  for (const f of verified) {
    if (fits.some((g) => f.a < g.b && f.b > g.a)) continue;
    fits.push(f);
  }
  fits.sort((x, y) => x.frame - y.frame);
  return { fits, score };
}

/** Gradual fits as boundary candidates. */
export function gradualCandidates(fits: readonly GradualFit[], name: string, minRatio: number): Candidate[] {
  return fits.map((f) => ({
    frame: f.frame,
    kind: f.kind,
    start_frame: f.start_frame,
    end_frame: f.end_frame,
    confidence: Math.round(Math.min(1, 0.5 + 0.25 * Math.log2(f.ratio / minRatio) + 0.25 * (1 - f.residual / f.bound)) * 1000) / 1000,
    detector: name,
  }));
}
