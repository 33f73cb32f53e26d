/**
 * Synthesised footage for the learned-model tests: textured pictures that move, mixed frame by frame, with
 * features from the TypeScript kernel.
 */
import { Prng } from '../../src/bench/prng.js';
import { allocBatch, computeFeaturesTS } from '../../src/features/kernel.js';
import { seriesFromBatches, type FeatureSeries } from '../../src/detect/series.js';

const W = 96;
const H = 54;

/** A textured picture: a few soft coloured blobs and stripes, different for each seed, seen at offset (dx, dy). */
export function picture(seed: number): (x: number, y: number) => [number, number, number] {
  const rng = new Prng(seed);
  const blobs = Array.from({ length: 7 }, () => ({ x: rng.range(0, 200), y: rng.range(0, 120), r: rng.range(10, 30), c: [rng.range(0, 255), rng.range(0, 255), rng.range(0, 255)] }));
  const base = [rng.range(30, 200), rng.range(30, 200), rng.range(30, 200)];
  const freq = rng.range(0.05, 0.15);
  return (x, y) => {
    const px = [base[0]! + 30 * Math.sin(x * freq), base[1]! + 30 * Math.sin(y * freq), base[2]!];
    for (const b of blobs) {
      const d = Math.hypot(((((x - b.x) % 200) + 300) % 200) - 100, y - b.y);
      const a = Math.exp(-(d * d) / (2 * b.r * b.r));
      for (let c = 0; c < 3; c++) px[c] = px[c]! * (1 - a) + b.c[c]! * a;
    }
    return [px[0]!, px[1]!, px[2]!];
  };
}

/** Frames of a clip: frame f is the mix (1 - t(f)) A(f) + t(f) B(f), with A and B moving at their own speeds. */
export function clip(frames: number, mixAt: (f: number) => number, a: { seed: number; vx: number; vy: number }, b: { seed: number; vx: number; vy: number }): FeatureSeries {
  const pa = picture(a.seed);
  const pb = picture(b.seed);
  const noise = new Prng(99);
  const data = new Uint8Array(frames * W * H * 3);
  for (let f = 0; f < frames; f++) {
    const t = mixAt(f);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const ca = t < 1 ? pa(x + a.vx * f, y + a.vy * f) : [0, 0, 0];
        const cb = t > 0 ? pb(x + b.vx * f, y + b.vy * f) : [0, 0, 0];
        const o = ((f * H + y) * W + x) * 3;
        for (let c = 0; c < 3; c++) data[o + c] = Math.max(0, Math.min(255, Math.round((1 - t) * ca[c]! + t * cb[c]! + noise.range(-3, 3))));
      }
    }
  }
  const batch = allocBatch(frames);
  computeFeaturesTS(data, W, H, frames, false, batch.scalars, batch.hist, batch.hash, batch.grid);
  return seriesFromBatches([batch], Float64Array.from({ length: frames }, (_, i) => i / 25), 25);
}

/** A mix that ramps from 0 to 1 over `length` frames from `start`. */
export const ramp = (start: number, length: number) => (f: number): number => Math.max(0, Math.min(1, (f - start + 1) / (length + 1)));
