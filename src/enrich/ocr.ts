/**
 * Visible text of a scene, read over the whole scene: frames sampled every {@link OCR_INTERVAL} seconds from the
 * first frame to the last (a caption can be on screen for half a second at the end of a scene) go through
 * PP-OCRv4: DBNet finds the text lines, each line is cropped from the full-resolution frame and read by the
 * PP-OCRv4 recogniser (ppocr-rec.ts). Lines it is unsure of (confidence from {@link FALLBACK_FROM} to under
 * {@link FALLBACK_BELOW}) are read again by tesseract, and the more confident reading is kept; with languages PP-OCR lacks (`ocrLanguages`),
 * tesseract reads every line in them too. Lines read in several samples are merged (text.ts) with the time they
 * were first and last seen.
 *
 * Cost is kept low in two ways. A sample whose picture did not change since the last sample that was run
 * (no tile of a 16 x 9 grid over a 160 px-wide grey reduction moved by more than {@link STATIC_TILE} grey
 * levels on average) is not run again: the lines of that sample are taken as still on screen. And a line at the
 * place of one already read (box IoU > 0.7; in the scene, or with a shared {@link LineCache} in any scene of the
 * video) reuses that reading when its crop is nearly identical
 * (mean absolute difference of a 64 x 16 grey reduction under 6) or, for a line over a moving picture, when its
 * text strokes are (see {@link sameStrokes}). Inference runs in the enricher's ONNX worker thread.
 *
 * Without the detector, tesseract reads each whole frame in automatic page mode (slower, and weaker on text
 * over busy backgrounds); the result says so through `mode`.
 */
import { throwIfAborted } from '../errors.js';
import { boxesFromProbabilityMap, DET_LIMIT_SIDE, detectorInput, joinLineBoxes, scaleBoxes, type Box } from './ocr-detect.js';
import type { OcrPool } from './ocr-pool.js';
import type { OnnxSession } from './onnx.js';
import { recognizeLines, type CtcTable } from './ppocr-rec.js';
import { cropRgb, loadSharp } from './runtime.js';
import { cleanLine, isJunkLine, mergeTimedLines, type TextEngine, type TimedLine, type TimedReading } from './text.js';
import type { RgbImage } from './types.js';

/** Seconds between OCR samples of a scene (the last frame of the scene is always a sample). */
export const OCR_INTERVAL = 1;
/** A sample with no grid tile changed by more than this (mean grey levels) is not read again. */
export const STATIC_TILE = 5;
/** PP-OCRv4 readings under this confidence (0..1) are read again by tesseract (see benchmarks/ocr.ts). */
export const FALLBACK_BELOW = 0.8;
/**
 * ...but not under this one: on real footage those are textures and debris the detector boxed, tesseract reads
 * them no better (benchmarks/ocr.ts, trial real), and each costs up to three tesseract passes.
 */
export const FALLBACK_FROM = 0.5;
/** Lines read with a lower confidence (0..1) are dropped. */
export const MIN_CONFIDENCE = 0.6;

/** A decoded sample of a scene. */
export interface TimedFrame {
  time: number;
  image: RgbImage;
}

/**
 * Times of the OCR samples of a scene: a frame every {@link OCR_INTERVAL} seconds from the first frame, and the
 * last frame always, so a caption shown only at the end of the scene is read. A scene without frames gets the
 * keyframe time alone.
 */
export function ocrSampleTimes(frames: readonly { time: number }[], keyframeTime: number, interval = OCR_INTERVAL): number[] {
  if (frames.length === 0) return [keyframeTime];
  const times: number[] = [];
  // A frame within 0.6 of a frame of the due time is taken, so that gaps never exceed the interval.
  const slack = frames.length > 1 ? 0.6 * (frames[1]!.time - frames[0]!.time) : 0;
  let next = frames[0]!.time;
  for (const f of frames) {
    if (f.time + slack >= next) {
      times.push(f.time);
      next = f.time + interval;
    }
  }
  const last = frames[frames.length - 1]!.time;
  // The last frame replaces a sample close to it when the gap before stays within the interval.
  if (times[times.length - 1] !== last) {
    if (times.length > 1 && last - times[times.length - 1]! < interval / 2 && last - times[times.length - 2]! <= interval + slack) times.pop();
    times.push(last);
  }
  return times;
}

/** The engines that read text. */
export interface TextReaders {
  /** PP-OCRv4 detection, or null for tesseract on whole frames. */
  detector: OnnxSession | null;
  /** PP-OCRv4 recognition, or null to read every line with tesseract. */
  recogniser: { session: OnnxSession; table: CtcTable } | null;
  /** tesseract (the fallback, and the reader of languages PP-OCR lacks), or null. */
  tesseract: OcrPool | null;
  /** tesseract reads every line too (a requested language PP-OCR lacks). */
  tesseractEveryLine: boolean;
}

/** Result of OCR on one scene. */
export interface SceneText {
  lines: TimedLine[];
  /** Lines joined by "\n", or null. */
  text: string | null;
  /** Mean confidence of the kept lines, 0..1 (0 when none). */
  confidence: number;
  mode: 'detector' | 'full-frame';
  /** Milliseconds in the detector and in recognition. */
  detMs: number;
  recMs: number;
  /** Line images recognised (reused readings excluded; tesseract crop variants included). */
  recognised: number;
  /** Samples looked at, and those skipped as unchanged. */
  samples: number;
  skipped: number;
  /** Engines that read a kept line. */
  engines: TextEngine[];
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


/** Width of the grey reduction the change test compares. */
const GRID_WIDTH = 160;
const GRID_COLS = 16;
const GRID_ROWS = 9;

/** Mean grey level of each tile of a 16 x 9 grid over the frame. Exported for tests. */
export function tileMeans(frame: RgbImage): Float32Array {
  const sums = new Float64Array(GRID_COLS * GRID_ROWS);
  const counts = new Uint32Array(GRID_COLS * GRID_ROWS);
  // Every (width / 160)-th pixel in both directions: enough to see a caption appear, cheap on 1080p.
  const step = Math.max(1, Math.floor(frame.width / GRID_WIDTH));
  for (let y = 0; y < frame.height; y += step) {
    const row = Math.min(GRID_ROWS - 1, Math.floor((y * GRID_ROWS) / frame.height));
    for (let x = 0; x < frame.width; x += step) {
      const col = Math.min(GRID_COLS - 1, Math.floor((x * GRID_COLS) / frame.width));
      const i = (y * frame.width + x) * 3;
      sums[row * GRID_COLS + col]! += (frame.data[i]! * 77 + frame.data[i + 1]! * 150 + frame.data[i + 2]! * 29) >> 8;
      counts[row * GRID_COLS + col]!++;
    }
  }
  return Float32Array.from(sums, (s, i) => s / Math.max(1, counts[i]!));
}

/** Whether any tile moved by more than {@link STATIC_TILE} grey levels. Exported for tests. */
export function tilesChanged(a: Float32Array, b: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) > STATIC_TILE) return true;
  return false;
}

/** A 64 x 16 grey reduction of a line's box, to recognise the same line in a later sample. */
function lineSignature(frame: RgbImage, box: Box): Uint8Array {
  const out = new Uint8Array(64 * 16);
  const w = box.x1 - box.x0;
  const h = box.y1 - box.y0;
  for (let sy = 0; sy < 16; sy++) {
    const y = Math.min(frame.height - 1, Math.max(0, Math.floor(box.y0 + ((sy + 0.5) * h) / 16)));
    for (let sx = 0; sx < 64; sx++) {
      const x = Math.min(frame.width - 1, Math.max(0, Math.floor(box.x0 + ((sx + 0.5) * w) / 64)));
      const i = (y * frame.width + x) * 3;
      out[sy * 64 + sx] = (frame.data[i]! * 77 + frame.data[i + 1]! * 150 + frame.data[i + 2]! * 29) >> 8;
    }
  }
  return out;
}

function signatureDistance(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

/**
 * The text strokes of a line's box, to tell whether a later sample still shows the same text when the picture
 * behind it moves (a subtitle over a panning shot defeats {@link lineSignature}). The strokes are the pixels
 * of the box's minority extreme: the brightest (grey >= 0.8 x the 99th percentile, when that is >= 170) or
 * the darkest (<= the 1st percentile + a fifth of the rest, when that is <= 80), whichever covers less of the
 * box (text covers less of its box than the ground). Null when neither extreme is there or covers under 3 %
 * of the box. Exported for tests.
 */
export interface LineStrokes {
  /** The box in frame pixels (integers) the mask covers. */
  x0: number;
  y0: number;
  width: number;
  height: number;
  /** Grey threshold, and whether strokes are at or above it (bright text) or at or below it (dark text). */
  threshold: number;
  bright: boolean;
  /** 1 for a stroke pixel, row-major over the box. */
  mask: Uint8Array;
}

function boxGrey(frame: RgbImage, x0: number, y0: number, width: number, height: number): Uint8Array {
  const grey = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    let i = ((y0 + y) * frame.width + x0) * 3;
    for (let x = 0; x < width; x++, i += 3) grey[y * width + x] = (frame.data[i]! * 77 + frame.data[i + 1]! * 150 + frame.data[i + 2]! * 29) >> 8;
  }
  return grey;
}

export function lineStrokes(frame: RgbImage, box: Box): LineStrokes | null {
  const x0 = Math.max(0, Math.floor(box.x0));
  const y0 = Math.max(0, Math.floor(box.y0));
  const width = Math.min(frame.width, Math.ceil(box.x1)) - x0;
  const height = Math.min(frame.height, Math.ceil(box.y1)) - y0;
  if (width < 4 || height < 4) return null;
  const grey = boxGrey(frame, x0, y0, width, height);
  const high = percentile(grey, 0.99);
  const low = percentile(grey, 0.01);
  const hiT = high * 0.8;
  const loT = low + (255 - low) * 0.2;
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < grey.length; i++) {
    if (grey[i]! >= hiT) hi++;
    if (grey[i]! <= loT) lo++;
  }
  const min = 0.03 * grey.length;
  const hiOk = high >= 170 && hi >= min;
  const loOk = low <= 80 && lo >= min;
  if (!hiOk && !loOk) return null;
  const bright = hiOk && (!loOk || hi <= lo);
  const threshold = bright ? hiT : loT;
  const mask = grey.map((v) => (bright ? v >= threshold : v <= threshold) ? 1 : 0);
  return { x0, y0, width, height, threshold, bright, mask };
}

/** Jaccard overlap of the strokes in every inner column block (one line height wide) must be at least this... */
export const STROKE_BLOCK_MATCH = 0.5;
/** ...and over the whole line at least this, for a later sample to count as the same text. */
export const STROKE_LINE_MATCH = 0.8;

/**
 * Whether `frame` shows the same strokes as `ref` at the same place: the pixels beyond ref's threshold in the
 * same box overlap ref's mask (Jaccard) by {@link STROKE_LINE_MATCH} over the line and by
 * {@link STROKE_BLOCK_MATCH} in every block one line height wide that holds strokes in either (a changed
 * character changes its block, though it barely moves the line's overlap). Exported for tests.
 */
export function sameStrokes(ref: LineStrokes, frame: RgbImage): boolean {
  if (ref.x0 + ref.width > frame.width || ref.y0 + ref.height > frame.height) return false;
  const grey = boxGrey(frame, ref.x0, ref.y0, ref.width, ref.height);
  const block = Math.max(8, ref.height);
  let inter = 0;
  let union = 0;
  for (let bx = 0; bx < ref.width; bx += block) {
    let bi = 0;
    let bu = 0;
    let refIn = 0;
    const end = Math.min(ref.width, bx + block);
    for (let y = 0; y < ref.height; y++) {
      for (let x = bx; x < end; x++) {
        const i = y * ref.width + x;
        const v = grey[i]!;
        const now = ref.bright ? v >= ref.threshold : v <= ref.threshold;
        const was = ref.mask[i] === 1;
        if (was) refIn++;
        if (now && was) bi++;
        if (now || was) bu++;
      }
    }
    inter += bi;
    union += bu;
    // The end blocks hold the box's margin (DB grows boxes beyond the text), where a moving ground shows, and a
    // block with few strokes in the reference (a gap between words) says little: neither is checked.
    const inner = bx > 0 && end < ref.width;
    if (inner && refIn >= 0.1 * (end - bx) * ref.height && bi / bu < STROKE_BLOCK_MATCH) return false;
  }
  return union > 0 && inter / union >= STROKE_LINE_MATCH;
}

/** The RGB crop of a line for the recogniser: the unclipped box and a tenth of its height on each side. */
export function recCrop(frame: RgbImage, box: Box): RgbImage {
  const h = box.y1 - box.y0;
  const pad = h * 0.1;
  return cropRgb(frame, box.x0 - pad, box.y0, box.x1 - box.x0 + 2 * pad, h);
}

/** A reading of one line crop. */
interface Reading {
  text: string;
  /** 0..1 */
  confidence: number;
  engine: TextEngine;
}

/** A line read earlier, to be recognised again at the same place (see {@link LineCache}). */
interface CachedLine {
  box: Box;
  signature: Uint8Array;
  strokes: LineStrokes | null;
  reading: Promise<Reading>;
}

/** Lines a {@link LineCache} keeps (the oldest go first). */
export const LINE_CACHE_SIZE = 256;

/**
 * The lines read so far, so that a line at the place of an earlier one (box IoU > 0.7) with a nearly identical
 * crop (64 x 16 grey reduction within 6 grey levels) or the same text strokes ({@link sameStrokes}) reuses its
 * reading instead of being recognised again. One cache may serve all the scenes of a video: a subtitle or a
 * title that runs over a cut is then read once, not once per scene (on the subtitled real clip of
 * benchmarks/analyze.ts a third of the readings were such repeats). Holds the last {@link LINE_CACHE_SIZE}
 * lines.
 */
export class LineCache {
  private readonly lines: CachedLine[] = [];

  /** The earlier line this one repeats, if any. */
  find(box: Box, signature: Uint8Array, frame: RgbImage): CachedLine | undefined {
    for (let i = this.lines.length - 1; i >= 0; i--) {
      const c = this.lines[i]!;
      if (iou(c.box, box) > 0.7 && (signatureDistance(c.signature, signature) < 6 || (c.strokes !== null && sameStrokes(c.strokes, frame)))) return c;
    }
    return undefined;
  }

  add(line: CachedLine): void {
    this.lines.push(line);
    if (this.lines.length > LINE_CACHE_SIZE) this.lines.shift();
  }

  remove(line: CachedLine): void {
    const i = this.lines.indexOf(line);
    if (i >= 0) this.lines.splice(i, 1);
  }
}

/** Smallest line height (frame pixels) worth reading. */
const MIN_LINE_HEIGHT = 7;

/**
 * Read the visible text of a scene from its samples (in time order; an async iterable lets the caller decode
 * them in chunks while earlier ones are read).
 * @throws the first error of the detector, the recogniser or tesseract (the caller records it as the scene's
 *   OCR failure); AbortError when `signal` is aborted.
 */
export async function readSceneText(
  samples: Iterable<TimedFrame> | AsyncIterable<TimedFrame>,
  readers: TextReaders,
  options: { signal?: AbortSignal | undefined; detectorSide?: number; cache?: LineCache } = {},
): Promise<SceneText> {
  const { signal } = options;
  const readings: TimedReading[] = [];
  let detMs = 0;
  let recMs = 0;
  let recognised = 0;
  let count = 0;
  let skipped = 0;
  let lastTiles: Float32Array | null = null;
  let lastReadings: TimedReading[] = [];
  const cache = options.cache ?? new LineCache();

  // New lines of one sample are recognised in one batch; the unsure ones then go to tesseract one by one.
  const readCrops = async (frame: RgbImage, boxes: readonly Box[]): Promise<Reading[]> => {
    let best: Reading[] = boxes.map(() => ({ text: '', confidence: 0, engine: 'ppocr' }));
    if (readers.recogniser !== null) {
      const t = performance.now();
      const results = await recognizeLines(readers.recogniser.session, boxes.map((b) => recCrop(frame, b)), readers.recogniser.table);
      recMs += performance.now() - t;
      recognised += boxes.length;
      best = results.map((r) => ({ text: cleanLine(r.text), confidence: r.confidence, engine: 'ppocr' }));
    }
    const tesseract = readers.tesseract;
    if (tesseract !== null) {
      for (let i = 0; i < boxes.length; i++) {
        const c = best[i]!.confidence;
        if (readers.recogniser !== null && !readers.tesseractEveryLine && (c >= FALLBACK_BELOW || c < FALLBACK_FROM)) continue;
        const t = performance.now();
        const r = await recogniseCrop(tesseract, await cropLine(frame, boxes[i]!));
        recMs += performance.now() - t;
        recognised += r.attempts;
        if (r.confidence / 100 > best[i]!.confidence) best[i] = { text: r.text, confidence: r.confidence / 100, engine: 'tesseract' };
      }
    }
    return best;
  };

  for await (const sample of samples) {
    throwIfAborted(signal);
    count++;
    const frame = sample.image;
    const tiles = tileMeans(frame);
    if (lastTiles !== null && !tilesChanged(tiles, lastTiles)) {
      // Nothing moved: the lines of the last sample that was read are still there.
      skipped++;
      for (const r of lastReadings) readings.push({ ...r, time: sample.time });
      continue;
    }
    lastTiles = tiles;
    const current: TimedReading[] = [];
    if (readers.detector === null) {
      if (readers.tesseract === null) break;
      const sharp = await loadSharp();
      const { data, info } = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } }).greyscale().raw().toBuffer({ resolveWithObject: true });
      const t = performance.now();
      const result = await readers.tesseract.recognize(pgm(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height), { blocks: true });
      recMs += performance.now() - t;
      recognised++;
      for (const line of result.lines ?? []) {
        const text = cleanLine(line.text);
        if (isJunkLine(text, line.confidence)) continue;
        const { x0, y0, x1, y1 } = line.bbox;
        current.push({ text, confidence: line.confidence / 100, engine: 'tesseract', time: sample.time, top: y0 / frame.height, left: x0 / frame.width, height: (y1 - y0) / frame.height, width: (x1 - x0) / frame.width });
      }
    } else {
      const t = performance.now();
      const boxes = (await detectTextBoxes(readers.detector, frame, options.detectorSide)).filter((b) => b.y1 - b.y0 >= MIN_LINE_HEIGHT);
      detMs += performance.now() - t;
      const pending: { box: Box; line: CachedLine }[] = [];
      const fresh: CachedLine[] = [];
      for (const box of boxes) {
        const signature = lineSignature(frame, box);
        let line = cache.find(box, signature, frame);
        if (line === undefined) {
          line = { box, signature, strokes: lineStrokes(frame, box), reading: Promise.resolve({ text: '', confidence: 0, engine: 'ppocr' }) };
          fresh.push(line);
          cache.add(line);
        }
        pending.push({ box, line });
      }
      if (fresh.length > 0) {
        const batch = readCrops(frame, fresh.map((l) => l.box));
        batch.catch(() => undefined);
        fresh.forEach((line, k) => {
          line.reading = batch.then((all) => all[k]!);
          // A failed reading must not be reused by a later scene.
          line.reading.catch(() => cache.remove(line));
        });
      }
      for (const { box, line } of pending) {
        const r = await line.reading;
        if (isJunkLine(r.text, r.confidence * 100) || r.confidence < MIN_CONFIDENCE) continue;
        current.push({ ...r, time: sample.time, top: box.y0 / frame.height, left: box.x0 / frame.width, height: (box.y1 - box.y0) / frame.height, width: (box.x1 - box.x0) / frame.width });
      }
    }
    readings.push(...current);
    lastReadings = current;
  }
  const lines = mergeTimedLines(readings);
  const confidence = lines.length === 0 ? 0 : lines.reduce((s, l) => s + l.confidence, 0) / lines.length;
  const engines = [...new Set(lines.map((l) => l.engine))];
  return { lines, text: lines.length === 0 ? null : lines.map((l) => l.text).join('\n'), confidence, mode: readers.detector === null ? 'full-frame' : 'detector', detMs, recMs, recognised, samples: count, skipped, engines };
}

/** Read one detected line with tesseract alone (the crop variants of {@link cropVariants}); confidence 0..1. */
export async function tesseractLine(pool: OcrPool, frame: RgbImage, box: Box): Promise<{ text: string; confidence: number }> {
  const r = await recogniseCrop(pool, await cropLine(frame, box));
  return { text: r.text, confidence: r.confidence / 100 };
}
