/**
 * Fade detector (PySceneDetect's ThresholdDetector, extended to white). A run of frames whose mean RGB
 * intensity is below `threshold` (black) is a fade through black; the new scene starts at the middle of the
 * run, as PySceneDetect places it. The transition span runs from where the picture starts dimming to where it
 * is fully back. A run at the very start or the very end of the video is an opening or closing fade, not a
 * boundary.
 *
 * White is stricter, because flashes, white-outs and over-exposure also give white frames: a run above
 * 255 - 2 * threshold with a flat picture counts only when real picture content (not a flat field) stands on at
 * least one side and the pictures on the two sides differ (a flash returns to the same picture).
 */
import { confidence } from './confidence.js';
import type { Candidate, Detector, DetectorOutput } from './detector.js';
import { GRID_H, GRID_SIZE, GRID_W } from '../features/types.js';
import { framesIn, gridDistance, scalar, scalarTrack, type FeatureSeries } from './series.js';

/** A maximal run of dark or white frames, inclusive. */
export interface FadeRun {
  kind: 'black' | 'white';
  first: number;
  last: number;
  /** Extent of the fade ramps around the run, inclusive. */
  start_frame: number;
  end_frame: number;
  /** Darkest (or brightest) mean intensity inside the run. */
  extreme: number;
}

/** A change of mean intensity between two frames larger than this is a jump unless the change goes on. */
const MAX_RAMP_STEP = 24;
/** Smaller changes are noise, not a ramp. */
const MIN_RAMP_STEP = 0.3;

/** Largest luma standard deviation of a white frame. */
const WHITE_STD = 5;

/** Minimum picture contrast (luma standard deviation) for "real content" around a white fade. */
const CONTENT_STD = 10;

/** Most grid cells an overlay that stays through a fade (a ticker, a channel logo, a subtitle line) may cover. */
const OVERLAY_CELLS = Math.floor(GRID_SIZE / 3 / 4);

/**
 * Whether frame i is black (or white) apart from overlays: at most a quarter of the grid cells are overlay (for
 * black, luma at least twice the threshold; for white, under 255 minus twice the threshold) and the other cells
 * average within three quarters of the threshold of black (or white). A fade under a news ticker or a logo never
 * gets the whole frame's mean past the threshold, nor its standard deviation down to a flat field's.
 */
export function fieldUnderOverlays(series: FeatureSeries, i: number, threshold: number, kind: 'black' | 'white'): boolean {
  const g = series.grid;
  let overlay = 0;
  let sum = 0;
  let count = 0;
  for (let v = i * GRID_SIZE; v < (i + 1) * GRID_SIZE; v += 3) {
    const y = kind === 'black' ? g[v]! : 255 - g[v]!;
    if (y >= 2 * threshold) overlay++;
    else {
      sum += y;
      count++;
    }
  }
  if (overlay > OVERLAY_CELLS || count === 0 || sum / count >= 0.75 * threshold) return false;
  // The frame's own mean must agree: at most a quarter of it bright.
  const mean = scalar(series, i, 'mean_rgb');
  const bound = 0.25 * 255 + threshold;
  return kind === 'black' ? mean <= bound : mean >= 255 - bound;
}

/**
 * Whether grid cell `cell` lies where broadcast overlays sit: the top two rows (logos, bugs), the lower third
 * (tickers, subtitles, lower-third captions) or the three outer columns on either side (corner logos).
 */
function inOverlayBand(cell: number): boolean {
  const x = cell % GRID_W;
  const y = Math.floor(cell / GRID_W);
  return y < 2 || y >= GRID_H - 3 || x < 3 || x >= GRID_W - 3;
}

/**
 * Whether the overlay cells of frame i (see {@link fieldUnderOverlays}) sit where broadcast overlays do and kept
 * their level from the pictures on either side of the fade (`before`, `after`): overlays that stay through it, not
 * picture that remains (a star field has its bright points all over the frame).
 */
function overlaysStay(series: FeatureSeries, i: number, before: number, after: number, threshold: number, kind: 'black' | 'white'): boolean {
  const g = series.grid;
  const level = (f: number, c: number): number => (kind === 'black' ? g[f * GRID_SIZE + c]! : 255 - g[f * GRID_SIZE + c]!);
  let overlay = 0;
  let sum = 0;
  let sumBefore = 0;
  let sumAfter = 0;
  for (let c = 0; c < GRID_SIZE; c += 3) {
    const y = level(i, c);
    if (y < 2 * threshold) continue;
    if (!inOverlayBand(c / 3)) return false;
    overlay++;
    sum += y;
    sumBefore += level(before, c);
    sumAfter += level(after, c);
  }
  // The picture went (nearly) black; the overlay cells kept at least half their level on one side at least (a
  // ticker's text scrolls and its bar may be translucent, so they change somewhat).
  return overlay > 0 && sum >= 0.5 * Math.min(sumBefore, sumAfter);
}

/** Find the runs of black and white frames with their ramps. */
export function findFadeRuns(series: FeatureSeries, threshold: number): FadeRun[] {
  const mean = scalarTrack(series, 'mean_rgb');
  const std = scalarTrack(series, 'std_luma');
  const maxRamp = framesIn(series, 3);
  const runs: FadeRun[] = [];
  const isBlack = (i: number): boolean => mean[i]! < threshold || fieldUnderOverlays(series, i, threshold, 'black');
  // White is judged by flatness as much as brightness: a fade to white often peaks a little below full white.
  const isWhite = (i: number): boolean => mean[i]! > 255 - 2 * threshold && std[i]! < WHITE_STD;
  // A flash through white under a ticker or a logo: white apart from overlays, only as short as a flash (a longer
  // white picture with things on it is a white card, a scene of its own), and only where no flat white run is.
  const flash = framesIn(series, 0.5);
  const isOverlaidWhite = (i: number): boolean => !isWhite(i) && fieldUnderOverlays(series, i, threshold, 'white');
  for (const [kind, test, overlaid] of [['black', isBlack, false], ['white', isWhite, false], ['white', isOverlaidWhite, true]] as const) {
    let i = 0;
    while (i < series.count) {
      if (!test(i)) {
        i++;
        continue;
      }
      const first = i;
      let extreme = mean[i]!;
      while (i + 1 < series.count && test(i + 1)) {
        i++;
        extreme = kind === 'black' ? Math.min(extreme, mean[i]!) : Math.max(extreme, mean[i]!);
      }
      const last = i;
      // Ramps: intensity moving towards the run. A large step belongs to the ramp only when the change goes on
      // next to it: towards the run, or away from it for two more steps (a fast fade: big steps in a row); a
      // jump between steady pictures, or a cut followed by one frame of settling, is a cut into or out of it.
      const toward = (a: number, b: number): number => (kind === 'black' ? mean[a]! - mean[b]! : mean[b]! - mean[a]!);
      const rampStep = (step: number, inward: number, outward: number): boolean => step > MIN_RAMP_STEP && (step < MAX_RAMP_STEP || inward >= step / 3 || outward >= step / 3);
      let start = first;
      while (start > 0 && first - start < maxRamp && rampStep(toward(start - 1, start), start + 1 < series.count ? toward(start, start + 1) : 0, start > 2 ? Math.min(toward(start - 2, start - 1), toward(start - 3, start - 2)) : 0)) start--;
      let end = last;
      while (end + 1 < series.count && end - last < maxRamp && rampStep(toward(end + 1, end), end > 0 ? toward(end, end - 1) : 0, end + 3 < series.count ? Math.min(toward(end + 2, end + 1), toward(end + 3, end + 2)) : 0)) end++;
      const clash = overlaid && (last + 1 - first > flash || runs.some((r) => r.kind === 'white' && r.first <= last + 1 && r.last >= first - 1));
      if (!clash) runs.push({ kind, first, last, start_frame: start, end_frame: end, extreme });
      i++;
    }
  }
  return runs.sort((a, b) => a.first - b.first);
}

/** The boundary a fade run gives, or null for opening/closing fades and white runs that are not fades. */
export function fadeCandidate(series: FeatureSeries, run: FadeRun, threshold: number, name = 'fade'): Candidate | null {
  if (run.first === 0 || run.last === series.count - 1) return null;
  if (run.kind === 'black') {
    // A fade to black leaves no picture: a dark frame that keeps its contrast (a ship passing in front of a star
    // field, a night shot) is a dark shot, not a fade.
    // Overlays that stay through the fade (a ticker, a logo) are no picture content.
    let flattest = Infinity;
    for (let i = run.first; i <= run.last; i++) flattest = Math.min(flattest, scalar(series, i, 'std_luma'));
    const before = Math.max(0, run.start_frame - 1);
    const after = Math.min(series.count - 1, run.end_frame + 1);
    let overlaid = false;
    for (let i = run.first; i <= run.last && !overlaid; i++) overlaid = fieldUnderOverlays(series, i, threshold, 'black') && overlaysStay(series, i, before, after, threshold, 'black');
    if (flattest >= CONTENT_STD && !overlaid) return null;
  }
  if (run.kind === 'white') {
    const before = run.start_frame - 1;
    const after = run.end_frame + 1;
    if (before < 0 || after >= series.count) return null;
    if (Math.max(scalar(series, before, 'std_luma'), scalar(series, after, 'std_luma')) < CONTENT_STD) return null;
    if (gridDistance(series, before, after) < 12) return null;
  }
  // The middle of the run, as PySceneDetect places it; after a long hold (over half a second, or an exposure
  // blow-out running into the transition) the new scene starts where the picture comes back.
  const long = run.last + 1 - run.first > framesIn(series, 0.5);
  const frame = long ? run.last + 1 : run.first + Math.floor((run.last + 1 - run.first) / 2);
  const depth = run.kind === 'black' ? threshold - run.extreme : run.extreme - (255 - threshold);
  return {
    frame,
    kind: 'fade',
    start_frame: run.start_frame,
    end_frame: run.end_frame,
    confidence: confidence(threshold + Math.max(0, depth), threshold),
    detector: name,
  };
}

/** Create a fade detector (threshold on mean RGB intensity, default 12). */
export function createFadeDetector(options: { threshold?: number } = {}): Detector {
  const threshold = options.threshold ?? 12;
  return {
    name: 'fade',
    threshold,
    detect(series: FeatureSeries): DetectorOutput {
      const candidates: Candidate[] = [];
      for (const run of findFadeRuns(series, threshold)) {
        const c = fadeCandidate(series, run, threshold);
        if (c !== null) candidates.push(c);
      }
      return { candidates, scores: [{ name: 'mean_rgb', values: scalarTrack(series, 'mean_rgb'), threshold }] };
    },
  };
}
