/**
 * Boundary confidence, 0..1: how far a detector's score cleared its threshold. A score exactly at the threshold
 * maps to 0.5, twice the threshold to 0.975, and scores below the threshold (kept only by a second rule, such
 * as the adaptive ratio) map linearly below 0.5. Documented in docs/confidence.md.
 */
export function confidence(score: number, threshold: number): number {
  if (!(threshold > 0) || !Number.isFinite(score)) return 0;
  const r = score / threshold;
  const c = r >= 1 ? 1 - 0.5 * Math.exp(-3 * (r - 1)) : 0.5 * Math.max(0, r);
  return Math.round(c * 1000) / 1000;
}
