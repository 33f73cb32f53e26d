/**
 * The per-scene `confidence_score` (0..1), defined in docs/confidence.md:
 *
 *     confidence_score = (0.5 * boundary + 0.5 * evidence) * 0.85 ^ failed_steps
 *
 * - boundary: the scene's boundary confidence (the smaller of its two boundaries' `Boundary.confidence`; 1 at
 *   the start and end of the video), clamped to 0..1.
 * - evidence: the mean of the confidences of everything the description states from a model (the people, each
 *   stated object class's best score, each stated ImageNet label's probability, the mean OCR line confidence /
 *   100; weaker candidates that only reach `tag_scores` do not count); 0.5 when no
 *   model stated anything (the description then holds only measured visual facts, which are certain but say
 *   little).
 * - failed_steps: the number of enrichment steps that failed for this scene.
 *
 * Rounded to three decimals.
 */

/** What the score is made of. */
export interface ConfidenceInput {
  boundary: number;
  /** Confidences (0..1) of each stated model finding. */
  evidence: readonly number[];
  failedSteps: number;
}

/** Neutral evidence used when no model stated anything. */
export const NEUTRAL_EVIDENCE = 0.5;

const clamp = (v: number): number => (Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0);

/** The per-scene confidence score (see the module header). */
export function sceneConfidence(input: ConfidenceInput): number {
  const boundary = clamp(input.boundary);
  const evidence = input.evidence.length === 0 ? NEUTRAL_EVIDENCE : input.evidence.reduce((s, v) => s + clamp(v), 0) / input.evidence.length;
  const score = (0.5 * boundary + 0.5 * evidence) * Math.pow(0.85, Math.max(0, input.failedSteps));
  return Math.round(clamp(score) * 1000) / 1000;
}
