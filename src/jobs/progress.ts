/**
 * progress_percent and estimated_completion_time of a running job.
 *
 * Progress: each step owns a share of 0..100 proportional to its cost. The cost is the mean measured
 * milliseconds per second of video of that step on recent completed jobs when every step has been measured,
 * else the pipeline's static weights. Shares are fixed when the job is claimed, and the reported value never
 * goes down (a step that reports a smaller fraction than before is ignored), so progress rises monotonically.
 *
 * ETA: from the rate observed since this claim started once it has moved by at least 1 %, before that from
 * the measured speed (seconds of video per second) times the video length, else unknown (null).
 */
import type { SpeedStats } from '../store/types.js';
import type { PipelineStep } from './pipeline.js';

/** Progress bookkeeping of one job run. */
export class ProgressTracker {
  readonly #shares: number[];
  readonly #starts: number[];
  #percent: number;
  #step = 0;
  readonly #claimedAt: number;
  readonly #percentAtClaim: number;
  #videoSeconds: number | null;
  readonly #speed: number | null;

  /**
   * @param steps the steps this job runs
   * @param speed measured speeds (null: use static weights and no speed-based ETA)
   * @param initialPercent the job's stored progress (kept when it is higher)
   */
  constructor(steps: readonly PipelineStep[], speed: SpeedStats | null, initialPercent: number, videoSeconds: number | null, now: number) {
    const measured = steps.map((s) => speed?.stepMsPerVideoSecond[s.name]);
    const useMeasured = measured.every((v) => v !== undefined && v > 0);
    const raw = steps.map((s, i) => (useMeasured ? measured[i]! : Math.max(0, s.weight)));
    const total = raw.reduce((a, b) => a + b, 0) || 1;
    this.#shares = raw.map((w) => (100 * w) / total);
    this.#starts = [];
    let acc = 0;
    for (const share of this.#shares) {
      this.#starts.push(acc);
      acc += share;
    }
    this.#percent = Math.max(0, Math.min(100, initialPercent));
    this.#claimedAt = now;
    this.#percentAtClaim = this.#percent;
    this.#videoSeconds = videoSeconds;
    this.#speed = speed?.videoSecondsPerSecond ?? null;
  }

  /** Share of each step, in percent. */
  get shares(): readonly number[] {
    return this.#shares;
  }

  /** The current (monotonic) percent. */
  get percent(): number {
    return this.#percent;
  }

  /** Set the video length once it is known (after probe). */
  setVideoSeconds(seconds: number | null): void {
    if (seconds !== null && seconds > 0) this.#videoSeconds = seconds;
  }

  /** A step starts: progress is at least the sum of the earlier shares. */
  enterStep(index: number): number {
    this.#step = index;
    return this.#raise(this.#starts[index] ?? 0);
  }

  /** Progress within the current step (fraction 0..1). */
  update(fraction: number): number {
    const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
    return this.#raise((this.#starts[this.#step] ?? 0) + (this.#shares[this.#step] ?? 0) * f);
  }

  /** A step finished. */
  finishStep(index: number): number {
    return this.#raise((this.#starts[index] ?? 0) + (this.#shares[index] ?? 0));
  }

  #raise(value: number): number {
    if (value > this.#percent) this.#percent = Math.min(100, value);
    return this.#percent;
  }

  /** Estimated completion time (epoch ms) or null. */
  eta(now: number): number | null {
    const moved = this.#percent - this.#percentAtClaim;
    const elapsed = now - this.#claimedAt;
    if (moved >= 1 && elapsed >= 250) {
      return Math.round(now + (elapsed * (100 - this.#percent)) / moved);
    }
    if (this.#speed !== null && this.#speed > 0 && this.#videoSeconds !== null) {
      const totalMs = (this.#videoSeconds / this.#speed) * 1000;
      return Math.round(now + totalMs * (1 - this.#percent / 100));
    }
    return null;
  }
}
