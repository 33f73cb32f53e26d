/**
 * Visible text of a scene: DBNet finds text lines in each sampled frame, each line is cropped from the
 * full-resolution frame, scaled to about 48 px high in grayscale, and read by the worker pool in single-line
 * mode, trying up to three variants of the crop (see {@link cropVariants}) until one reads with confidence
 * >= 85; lines read in several frames are merged (see text.ts).
 * A crop that is nearly identical to one already read in an earlier frame of the scene (same place, mean
 * absolute pixel difference under 6) reuses that reading.
 *
 * Without the detector, tesseract reads each whole frame in automatic page mode (slower, and weaker on text
 * over busy backgrounds); the result says so through `mode`.
 */
import { throwIfAborted } from '../errors.js';
import { boxesFromProbabilityMap, DET_LIMIT_SIDE, detectorInput, joinLineBoxes, scaleBoxes, type Box } from './ocr-detect.js';
import type { OcrPool } from './ocr-pool.js';
import type { OnnxSession } from './onnx.js';
import { loadSharp } from './runtime.js';
import { cleanLine, isJunkLine, mergeLines, type MergedLine, type ReadLine } from './text.js';
import type { RgbImage } from './types.js';

/** Result of OCR on one scene. */
export interface SceneText {
  lines: MergedLine[];
  /** Lines joined by "\n", or null. */
  text: string | null;
  /** Mean confidence of the kept lines, 0..1 (0 when none). */
  confidence: number;
  mode: 'detector' | 'full-frame';
  /** Milliseconds in the detector and in recognition. */
  detMs: number;
  recMs: number;
  /** Images sent to tesseract (crop variants included, reused readings excluded). */
  recognised: number;
}

/** A grayscale crop ready for tesseract. */
interface Crop {
  gray: Uint8Array;
  width: number;
  height: number;
}

/** Target crop height for tesseract (pixels). */
export const CROP_HEIGHT = 48;

/** Encode a grayscale image as binary PGM (leptonica reads it without any codec). */
export function pgm(gray: Uint8Array, width: number, height: number): Buffer {
  const header = Buffer.from(`P5\n${width} ${height}\n255\n`, 'latin1');
  return Buffer.concat([header, Buffer.from(gray.buffer, gray.byteOffset, width * height)]);
}

/** Invert a grayscale crop in place when its border (the background) is darker than mid-grey. */
export function normalisePolarity(gray: Uint8Array, width: number, height: number): boolean {
  const border: number[] = [];
  for (let x = 0; x < width; x++) {
    border.push(gray[x]!, gray[(height - 1) * width + x]!);
  }
  for (let y = 0; y < height; y++) border.push(gray[y * width]!, gray[y * width + width - 1]!);
  border.sort((a, b) => a - b);
  const background = border[border.length >> 1]!;
  if (background >= 110) return false;
  for (let i = 0; i < gray.length; i++) gray[i] = 255 - gray[i]!;
  return true;
}

async function cropLine(frame: RgbImage, box: Box): Promise<Crop> {
  const sharp = await loadSharp();
  const h = box.y1 - box.y0;
  const padY = h * 0.12;
  const padX = h * 0.3;
  const left = Math.max(0, Math.floor(box.x0 - padX));
  const top = Math.max(0, Math.floor(box.y0 - padY));
  const right = Math.min(frame.width, Math.ceil(box.x1 + padX));
  const bottom = Math.min(frame.height, Math.ceil(box.y1 + padY));
  const cropH = bottom - top;
  const target = cropH < 40 ? CROP_HEIGHT : cropH > 96 ? 64 : cropH;
  const { data, info } = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .extract({ left, top, width: Math.max(1, right - left), height: Math.max(1, cropH) })
    .greyscale()
    .resize({ height: target, kernel: 'cubic' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { gray: new Uint8Array(data.buffer, data.byteOffset, info.width * info.height), width: info.width, height: info.height };
}

/** The p-th percentile (0..1) of a grayscale image. */
function percentile(gray: Uint8Array, p: number): number {
  const hist = new Uint32Array(256);
  for (let i = 0; i < gray.length; i++) hist[gray[i]!]!++;
  const target = p * gray.length;
  let seen = 0;
  for (let v = 0; v < 256; v++) {
    seen += hist[v]!;
    if (seen >= target) return v;
  }
  return 255;
}

/** Readings at or above this confidence stop the variant cascade. */
export const GOOD_READING = 85;

/**
 * The variants of a crop that tesseract is asked to read, best first: (1) grayscale with the polarity set from
 * the border (works for text on a box or a plain ground); (2) only the brightest pixels as black text (white
 * or yellow captions with a dark outline over a photo); (3) only the darkest pixels (dark text with a light
 * outline). A variant whose extreme is not there (no pixel near white, or none near black) is left out. No
 * artificial margin is added: on the test captions a margin raised the error rate (0.5 % to 2 %).
 */
export function cropVariants(crop: Crop): Crop[] {
  const first = new Uint8Array(crop.gray);
  normalisePolarity(first, crop.width, crop.height);
  const variants: Crop[] = [{ gray: first, width: crop.width, height: crop.height }];
  const high = percentile(crop.gray, 0.99);
  if (high >= 170) {
    const t = high * 0.8;
    variants.push({ gray: crop.gray.map((v) => (v >= t ? 0 : 255)), width: crop.width, height: crop.height });
  }
  const low = percentile(crop.gray, 0.01);
  if (low <= 80) {
    const t = low + (255 - low) * 0.2;
    variants.push({ gray: crop.gray.map((v) => (v <= t ? 0 : 255)), width: crop.width, height: crop.height });
  }
  return variants;
}

/** Read a line crop, trying the variants until one reads with confidence >= {@link GOOD_READING}. */
async function recogniseCrop(pool: OcrPool, crop: Crop): Promise<{ text: string; confidence: number; attempts: number }> {
  let best = { text: '', confidence: -1 };
  let attempts = 0;
  for (const variant of cropVariants(crop)) {
    attempts++;
    const r = await pool.recognize(pgm(variant.gray, variant.width, variant.height));
    const text = cleanLine(r.text);
    const confidence = text.length === 0 ? 0 : r.confidence;
    if (confidence > best.confidence) best = { text, confidence };
    if (best.confidence >= GOOD_READING) break;
  }
  return { ...best, attempts };
}

function similar(a: Crop, b: Crop): boolean {
  if (a.width !== b.width || a.height !== b.height) return false;
  let sum = 0;
  for (let i = 0; i < a.gray.length; i++) sum += Math.abs(a.gray[i]! - b.gray[i]!);
  return sum / a.gray.length < 6;
}

function iou(a: Box, b: Box): number {
  const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / ((a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter);
}

/** Run the detector on one frame: line boxes in frame pixels, top to bottom. */
export async function detectTextBoxes(session: OnnxSession, frame: RgbImage, limit = DET_LIMIT_SIDE): Promise<Box[]> {
  const input = await detectorInput(frame, limit);
  const outputs = await session.run({ [session.inputNames[0]!]: { data: input.data, dims: [1, 3, input.height, input.width] } });
  const prob = outputs[session.outputNames[0]!]!.data;
  const boxes = joinLineBoxes(boxesFromProbabilityMap(prob, input.width, input.height));
  return scaleBoxes(boxes, frame.width / input.width, frame.height / input.height).sort((a, b) => a.y0 - b.y0 || a.x0 - b.x0);
}

/**
 * Read the visible text of a scene from its sampled frames.
 * @throws the first error of the detector or the pool (the caller records it as the scene's OCR failure).
 */
export async function readSceneText(frames: readonly RgbImage[], pool: OcrPool, detector: OnnxSession | null, options: { signal?: AbortSignal | undefined; detectorSide?: number } = {}): Promise<SceneText> {
  const signal = options.signal;
  const read: ReadLine[] = [];
  let detMs = 0;
  let recMs = 0;
  let recognised = 0;
  if (detector === null) {
    for (const frame of frames) {
      throwIfAborted(signal);
      const sharp = await loadSharp();
      const { data, info } = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } }).greyscale().raw().toBuffer({ resolveWithObject: true });
      const t = performance.now();
      const result = await pool.recognize(pgm(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height), { blocks: true });
      recMs += performance.now() - t;
      recognised++;
      for (const line of result.lines ?? []) {
        const text = cleanLine(line.text);
        if (isJunkLine(text, line.confidence)) continue;
        read.push({ text, confidence: line.confidence, top: line.bbox.y0 / frame.height, left: line.bbox.x0 / frame.width, height: (line.bbox.y1 - line.bbox.y0) / frame.height });
      }
    }
  } else {
    const seen: { box: Box; crop: Crop; result: Promise<{ text: string; confidence: number; attempts: number }> }[] = [];
    const jobs: Promise<void>[] = [];
    for (const frame of frames) {
      throwIfAborted(signal);
      const t = performance.now();
      const boxes = await detectTextBoxes(detector, frame, options.detectorSide);
      detMs += performance.now() - t;
      for (const box of boxes) {
        const crop = await cropLine(frame, box);
        const earlier = seen.find((s) => iou(s.box, box) > 0.7 && similar(s.crop, crop));
        let result: Promise<{ text: string; confidence: number; attempts: number }>;
        if (earlier !== undefined) result = earlier.result;
        else {
          result = recogniseCrop(pool, crop);
          seen.push({ box, crop, result });
        }
        const job = result.then((r) => {
          const text = cleanLine(r.text);
          if (isJunkLine(text, r.confidence)) return;
          read.push({ text, confidence: r.confidence, top: box.y0 / frame.height, left: box.x0 / frame.width, height: (box.y1 - box.y0) / frame.height });
        });
        // Marked handled now: if detection of a later frame throws, these are never awaited.
        job.catch(() => undefined);
        jobs.push(job);
      }
    }
    const t = performance.now();
    // Recognition overlaps detection of the next frames; what is left is waited for here.
    const settled = await Promise.allSettled(jobs);
    recMs += performance.now() - t;
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    for (const s of seen) recognised += (await s.result).attempts;
  }
  const lines = mergeLines(read);
  const confidence = lines.length === 0 ? 0 : lines.reduce((s, l) => s + l.confidence, 0) / lines.length / 100;
  return { lines, text: lines.length === 0 ? null : lines.map((l) => l.text).join('\n'), confidence, mode: detector === null ? 'full-frame' : 'detector', detMs, recMs, recognised };
}
