/**
 * The default detector, a hybrid of the classical detector and the learned gradual model (src/detect/hybrid.ts):
 * each rule that keeps a learned run out is checked on its own, with the other rules satisfied, on synthesised
 * footage (features from the TypeScript kernel, probabilities from the TypeScript forward pass).
 */
import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import type { Candidate } from '../src/detect/detector.js';
import type { FadeRun } from '../src/detect/fade.js';
import { createCombinedDetector } from '../src/detect/combined.js';
import { createHybridDetector, hybridAdditions, MAX_RUN_SECONDS, probabilitiesNearSupport } from '../src/detect/hybrid.js';
import { detectBoundaries, resolveStandaloneDetectionOptions } from '../src/detect/index.js';
import { learnedGradualCandidates } from '../src/detect/learned.js';
import { learnedProbabilities } from '../src/detect/learned-net.js';
import { Prng } from '../src/bench/prng.js';
import { allocBatch, computeFeaturesTS } from '../src/features/kernel.js';
import { seriesFromBatches, type FeatureSeries } from '../src/detect/series.js';
import { clip, ramp } from './helpers/moving-shots.js';

/** A flat noisy field of colour `a` up to frame `at`, then `b`, with a bright caption strip from `captionAt` on. */
function flat(frames: number, at: number, a: number, b: number, captionAt: number): FeatureSeries {
  const W = 96;
  const H = 54;
  const noise = new Prng(5);
  const data = new Uint8Array(frames * W * H * 3);
  for (let f = 0; f < frames; f++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const caption = f >= captionAt && y >= 42 && y < 48 && x >= 20 && x < 76;
        const v = caption ? 240 : f < at ? a : b;
        const o = ((f * H + y) * W + x) * 3;
        for (let c = 0; c < 3; c++) data[o + c] = Math.max(0, Math.min(255, Math.round(v + noise.range(-8, 8))));
      }
    }
  }
  const batch = allocBatch(frames);
  computeFeaturesTS(data, W, H, frames, false, batch.scalars, batch.hist, batch.hash, batch.grid);
  return seriesFromBatches([batch], Float64Array.from({ length: frames }, (_, i) => i / 25), 25);
}

const FPS = 25;

/** Probabilities: "inside a dissolve" with probability p over [from, to], "none" elsewhere. */
function probsWith(count: number, from: number, to: number, p = 0.95): Float32Array {
  const probs = new Float32Array(count * 5);
  for (let i = 0; i < count; i++) {
    const inside = i >= from && i <= to;
    probs[i * 5] = inside ? 1 - p : 1;
    probs[i * 5 + 1] = inside ? p : 0;
  }
  return probs;
}

const ratioEverywhere = (count: number, value: number): Float64Array => new Float64Array(count).fill(value);
const cut = (frame: number): Candidate => ({ frame, kind: 'cut', start_frame: frame, end_frame: frame, confidence: 1, detector: 'test' });

suite('hybrid detector (default "scenescope")', () => {
  // A 0.8 s dissolve between two shots that both move (frames 60-79 of 160), as the realistic corpus has them.
  const moving = clip(160, ramp(60, 20), { seed: 11, vx: 0.6, vy: 0 }, { seed: 12, vx: 0, vy: 0.4 });
  // One shot, the same picture throughout (a static shot).
  const still = clip(160, () => 0, { seed: 13, vx: 0, vy: 0 }, { seed: 13, vx: 0, vy: 0 });
  const n = moving.count;

  test('control: a sure run between two different pictures, with straddle support, is added', () => {
    const added = hybridAdditions(moving, probsWith(n, 58, 81), [], [], ratioEverywhere(n, 3), 'scenescope');
    assert.equal(added.length, 1, JSON.stringify(added));
    assert.deepEqual([added[0]!.start_frame, added[0]!.end_frame, added[0]!.kind], [58, 81, 'dissolve']);
  });

  test('the model on real features: the dissolve between moving shots is added once, inside its span', () => {
    const probs = learnedProbabilities(moving);
    const base = createHybridDetector().detect(moving).candidates;
    assert.equal(base.length, 1, JSON.stringify(base));
    assert.ok(base[0]!.frame >= 58 && base[0]!.frame <= 81, `boundary at ${base[0]!.frame}, dissolve 60-79`);
    assert.ok(probs.length === n * 5);
  });

  test('the model run only near straddle peaks gives the probabilities of the whole series there, and the same additions', () => {
    for (const series of [moving, clip(200, ramp(120, 30), { seed: 21, vx: 0, vy: 0.5 }, { seed: 22, vx: -0.5, vy: 0 })]) {
      const ratio = createCombinedDetector().detect(series).scores.find((t) => t.name === 'gradual_ratio')!.values;
      const full = learnedProbabilities(series);
      const reach = 30;
      const near = probabilitiesNearSupport(series, ratio, reach);
      let computed = 0;
      for (let i = 0; i < series.count; i++) {
        let supported = false;
        for (let j = Math.max(0, i - reach); j <= Math.min(series.count - 1, i + reach) && !supported; j++) supported = ratio[j]! >= 1.5;
        if (!supported) continue;
        computed++;
        for (let c = 0; c < 5; c++) assert.equal(near[i * 5 + c], full[i * 5 + c], `frame ${i} class ${c}`);
      }
      assert.ok(computed > 0 && computed < series.count, `${computed} of ${series.count} frames computed`);
      const runs = (p: Float32Array): Candidate[] => hybridAdditions(series, p, [], [], ratio, 's');
      assert.deepEqual(runs(probabilitiesNearSupport(series, ratio, Math.round(MAX_RUN_SECONDS * FPS) + 10)), runs(full));
    }
  });

  test('a run that touches an already reported boundary is that transition, not a second one', () => {
    const probs = probsWith(n, 58, 81);
    const ratio = ratioEverywhere(n, 3);
    assert.equal(hybridAdditions(moving, probs, [cut(83)], [], ratio, 's').length, 0, 'a cut 2 frames after the run');
    const fit: Candidate = { frame: 70, kind: 'dissolve', start_frame: 64, end_frame: 76, confidence: 0.9, detector: 's' };
    assert.equal(hybridAdditions(moving, probs, [fit], [], ratio, 's').length, 0, 'a classical fit inside the run');
    // A cut followed a few frames later by a transition is two boundaries (issue 8, class 5).
    assert.equal(hybridAdditions(moving, probs, [cut(54)], [], ratio, 's').length, 1, 'a cut 4 frames before the run');
  });

  test('two runs a few frames apart are one transition', () => {
    const probs = probsWith(n, 58, 68);
    const second = probsWith(n, 75, 81);
    for (let i = 75; i <= 81; i++) for (let c = 0; c < 5; c++) probs[i * 5 + c] = second[i * 5 + c]!;
    const added = hybridAdditions(moving, probs, [], [], ratioEverywhere(n, 3), 's');
    assert.deepEqual(added.map((c) => [c.start_frame, c.end_frame]), [[58, 81]]);
  });

  test('a run on a black or white run\'s ramps is left to the fade logic', () => {
    const run: FadeRun = { kind: 'black', first: 85, last: 95, start_frame: 75, end_frame: 100, extreme: 2 };
    assert.equal(hybridAdditions(moving, probsWith(n, 58, 81), [], [run], ratioEverywhere(n, 3), 's').length, 0);
  });

  test('an unsure model is not enough', () => {
    assert.equal(hybridAdditions(moving, probsWith(n, 58, 81, 0.6), [], [], ratioEverywhere(n, 3), 's').length, 0);
  });

  test('no straddle support, no transition', () => {
    const ratio = ratioEverywhere(n, 3);
    ratio.fill(1.2, 50, 90);
    assert.equal(hybridAdditions(moving, probsWith(n, 58, 81), [], [], ratio, 's').length, 0);
  });

  test('the same picture either side of the run is one shot, not a transition', () => {
    assert.equal(hybridAdditions(still, probsWith(n, 58, 81), [], [], ratioEverywhere(n, 3), 's').length, 0);
  });

  test('a caption appearing over a flat field changes too little of the picture (its layout cannot say)', () => {
    const caption = flat(160, 1000, 60, 60, 80);
    const change = flat(160, 80, 60, 140, 1000);
    const probs = probsWith(160, 76, 84);
    const ratio = ratioEverywhere(160, 3);
    assert.equal(hybridAdditions(caption, probs, [], [], ratio, 's').length, 0, 'caption');
    assert.equal(hybridAdditions(change, probs, [], [], ratio, 's').length, 1, 'the whole field changes');
  });

  test(`a run longer than ${MAX_RUN_SECONDS} s is motion`, () => {
    const long = Math.round(MAX_RUN_SECONDS * FPS);
    assert.equal(hybridAdditions(moving, probsWith(n, 50, 50 + long), [], [], ratioEverywhere(n, 3), 's').length, 0);
    assert.equal(hybridAdditions(moving, probsWith(n, 50, 50 + long - 1), [], [], ratioEverywhere(n, 3), 's').length, 1);
  });

  test('a run within 0.5 s of either end of the video is not added (its inputs are clamped there)', () => {
    const ratio = ratioEverywhere(n, 3);
    assert.equal(hybridAdditions(moving, probsWith(n, n - 30, n - 12), [], [], ratio, 's').length, 0);
    assert.equal(hybridAdditions(moving, probsWith(n, 8, 30), [], [], ratio, 's').length, 0);
  });

  test('a steady pan of smooth content: the model reads it as a long dissolve, the hybrid adds nothing to the classical detector', () => {
    const pan = clip(120, () => 0, { seed: 4, vx: 1, vy: 0 }, { seed: 4, vx: 0, vy: 0 });
    const runs = learnedGradualCandidates(learnedProbabilities(pan), pan.count, 0.5);
    assert.ok(runs.some((r) => r.end_frame - r.start_frame >= 40), `learned runs ${JSON.stringify(runs)}`);
    // The classical gradual fit has false boundaries of its own on this synthetic pan (a known weakness: the
    // grid shifts almost linearly); the hybrid must not add the model's run to them.
    const classical = detectBoundaries(pan, resolveStandaloneDetectionOptions({ detector: 'classical' })).boundaries;
    const hybrid = detectBoundaries(pan, resolveStandaloneDetectionOptions({})).boundaries;
    assert.deepEqual(hybrid.map((b) => ({ ...b, detector: 'classical' })), classical);
  });

  test('a static shot gives no boundary, and the learned track is reported', () => {
    const result = detectBoundaries(still, resolveStandaloneDetectionOptions({}));
    assert.deepEqual(result.boundaries, []);
    assert.ok(result.scores.some((s) => s.name === 'learned_gradual'));
  });
});
