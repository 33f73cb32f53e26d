/**
 * Filters shared by every detector: flash suppression and the minimum scene length. Composed after detection
 * rather than re-implemented in each detector.
 */
import type { Candidate } from './detector.js';
import { framesIn, gridDistance, type FeatureSeries } from './series.js';

/**
 * Drop cuts caused by a flash, a short white-out or anything that covers the picture for a few frames and
 * leaves it as it was: a cut at i is a flash when, within `maxSeconds` (at least 3 frames), the picture
 * returns to what it was at i-1. The cuts inside the flash (its end) are dropped too.
 */
export function suppressFlashes(series: FeatureSeries, candidates: readonly Candidate[], maxSeconds = 0.25): Candidate[] {
  const maxFrames = Math.max(3, framesIn(series, maxSeconds));
  const dropped = new Set<Candidate>();
  for (const c of candidates) {
    if (c.kind !== 'cut' || dropped.has(c) || c.frame < 1) continue;
    const before = c.frame - 1;
    const jump = gridDistance(series, before, c.frame);
    // A flash covers the picture: a change too small to see in the colour layout is not one.
    if (jump < 8) continue;
    for (let k = 1; k <= maxFrames && c.frame + k < series.count; k++) {
      const j = c.frame + k;
      if (gridDistance(series, before, j) < 0.3 * jump) {
        dropped.add(c);
        // The cuts inside the flash, and the last step of its decay: a cut shortly after that lands back on the
        // picture the flash covered (a real cut would land on another picture).
        for (const d of candidates) {
          if (d.kind !== 'cut' || d.frame <= c.frame) continue;
          if (d.frame <= j || (d.frame <= j + 2 && gridDistance(series, before, d.frame) < 0.3 * jump)) dropped.add(d);
        }
        break;
      }
    }
  }
  return candidates.filter((c) => !dropped.has(c));
}

/**
 * Enforce a minimum scene length in frames, as PySceneDetect does: candidates are taken in frame order and one
 * that falls less than `minFrames` after the last kept boundary (or after frame 0) is dropped, so a scene
 * shorter than the minimum merges into the one after it. When either boundary is a hard cut the shorter
 * `minCutFrames` applies (default `minFrames`): montages cut every 6-12 frames and a cut may come right before
 * or after a fade, while flash suppression, not the minimum, drops the cuts of a flash. A cut and a gradual
 * transition whose spans overlap (within 2 frames) are two reports of one transition: the later is dropped.
 * Predictable: the same cuts survive whatever the confidences.
 */
export function enforceMinSceneLength(candidates: readonly Candidate[], minFrames: number, minCutFrames = minFrames): Candidate[] {
  const sorted = [...candidates].sort((a, b) => a.frame - b.frame || b.confidence - a.confidence);
  const kept: Candidate[] = [];
  for (const c of sorted) {
    const last = kept[kept.length - 1];
    const nextToCut = c.kind === 'cut' || last?.kind === 'cut';
    if (nextToCut && last !== undefined && Math.min(c.start_frame, c.frame) <= Math.max(last.end_frame, last.frame) + 2) continue;
    const gap = nextToCut ? minCutFrames : minFrames;
    if (c.frame - (last?.frame ?? 0) >= gap) kept.push(c);
  }
  return kept;
}

/**
 * The minimum scene length as a detection run applies it: the default detector ("scenescope") keeps its shorter
 * minimum next to cuts (its cuts are judged against their neighbours, so they do not come in bursts); the
 * PySceneDetect-style detectors keep PySceneDetect's one minimum, which holds their bursts (fast motion over the
 * threshold for several frames) to one boundary. Shared by the one-pass and the windowed drivers.
 */
export function applyMinSceneLength(
  candidates: readonly Candidate[],
  series: Pick<FeatureSeries, 'frameRate'>,
  options: { detector: string; minSceneLen: number; minCutSceneLen: number },
): Candidate[] {
  // "learned" keeps the default detector's cuts, and so its minimum next to them.
  const minCut = options.detector === 'scenescope' || options.detector === 'classical' || options.detector === 'learned' ? options.minCutSceneLen : options.minSceneLen;
  return enforceMinSceneLength(candidates, minSceneFrames(series, options.minSceneLen), minSceneFrames(series, minCut));
}

/** Frames for a minimum scene length given in seconds. */
export function minSceneFrames(series: Pick<FeatureSeries, 'frameRate'>, seconds: number): number {
  return seconds <= 0 ? 1 : framesIn(series, seconds);
}
