/**
 * The classical detector ("classical"; the default detector "scenescope", hybrid.ts, is this plus the learned
 * model's gradual transitions): hard cuts from the content score judged against its neighbours, plus
 * fades through black or white, with black stretches attached to the cuts that enter or leave them.
 *
 * A frame is a cut when its content score reaches `threshold` (27, PySceneDetect's scale) and stands out from
 * its neighbours (ratio >= 2), or when it stands out strongly (ratio >= 3) with a score of at least `floor`
 * (12): the second rule finds soft cuts and cuts in dark shots that a fixed threshold misses, while the ratio
 * keeps fast motion (high scores everywhere) from firing. A black run that a cut enters or leaves is part of
 * that cut's scene change, not a second boundary; a short white-out (up to 0.5 s) cut into and out of between
 * two different pictures is one fade (a flash through white); other black or white runs give fade boundaries.
 */
import { adaptiveRatios } from './adaptive.js';
import { confidence } from './confidence.js';
import { contentScores } from './content.js';
import type { Candidate, Detector, DetectorOutput } from './detector.js';
import { fadeCandidate, findFadeRuns, type FadeRun } from './fade.js';
import { DEFAULT_GRADUAL, detectGradual, gradualCandidates, lumaCorrelation } from './gradual.js';
import { chromaDistance, framesIn, gridDistance, histDistance, scalarTrack, shiftedGridDistance, type FeatureSeries } from './series.js';

/** Options of the classical detector. */
export interface CombinedOptions {
  /** Content score that makes a cut on its own (with ratio >= 2). Default 27. */
  threshold?: number;
  /** Lowest content score a strongly standing-out frame needs. Default 12. */
  floor?: number;
  /** Mean intensity below which a frame is black (above 255 - it, white). Default 12. */
  fadeThreshold?: number;
}

/**
 * A jolt of the camera inside fast motion (a whip pan, a shaken phone), not a cut: the neighbours move a lot too
 * (their mean content score, repeated frames left out, is at least half the threshold), shifting the previous
 * frame by one grid cell explains at least 40 % of the change, and the brightness histogram barely changes.
 */
function cameraJolt(series: FeatureSeries, scores: Float64Array, i: number, threshold: number): boolean {
  let sum = 0;
  let count = 0;
  // Up to two moving frames on each side: a repeated frame (frame-rate conversion) carries no motion.
  for (const step of [-1, 1]) {
    let taken = 0;
    for (let k = i + step; k >= 1 && k < series.count && Math.abs(k - i) <= 4 && taken < 2; k += step) {
      if (scores[k]! < 1) continue;
      sum += scores[k]!;
      count++;
      taken++;
    }
  }
  if (count < 3 || sum / count < 0.5 * threshold) return false;
  const raw = gridDistance(series, i - 1, i);
  return shiftedGridDistance(series, i - 1, i) < 0.6 * raw && histDistance(series, i - 1, i) < 0.2;
}

/** Create the classical detector (`name` labels its candidates; the hybrid default passes its own). */
export function createCombinedDetector(options: CombinedOptions = {}, name = 'classical'): Detector {
  const threshold = options.threshold ?? 27;
  const floor = options.floor ?? 12;
  const fadeThreshold = options.fadeThreshold ?? 12;
  return {
    name,
    threshold,
    detect(series: FeatureSeries): DetectorOutput {
      const scores = contentScores(series);
      const ratios = adaptiveRatios(scores, 2);
      // The wider window keeps the jitter of a handheld shot, calm and shaky frames in turn, from looking isolated.
      const wide = adaptiveRatios(scores, 4);
      const cuts: Candidate[] = [];
      for (let i = 1; i < series.count; i++) {
        const s = scores[i]!;
        const r = ratios[i]!;
        const strong = s >= threshold && r >= 2;
        // A weaker cut must also change the picture: its structure (a shaken frame or an exposure step keeps it)
        // or its colours (chroma: an exposure step changes brightness, not hue).
        const standsOut = s >= floor && r >= 3 && wide[i]! >= 3 && (lumaCorrelation(series.grid, i - 1, i) < 0.9 || chromaDistance(series, i - 1, i) >= 10);
        if ((strong || standsOut) && !cameraJolt(series, scores, i, threshold)) {
          const c = strong ? confidence(s, threshold) : Math.min(confidence(s, threshold), confidence(r, 3));
          cuts.push({ frame: i, kind: 'cut', start_frame: i, end_frame: i, confidence: c, detector: name });
        }
      }
      const runs = findFadeRuns(series, fadeThreshold);
      const mean = scalarTrack(series, 'mean_rgb');
      const plateau = framesIn(series, 0.25);
      const steadyBefore = (frame: number): boolean => {
        if (frame - plateau < 0) return false;
        for (let k = frame - plateau; k < frame; k++) {
          if (mean[k]! >= fadeThreshold || (k > frame - plateau && Math.abs(mean[k]! - mean[k - 1]!) > 0.5)) return false;
        }
        return true;
      };
      // In near-black frames hue and saturation are noise, and the first frames of a fast fade jump: a content
      // spike inside a fade (its ramps or its run) belongs to the fade, unless it is an abrupt entry into the
      // run or leaves a steady black plateau for a picture that is out of the dark within a quarter second (a cut
      // from black; hue noise inside a long dark shot, such as a star field, leaves the run going on).
      const insideFade = (c: Candidate, run: FadeRun): boolean =>
        c.frame >= run.start_frame &&
        c.frame <= run.end_frame &&
        !(c.frame === run.first && run.start_frame === run.first) &&
        !(run.kind === 'black' && c.frame > run.first && c.frame <= run.last && run.last - c.frame < plateau && steadyBefore(c.frame));
      const kept = cuts.filter((c) => !runs.some((run) => insideFade(c, run)));
      cuts.length = 0;
      cuts.push(...kept);
      const fades: Candidate[] = [];
      const flash = framesIn(series, 0.5);
      // A camera flash decays over a frame or two and returns to the picture it covered (flash suppression, later,
      // drops its cuts); only a white-out that leads to another picture is a transition.
      const settle = framesIn(series, 0.25);
      const returnsAfter = (run: FadeRun): boolean => {
        const before = run.start_frame - 1;
        if (before < 0) return false;
        const jump = gridDistance(series, before, run.first);
        for (let j = run.last + 1; j <= Math.min(series.count - 1, run.last + settle); j++) if (gridDistance(series, before, j) < 0.3 * jump) return true;
        return false;
      };
      for (const run of runs) {
        const touches = (c: Candidate): boolean => c.frame >= run.start_frame - 1 && c.frame <= run.end_frame + 1;
        const f = fadeCandidate(series, run, fadeThreshold, name);
        if (cuts.some(touches)) {
          // A short white-out between two different pictures (a flash through white from one shot to the next) is
          // one transition, a fade, not the cuts into and out of it; fadeCandidate has checked the two sides differ
          // (a flash that returns to the same picture is not a boundary at all).
          if (f === null || run.kind !== 'white' || run.last + 1 - run.first > flash || returnsAfter(run)) continue;
          const rest = cuts.filter((c) => !touches(c));
          cuts.length = 0;
          cuts.push(...rest);
          fades.push({ ...f, frame: run.last + 1 });
          continue;
        }
        if (f !== null) fades.push(f);
      }
      // Gradual transitions that are not already a cut or a fade.
      const { fits, score } = detectGradual(series);
      const taken = [...cuts, ...fades];
      const gradual = gradualCandidates(fits, name, DEFAULT_GRADUAL.minRatio).filter(
        (g) =>
          !taken.some((t) => t.frame >= g.start_frame - 2 && t.frame <= g.end_frame + 2) &&
          !runs.some((r) => r.first <= g.end_frame && r.last >= g.start_frame) &&
          // A fade's ramp under a ticker or logo is no exact fade to a flat field, and fits as a dissolve: it is the fade.
          !fades.some((f) => f.start_frame <= g.end_frame && f.end_frame >= g.start_frame),
      );
      return {
        candidates: [...cuts, ...fades, ...gradual].sort((a, b) => a.frame - b.frame),
        scores: [
          { name: 'content_val', values: scores, threshold },
          { name: 'adaptive_ratio', values: ratios, threshold: 3 },
          { name: 'gradual_ratio', values: score, threshold: DEFAULT_GRADUAL.minRatio },
        ],
      };
    },
  };
}
