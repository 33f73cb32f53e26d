/**
 * Keyframe choice: which frame of a scene represents it, and which frames are sampled for OCR and the models.
 * Pure: per-frame features in, times out; no decoding.
 *
 * Algorithm. A margin is skipped at both ends of the scene (10 % of its frames, at least 2 and at most 15
 * frames, none for scenes under 6 frames) because fades, dissolves and motion blur live next to boundaries. In
 * the middle third of what remains, up to {@link KEYFRAME_CANDIDATES} candidates are spread evenly. Each is
 * scored
 *
 *     score = sharpness / max_sharpness            (0..1, the sharpest candidate scores 1)
 *           - 0.3 * |position - middle| / half_span (prefer the centre)
 *           - 0.2 * min(1, delta_lum / 32)          (prefer still frames: less motion blur)
 *           - 2   if the frame is black or flat     (mean_luma < 16, or std_luma < 3)
 *           - 2   if the frame is a flash           (mean_luma exceeds the median of its +-3 neighbours by > 40)
 *
 * and the highest score wins (ties: the earlier frame). When every candidate is rejected the least bad one
 * still wins, so a scene always has a keyframe. Samples for OCR and the models are the frames nearest to 25 %
 * and 75 % of the usable span plus the keyframe itself, with black or flash frames nudged to a neighbour. A
 * sample is dropped when nothing changed between it and the keyframe (every delta_lum in between under
 * {@link STATIC_DELTA} and their sum under {@link STATIC_SUM}): it would only repeat the keyframe, and decoding
 * and reading it again costs time.
 */
import type { EnrichFrame, EnrichSceneRef } from './types.js';

/** Candidates examined near the middle of a scene. */
export const KEYFRAME_CANDIDATES = 5;
/** mean_luma below this is black. */
export const BLACK_LUMA = 16;
/** std_luma below this is a flat (single-colour) frame. */
export const FLAT_STD = 3;
/** A frame whose mean_luma exceeds the median of its neighbours by more than this is a flash. */
export const FLASH_JUMP = 40;

/** A frame-to-frame delta_lum under this counts as no change. */
export const STATIC_DELTA = 1.5;
/** Sum of delta_lum between two frames under which they count as the same picture. */
export const STATIC_SUM = 4;

/** The chosen keyframe. */
export interface KeyframeChoice {
  /** Index into the scene's frames array (-1 when the scene had no frames). */
  index: number;
  /** Presentation time in seconds. */
  time: number;
  /** Score of the chosen candidate (see the module header). */
  score: number;
  /** Why it was chosen, for logs and tests. */
  reason: string;
}

/** True for a black or single-colour frame. */
export function isBlack(frame: EnrichFrame): boolean {
  return frame.mean_luma < BLACK_LUMA || frame.std_luma < FLAT_STD;
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** True when frame i is much brighter than the frames around it (a photographic flash, a white flash cut). */
export function isFlash(frames: readonly EnrichFrame[], i: number): boolean {
  const neighbours: number[] = [];
  for (let j = Math.max(0, i - 3); j <= Math.min(frames.length - 1, i + 3); j++) if (j !== i) neighbours.push(frames[j]!.mean_luma);
  if (neighbours.length < 2) return false;
  return frames[i]!.mean_luma - median(neighbours) > FLASH_JUMP;
}

/** The usable span of a scene: [first, last] frame indices after the margins. */
export function usableSpan(count: number): [number, number] {
  if (count <= 0) return [0, -1];
  const margin = count < 6 ? 0 : Math.min(15, Math.max(2, Math.round(count * 0.1)));
  return [margin, count - 1 - margin];
}

/**
 * Choose the representative frame of a scene from its frames' features (see the module header for the score).
 * With no frames, the middle of the scene's time range is returned with index -1.
 */
export function chooseKeyframe(frames: readonly EnrichFrame[], scene?: Pick<EnrichSceneRef, 'start_time' | 'end_time'>): KeyframeChoice {
  if (frames.length === 0) {
    const time = scene === undefined ? 0 : (scene.start_time + scene.end_time) / 2;
    return { index: -1, time, score: 0, reason: 'no frame features: middle of the scene' };
  }
  const [first, last] = usableSpan(frames.length);
  const span = last - first;
  const middle = (first + last) / 2;
  const lo = Math.round(middle - span / 6);
  const hi = Math.round(middle + span / 6);
  const candidates: number[] = [];
  const n = Math.min(KEYFRAME_CANDIDATES, hi - lo + 1);
  for (let k = 0; k < n; k++) {
    const i = n === 1 ? Math.round(middle) : Math.round(lo + ((hi - lo) * k) / (n - 1));
    if (!candidates.includes(i)) candidates.push(i);
  }
  const maxSharp = Math.max(1e-9, ...candidates.map((i) => frames[i]!.sharpness));
  const halfSpan = Math.max(1, (hi - lo) / 2);
  let best = candidates[0]!;
  let bestScore = -Infinity;
  let bestReason = '';
  for (const i of candidates) {
    const f = frames[i]!;
    let score = f.sharpness / maxSharp - (0.3 * Math.abs(i - middle)) / halfSpan - 0.2 * Math.min(1, f.delta_lum / 32);
    const notes: string[] = [];
    if (isBlack(f)) {
      score -= 2;
      notes.push('black');
    }
    if (isFlash(frames, i)) {
      score -= 2;
      notes.push('flash');
    }
    if (score > bestScore) {
      bestScore = score;
      best = i;
      bestReason = notes.length > 0 ? `least bad of ${candidates.length} candidates (${notes.join(', ')})` : `sharpest near the middle of ${candidates.length} candidates`;
    }
  }
  return { index: best, time: frames[best]!.time, score: bestScore, reason: bestReason };
}

/**
 * Times of the frames sampled for OCR and the models: the frames nearest to 25 % and 75 % of the usable span and
 * the keyframe, sorted and deduplicated. Black and flash frames are replaced by the nearest good neighbour
 * within a few frames. Scenes without frames get the keyframe time alone.
 */
export function sampleTimes(frames: readonly EnrichFrame[], keyframe: KeyframeChoice, perScene = 3, skipStatic = true): number[] {
  if (frames.length === 0 || keyframe.index < 0) return [keyframe.time];
  const [first, last] = usableSpan(frames.length);
  const picks = new Set<number>([keyframe.index]);
  if (perScene > 1) {
    const others = perScene - 1;
    for (let k = 1; k <= others; k++) {
      // Spread around the keyframe: 25 % and 75 % for the default of three samples.
      const position = others === 1 ? 0.25 : (k - 1) / (others - 1) * 0.5 + 0.25;
      let i = Math.round(first + (last - first) * position);
      const bad = (j: number): boolean => isBlack(frames[j]!) || isFlash(frames, j);
      if (bad(i)) {
        for (let d = 1; d <= 4; d++) {
          if (i + d <= last && !bad(i + d)) {
            i += d;
            break;
          }
          if (i - d >= first && !bad(i - d)) {
            i -= d;
            break;
          }
        }
      }
      picks.add(i);
    }
  }
  const changed = (a: number, b: number): boolean => {
    let sum = 0;
    for (let j = Math.min(a, b) + 1; j <= Math.max(a, b); j++) {
      const d = frames[j]!.delta_lum;
      if (d >= STATIC_DELTA) return true;
      sum += d;
    }
    return sum >= STATIC_SUM;
  };
  return [...picks]
    .filter((i) => i === keyframe.index || !skipStatic || changed(i, keyframe.index))
    .sort((a, b) => a - b)
    .map((i) => frames[i]!.time);
}
