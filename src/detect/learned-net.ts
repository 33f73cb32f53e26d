/**
 * The learned gradual model's forward pass in TypeScript: the TypeScript twin of models/gradual/gradual-v1.onnx
 * (training/gradual/train.py, `GradualNet`), so the pure detection core runs the model synchronously with no
 * optional package. test/detect-learned.test.ts holds it equal to onnxruntime-node's output (within 1e-5) when
 * onnxruntime-node is installed.
 *
 * The network: the input (channel-major, {@link LEARNED_CHANNELS} x frames) normalised with the training set's
 * mean and deviation, four 1D convolutions over time (widths 5, 5, 5, 3; dilations 1, 2, 4, 8; "same" zero
 * padding; ReLU; the last three added to their input), a 1x1 convolution to the 5 classes and a softmax per
 * frame. About 21k multiply-adds a frame. Sums run in double precision and activations are stored as float32,
 * as onnxruntime stores them; the two differ only in the order of the sums (about 1e-7).
 *
 * Zero padding happens at the ends of the frames given: {@link learnedProbabilities} reads
 * {@link LEARNED_RECEPTIVE_HALF} frames of input beyond the frames it returns (where the series has them), so a
 * frame's probabilities do not depend on which window of the series it was computed in.
 */
import { LEARNED_CHANNELS, learnedInput } from './learned-features.js';
import { LEARNED_WEIGHTS_BASE64, LEARNED_WEIGHTS_MANIFEST, LEARNED_WEIGHTS_SHA256 } from './learned-weights.js';
import type { FeatureSeries } from './series.js';

export { LEARNED_WEIGHTS_SHA256 };

/** Classes the model scores per frame (none, dissolve, wipe, fade, cut). */
export const LEARNED_CLASS_COUNT = 5;

interface Conv {
  weight: Float32Array;
  bias: Float32Array;
  inputs: number;
  outputs: number;
  kernel: number;
  dilation: number;
  padding: number;
}

/** The decoded weights. */
export interface LearnedNet {
  mean: Float32Array;
  std: Float32Array;
  /** The four temporal convolutions, then the 1x1 output convolution. */
  convs: readonly Conv[];
}

/** Frames of context either side of a frame that the network reads (its receptive half-width: 22). */
export const LEARNED_RECEPTIVE_HALF = LEARNED_WEIGHTS_MANIFEST.convs.reduce((s, c) => s + c.padding, 0);

let decoded: LearnedNet | undefined;

/** The committed weights (decoded once from learned-weights.ts). */
export function learnedNet(): LearnedNet {
  if (decoded !== undefined) return decoded;
  const bytes = Buffer.from(LEARNED_WEIGHTS_BASE64, 'base64');
  const all = new Float32Array(bytes.length / 4);
  for (let i = 0; i < all.length; i++) all[i] = bytes.readFloatLE(i * 4);
  const tensor = (name: string): { data: Float32Array; shape: readonly number[] } => {
    const t = LEARNED_WEIGHTS_MANIFEST.tensors.find((x) => x.name === name)!;
    return { data: all.subarray(t.offset, t.offset + t.length), shape: t.shape };
  };
  const convs = LEARNED_WEIGHTS_MANIFEST.convs.map((c): Conv => {
    const w = tensor(c.weight);
    return { weight: w.data, bias: tensor(c.bias).data, outputs: w.shape[0]!, inputs: w.shape[1]!, kernel: w.shape[2]!, dilation: c.dilation, padding: c.padding };
  });
  decoded = { mean: tensor('mean').data, std: tensor('std').data, convs };
  return decoded;
}

/** One convolution over `len` frames (channel-major in and out), zero padding outside [0, len). */
function conv(c: Conv, x: Float32Array, len: number, relu: boolean, residual: Float32Array | null): Float32Array {
  const out = new Float32Array(c.outputs * len);
  const acc = new Float64Array(len);
  for (let o = 0; o < c.outputs; o++) {
    acc.fill(c.bias[o]!);
    for (let i = 0; i < c.inputs; i++) {
      const xo = i * len;
      for (let k = 0; k < c.kernel; k++) {
        const w = c.weight[(o * c.inputs + i) * c.kernel + k]!;
        const s = k * c.dilation - c.padding;
        const t0 = Math.max(0, -s);
        const t1 = Math.min(len, len - s);
        for (let t = t0; t < t1; t++) acc[t] = acc[t]! + w * x[xo + t + s]!;
      }
    }
    const oo = o * len;
    for (let t = 0; t < len; t++) {
      let v = Math.fround(acc[t]!);
      if (relu && v < 0) v = 0;
      out[oo + t] = residual === null ? v : v + residual[oo + t]!;
    }
  }
  return out;
}

/**
 * The network's output for an input of `len` frames (channel-major, as the ONNX model takes it): class
 * probabilities, channel-major (`[5][len]`, as the ONNX model gives them).
 */
export function learnedForward(input: Float32Array, len: number, net: LearnedNet = learnedNet()): Float32Array {
  const c = LEARNED_CHANNELS;
  const x = new Float32Array(c * len);
  for (let ch = 0; ch < c; ch++) {
    const m = net.mean[ch]!;
    const s = net.std[ch]!;
    for (let t = 0; t < len; t++) x[ch * len + t] = Math.fround(Math.fround(input[ch * len + t]! - m) / s);
  }
  const [c1, c2, c3, c4, head] = net.convs as [Conv, Conv, Conv, Conv, Conv];
  const h1 = conv(c1, x, len, true, null);
  const h2 = conv(c2, h1, len, true, h1);
  const h3 = conv(c3, h2, len, true, h2);
  const h4 = conv(c4, h3, len, true, h3);
  const logits = conv(head, h4, len, false, null);
  const k = LEARNED_CLASS_COUNT;
  const probs = new Float32Array(k * len);
  for (let t = 0; t < len; t++) {
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, logits[j * len + t]!);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(logits[j * len + t]! - max);
    for (let j = 0; j < k; j++) probs[j * len + t] = Math.exp(logits[j * len + t]! - max) / sum;
  }
  return probs;
}

/**
 * The model's class probabilities for frames [from, to) of a series, frame-major (`[(i - from) * 5 + class]`),
 * the same whatever window of a longer series they are computed in (see the header).
 */
export function learnedProbabilities(series: FeatureSeries, from = 0, to = series.count): Float32Array {
  const lo = Math.max(0, from - LEARNED_RECEPTIVE_HALF);
  const hi = Math.min(series.count, to + LEARNED_RECEPTIVE_HALF);
  const len = Math.max(0, hi - lo);
  const k = LEARNED_CLASS_COUNT;
  const out = new Float32Array(Math.max(0, to - from) * k);
  if (len === 0) return out;
  const probs = learnedForward(learnedInput(series, lo, hi), len);
  for (let f = from; f < to; f++) for (let j = 0; j < k; j++) out[(f - from) * k + j] = probs[j * len + (f - lo)]!;
  return out;
}
