/**
 * ImageNet labels and the scene embedding from MobileNetV2 (int8, with the extra `embedding` output) on
 * onnxruntime-node.
 *
 * Pre-processing as the ONNX Model Zoo states: the shorter side is resized to 256 (aspect kept), the centre
 * 224 x 224 is cropped, and RGB/255 is normalised with mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225).
 * `output` holds 1000 logits (softmax gives probabilities); `embedding` the 1280 pooled features before the
 * classifier. For a scene, probabilities are averaged over its sampled frames, and the embeddings are averaged
 * and L2-normalised.
 */
import type { OnnxSession } from './onnx.js';
import { loadSharp, toPlanar } from './runtime.js';
import type { RgbImage } from './types.js';

const MEAN = [0.485, 0.456, 0.406] as const;
const STD = [0.229, 0.224, 0.225] as const;
/** Network input side. */
export const MOBILENET_SIZE = 224;

/** One frame through MobileNetV2. */
export interface ClassifierOutput {
  /** 1000 softmax probabilities. */
  probabilities: Float32Array;
  /** 1280 pooled features (not normalised), or null when the model has no `embedding` output. */
  embedding: Float32Array | null;
}

/** A label and its probability. */
export interface Label {
  label: string;
  probability: number;
}

/** Softmax of logits (numerically stable). */
export function softmax(logits: ArrayLike<number>): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp(logits[i]! - max);
    sum += out[i]!;
  }
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / sum;
  return out;
}

/** L2-normalise in place (a zero vector stays zero). Returns the vector. */
export function l2normalise(vector: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i]! * vector[i]!;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i] = vector[i]! / norm;
  return vector;
}

/** Cosine similarity of two vectors of the same length. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** The [1, 3, 224, 224] input: resize the shorter side to 256, centre crop 224, normalise. */
export async function mobilenetInput(frame: RgbImage): Promise<Float32Array> {
  const sharp = await loadSharp();
  const scale = 256 / Math.min(frame.width, frame.height);
  const w = Math.max(MOBILENET_SIZE, Math.round(frame.width * scale));
  const h = Math.max(MOBILENET_SIZE, Math.round(frame.height * scale));
  const { data } = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .resize(w, h, { fit: 'fill', kernel: 'linear' })
    .extract({ left: Math.floor((w - MOBILENET_SIZE) / 2), top: Math.floor((h - MOBILENET_SIZE) / 2), width: MOBILENET_SIZE, height: MOBILENET_SIZE })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const image: RgbImage = { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: MOBILENET_SIZE, height: MOBILENET_SIZE, channels: 3 };
  return toPlanar(image, { scale: 1 / 255, mean: MEAN, std: STD });
}

/** Run MobileNetV2 on one frame. */
export async function classify(session: OnnxSession, frame: RgbImage): Promise<ClassifierOutput> {
  const input = await mobilenetInput(frame);
  const outputs = await session.run({ [session.inputNames[0]!]: { data: input, dims: [1, 3, MOBILENET_SIZE, MOBILENET_SIZE] } });
  const logits = outputs.output ?? outputs[session.outputNames[0]!]!;
  const embedding = outputs.embedding;
  return { probabilities: softmax(logits.data), embedding: embedding === undefined ? null : new Float32Array(embedding.data) };
}

/** Average probabilities over frames and return the labels at or above `threshold`, best first (at most `top`). */
export function topLabels(perFrame: readonly Float32Array[], names: readonly string[], threshold: number, top = 3): Label[] {
  if (perFrame.length === 0) return [];
  const mean = new Float32Array(perFrame[0]!.length);
  for (const p of perFrame) for (let i = 0; i < mean.length; i++) mean[i] = mean[i]! + p[i]! / perFrame.length;
  const labels: Label[] = [];
  for (let i = 0; i < mean.length; i++) if (mean[i]! >= threshold) labels.push({ label: names[i] ?? `class ${i}`, probability: mean[i]! });
  return labels.sort((a, b) => b.probability - a.probability).slice(0, top);
}

/** Mean of vectors, L2-normalised. */
export function meanEmbedding(vectors: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(vectors[0]?.length ?? 0);
  for (const v of vectors) for (let i = 0; i < out.length; i++) out[i] = out[i]! + v[i]!;
  return l2normalise(out);
}
