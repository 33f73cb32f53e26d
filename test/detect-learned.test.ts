/**
 * The learned gradual model (models/gradual/gradual-v1.onnx): the committed weights are the pinned ones, and
 * run through onnxruntime-node on synthesised footage (frames drawn here, features from the TypeScript kernel)
 * it separates a dissolve between two still shots from a static shot. A steady pan is a known failure (todo). The model tests
 * skip with the reason when onnxruntime-node is not installed (it is an optional peer dependency).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { suite, test } from 'node:test';
import { createLearnedDetector, learnedGradualCandidates, type LearnedSeries } from '../src/detect/learned.js';
import { LEARNED_MODEL_SHA256, learnedModelPath, loadLearnedModel } from '../src/detect/learned-model.js';
import { LEARNED_CHANNELS, learnedInput } from '../src/detect/learned-features.js';
import { LEARNED_RECEPTIVE_HALF, LEARNED_WEIGHTS_SHA256, learnedForward, learnedProbabilities } from '../src/detect/learned-net.js';
import { LEARNED_WEIGHTS_BASE64, LEARNED_WEIGHTS_MANIFEST } from '../src/detect/learned-weights.js';
import type { FeatureSeries } from '../src/detect/series.js';
import { clip, ramp } from './helpers/moving-shots.js';
import { ScenescopeError } from '../src/errors.js';

let ortSkip: string | false = false;
try {
  await import('onnxruntime-node');
} catch (error) {
  ortSkip = `onnxruntime-node is not installed (optional peer dependency): ${(error as Error).message.split('\n')[0]}`;
}


suite('learned gradual model', () => {
  test('the committed weights are the pinned ones', () => {
    const bytes = readFileSync(learnedModelPath());
    assert.equal(createHash('sha256').update(bytes).digest('hex'), LEARNED_MODEL_SHA256);
    assert.ok(bytes.length <= 2 * 1024 * 1024, `model is ${bytes.length} bytes, over 2 MB`);
  });

  test('the TypeScript weights are the bytes exported from the committed ONNX model', () => {
    const bytes = Buffer.from(LEARNED_WEIGHTS_BASE64, 'base64');
    assert.equal(createHash('sha256').update(bytes).digest('hex'), LEARNED_WEIGHTS_SHA256);
    assert.equal(LEARNED_WEIGHTS_SHA256, '18294f4e5a1bcf8934b8d1f1aac6aa69f9dd84f2434533b3b55e0183f3340eff');
    assert.equal(LEARNED_WEIGHTS_MANIFEST.source_sha256, LEARNED_MODEL_SHA256);
    assert.deepEqual(readFileSync(learnedModelPath().replace(/\.onnx$/, '.f32')), bytes);
    assert.equal(bytes.length, LEARNED_WEIGHTS_MANIFEST.floats * 4);
    assert.equal(LEARNED_RECEPTIVE_HALF, 22);
  });

  test('TypeScript forward pass: the same probabilities in any window of a series', () => {
    const s = clip(150, ramp(60, 20), { seed: 5, vx: 0.5, vy: 0 }, { seed: 6, vx: 0, vy: 0.3 });
    const whole = learnedProbabilities(s);
    assert.equal(whole.length, s.count * 5);
    for (let i = 0; i < s.count; i++) {
      let sum = 0;
      for (let c = 0; c < 5; c++) sum += whole[i * 5 + c]!;
      assert.ok(Math.abs(sum - 1) < 1e-5, `frame ${i}: probabilities sum to ${sum}`);
    }
    for (const [a, b] of [[0, 40], [30, 100], [97, 150]] as const) {
      const part = learnedProbabilities(s, a, b);
      assert.deepEqual(part, whole.subarray(a * 5, b * 5), `window ${a}-${b}`);
    }
    // Cutting the input short (no context) does change frames near the cut: the context read is needed.
    const short = learnedForward(learnedInput(s, 30, 100), 70);
    let diff = 0;
    for (let c = 0; c < 5; c++) diff = Math.max(diff, Math.abs(short[c * 70]! - whole[30 * 5 + c]!));
    assert.ok(diff > 1e-4, `no context changes frame 30 by only ${diff}`);
  });

  test('TypeScript forward pass equals onnxruntime (parity within 1e-5)', { skip: ortSkip }, async () => {
    const model = await loadLearnedModel();
    for (const s of [
      clip(160, ramp(60, 24), { seed: 7, vx: 0.7, vy: 0 }, { seed: 8, vx: 0, vy: -0.4 }),
      clip(90, () => 0, { seed: 9, vx: 1, vy: 0 }, { seed: 9, vx: 0, vy: 0 }),
    ]) {
      const ort = await model.probabilities(s.count, (a, b) => ({ ...s, count: b - a, times: s.times.subarray(a, b), scalars: s.scalars.subarray(a * 9, b * 9), hist: s.hist.subarray(a * 64, b * 64), hash: s.hash.subarray(a * 2, b * 2), grid: s.grid.subarray(a * 432, b * 432) }));
      const ts = learnedProbabilities(s);
      let worst = 0;
      for (let i = 0; i < ort.length; i++) worst = Math.max(worst, Math.abs(ort[i]! - ts[i]!));
      assert.ok(worst <= 1e-5, `largest difference ${worst}`);
    }
  });

  test('input features: one vector per frame, finite, and a dissolve reads as a mix', () => {
    const s = clip(90, ramp(40, 20), { seed: 1, vx: 0, vy: 0 }, { seed: 2, vx: 0, vy: 0 });
    const x = learnedInput(s);
    assert.equal(x.length, LEARNED_CHANNELS * s.count);
    assert.ok(x.every(Number.isFinite));
    // Scale k = 8 (index 4): the straddle (channel 20) is large in the middle of the dissolve and only noise inside
    // a still shot; the frame fits the mix of its two sides (dissolve residual, channel 21) at progress ~0.5 (22).
    const at = (ch: number, i: number): number => x[ch * s.count + i]!;
    assert.ok(at(20, 50) > 5 * at(20, 15), `straddle ${at(20, 50)} in the dissolve vs ${at(20, 15)} in the shot`);
    assert.ok(at(21, 50) < 0.2, `dissolve residual ${at(21, 50)} in the middle of the dissolve`);
    assert.ok(Math.abs(at(22, 50) - 0.5) < 0.15, `progress ${at(22, 50)} in the middle of the dissolve`);
  });

  test('decoding: a run of frames over the threshold is one transition with its span and kind', () => {
    const probs = new Float32Array(40 * 5);
    for (let i = 0; i < 40; i++) probs[i * 5] = 1;
    for (let i = 10; i <= 19; i++) [probs[i * 5], probs[i * 5 + 2]] = [0.2, 0.8];
    probs[15 * 5 + 2] = 0.3; // a one-frame dip is bridged
    probs[15 * 5] = 0.7;
    probs[30 * 5 + 1] = 0.9; // a lone frame is not a transition
    const c = learnedGradualCandidates(probs, 40, 0.5);
    assert.equal(c.length, 1);
    assert.deepEqual([c[0]!.kind, c[0]!.start_frame, c[0]!.end_frame, c[0]!.frame], ['wipe', 10, 19, 15]);
    assert.ok(c[0]!.confidence > 0.5 && c[0]!.confidence < 1);
  });

  test('the detector refuses a series without the model output', () => {
    const s = clip(30, () => 0, { seed: 1, vx: 0, vy: 0 }, { seed: 1, vx: 0, vy: 0 });
    assert.throws(() => createLearnedDetector().detect(s), (e: unknown) => e instanceof ScenescopeError && e.code === 'MODEL_UNAVAILABLE');
  });

  test('separates a dissolve between still shots from a static shot', { skip: ortSkip }, async () => {
    const model = await loadLearnedModel();
    const run = async (s: FeatureSeries): Promise<Float32Array> => model.probabilities(s.count, (a, b) => ({ ...s, count: b - a, times: s.times.subarray(a, b), scalars: s.scalars.subarray(a * 9, b * 9), hist: s.hist.subarray(a * 64, b * 64), hash: s.hash.subarray(a * 2, b * 2), grid: s.grid.subarray(a * 432, b * 432) }));
    const gradual = (p: Float32Array, i: number): number => p[i * 5 + 1]! + p[i * 5 + 2]!;
    const dissolve = clip(120, ramp(50, 20), { seed: 1, vx: 0, vy: 0 }, { seed: 2, vx: 0, vy: 0 });
    const still = clip(120, () => 0, { seed: 3, vx: 0, vy: 0 }, { seed: 3, vx: 0, vy: 0 });
    const pd = await run(dissolve);
    let inside = 0;
    for (let i = 55; i <= 65; i++) inside += gradual(pd, i) / 11;
    assert.ok(inside >= 0.5, `mean dissolve + wipe probability ${inside.toFixed(3)} in the middle of the dissolve`);
    const ps = await run(still);
    let top = 0;
    for (let i = 0; i < still.count; i++) top = Math.max(top, gradual(ps, i));
    assert.ok(top < 0.5, `static shot: highest dissolve + wipe probability ${top.toFixed(3)}`);
    const reported = createLearnedDetector().detect({ ...still, learned: ps } as LearnedSeries).candidates;
    assert.equal(reported.length, 0, `static shot: ${JSON.stringify(reported)}`);
    const found = createLearnedDetector().detect({ ...dissolve, learned: pd } as LearnedSeries).candidates;
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.equal(found[0]!.kind, 'dissolve');
    assert.ok(found[0]!.frame >= 50 && found[0]!.frame <= 70, `boundary at ${found[0]!.frame}, dissolve 50-69`);
  });

  // Known failure, kept visible: a steady pan of smooth content shifts the 16x9 grid almost linearly, so the model
  // reads the whole pan as a dissolve, and the support gate does not stop it (see /work/notes/learned.md).
  test('stays silent on a steady pan of smooth content', { skip: ortSkip, todo: 'the v1 model reads a smooth steady pan as a dissolve' }, async () => {
    const model = await loadLearnedModel();
    const pan = clip(120, () => 0, { seed: 4, vx: 1, vy: 0 }, { seed: 4, vx: 0, vy: 0 });
    const p = await model.probabilities(pan.count, (a, b) => ({ ...pan, count: b - a, times: pan.times.subarray(a, b), scalars: pan.scalars.subarray(a * 9, b * 9), hist: pan.hist.subarray(a * 64, b * 64), hash: pan.hash.subarray(a * 2, b * 2), grid: pan.grid.subarray(a * 432, b * 432) }));
    const reported = createLearnedDetector().detect({ ...pan, learned: p } as LearnedSeries).candidates;
    assert.equal(reported.length, 0, JSON.stringify(reported));
  });
});
