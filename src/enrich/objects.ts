/**
 * COCO object detection with YOLOX-Nano (416 x 416) on onnxruntime-node.
 *
 * Pre-processing as in YOLOX's `preproc`: the frame is scaled by r = min(416 / h, 416 / w) (aspect kept),
 * placed at the top-left of a 416 x 416 canvas filled with 114, and fed as BGR 0..255 planes (no mean/std).
 * The output [1, 3549, 85] holds, for every cell of the three grids (52 x 52 at stride 8, 26 x 26 at 16,
 * 13 x 13 at 32, in that order), the box (x, y relative to the cell, log w, log h), the objectness and the 80
 * class probabilities (both already through a sigmoid). Decoding: cx = (x + gx) * s, cy = (y + gy) * s,
 * w = exp(log w) * s, h = exp(log h) * s; score = objectness * best class probability, kept at >= 0.4, then
 * class-wise non-maximum suppression at IoU 0.45, and boxes are scaled back by 1 / r.
 */
import type { OnnxSession } from './onnx.js';
import { resizeRgb } from './runtime.js';
import type { RgbImage } from './types.js';

/** Input side of the network. */
export const YOLOX_SIZE = 416;
/** Minimum objectness x class score. */
export const OBJECT_THRESHOLD = 0.4;
/** IoU above which a lower-scored box of the same class is suppressed. */
export const NMS_IOU = 0.45;
const STRIDES = [8, 16, 32] as const;

/** One detected object, in frame pixels. */
export interface Detection {
  label: string;
  classId: number;
  score: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** The letterboxed [1, 3, 416, 416] BGR input and the scale used. */
export async function yoloxInput(frame: RgbImage, size = YOLOX_SIZE): Promise<{ data: Float32Array; ratio: number }> {
  const ratio = Math.min(size / frame.width, size / frame.height);
  const w = Math.max(1, Math.round(frame.width * ratio));
  const h = Math.max(1, Math.round(frame.height * ratio));
  const resized = await resizeRgb(frame, w, h);
  const plane = size * size;
  const data = new Float32Array(plane * 3).fill(114);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const si = (y * w + x) * 3;
      const di = y * size + x;
      data[di] = resized.data[si + 2]!; // B
      data[plane + di] = resized.data[si + 1]!; // G
      data[2 * plane + di] = resized.data[si]!; // R
    }
  }
  return { data, ratio };
}

/** Decode the raw [N, 85] output into detections (before scaling back). Exported for tests. */
export function decodeYolox(output: Float32Array, labels: readonly string[], options: { size?: number; threshold?: number; nmsIou?: number } = {}): Detection[] {
  const size = options.size ?? YOLOX_SIZE;
  const threshold = options.threshold ?? OBJECT_THRESHOLD;
  const classes = labels.length;
  const stride = 5 + classes;
  const found: Detection[] = [];
  let row = 0;
  for (const s of STRIDES) {
    const grid = Math.round(size / s);
    for (let gy = 0; gy < grid; gy++) {
      for (let gx = 0; gx < grid; gx++, row++) {
        const o = row * stride;
        if (o + stride > output.length) break;
        const objectness = output[o + 4]!;
        if (objectness < threshold) continue;
        let best = 0;
        let bestScore = 0;
        for (let c = 0; c < classes; c++) {
          const p = output[o + 5 + c]!;
          if (p > bestScore) {
            bestScore = p;
            best = c;
          }
        }
        const score = objectness * bestScore;
        if (score < threshold) continue;
        const cx = (output[o]! + gx) * s;
        const cy = (output[o + 1]! + gy) * s;
        const w = Math.exp(output[o + 2]!) * s;
        const h = Math.exp(output[o + 3]!) * s;
        found.push({ label: labels[best] ?? `class ${best}`, classId: best, score, x0: cx - w / 2, y0: cy - h / 2, x1: cx + w / 2, y1: cy + h / 2 });
      }
    }
  }
  return nms(found, options.nmsIou ?? NMS_IOU);
}

function iou(a: Detection, b: Detection): number {
  const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / ((a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter);
}

/** Class-wise non-maximum suppression; highest score first. */
export function nms(detections: readonly Detection[], threshold = NMS_IOU): Detection[] {
  const sorted = [...detections].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const d of sorted) {
    if (kept.some((k) => k.classId === d.classId && iou(k, d) > threshold)) continue;
    kept.push(d);
  }
  return kept;
}

/** Detect COCO objects in one frame. Boxes are in frame pixels. */
export async function detectObjects(session: OnnxSession, labels: readonly string[], frame: RgbImage): Promise<Detection[]> {
  const { data, ratio } = await yoloxInput(frame);
  const outputs = await session.run({ [session.inputNames[0]!]: { data, dims: [1, 3, YOLOX_SIZE, YOLOX_SIZE] } });
  const output = outputs[session.outputNames[0]!]!.data;
  return decodeYolox(output, labels).map((d) => ({ ...d, x0: d.x0 / ratio, y0: d.y0 / ratio, x1: d.x1 / ratio, y1: d.y1 / ratio }));
}

/** Objects of a scene: per class, the most instances seen in one frame and the best score. */
export interface ObjectCount {
  label: string;
  count: number;
  /** Best score of the class over the frames (0..1). */
  score: number;
  /** Frames (of those sampled) the class was seen in. */
  frames: number;
}

/**
 * Count objects over a scene's sampled frames: per class, the largest count in any one frame (the same object
 * seen in three frames is one object) and the best score. Only boxes at `countFrom` or above are counted (at
 * least one instance per class found), so a sure dog and a weak second one read "a dog", not "two dogs".
 * Sorted by count x score, largest first.
 */
export function countObjects(perFrame: readonly (readonly Detection[])[], countFrom = 0): ObjectCount[] {
  const byLabel = new Map<string, ObjectCount>();
  for (const detections of perFrame) {
    const counts = new Map<string, { n: number; best: number }>();
    for (const d of detections) {
      const c = counts.get(d.label) ?? { n: 0, best: 0 };
      if (d.score >= countFrom) c.n++;
      c.best = Math.max(c.best, d.score);
      counts.set(d.label, c);
    }
    for (const [label, c] of counts) {
      const entry = byLabel.get(label) ?? { label, count: 0, score: 0, frames: 0 };
      entry.count = Math.max(entry.count, c.n, 1);
      entry.score = Math.max(entry.score, c.best);
      entry.frames++;
      byLabel.set(label, entry);
    }
  }
  return [...byLabel.values()].sort((a, b) => b.count * b.score - a.count * a.score || a.label.localeCompare(b.label));
}

/** People in a scene, from the person boxes. */
export interface PeopleFacts {
  /** The most people seen in one sampled frame (boxes at or above the score asked for). */
  count: number;
  /** Best person score over the frames. */
  score: number;
  /** Share of the frame (0..1) covered by the largest person box of any sampled frame. */
  largest: number;
  /**
   * Shot size from the largest box: close-up when it covers >= {@link CLOSE_UP_SHARE} of the frame and is not a
   * whole standing figure (height / width under {@link FIGURE_ASPECT}), wide below {@link WIDE_SHARE}, else medium.
   */
  shot: 'close-up' | 'medium' | 'wide';
}

/** Largest person box share of the frame from which the shot is a close-up. */
export const CLOSE_UP_SHARE = 0.3;
/** Largest person box share of the frame below which the shot is wide. */
export const WIDE_SHARE = 0.05;
/**
 * Height / width of a person box from which it is a whole standing figure (about 3 for a full body, about 1 for
 * head and shoulders): a large full figure in a portrait frame is a medium shot, not a close-up.
 */
export const FIGURE_ASPECT = 2;

/**
 * People of a scene from its sampled frames' detections: person boxes at `minScore` or above, counted per
 * frame (the largest count wins), and the shot size from the largest box relative to the frame and its
 * shape (boxes are clipped to the frame). Null when no frame has such a box.
 */
export function peopleFacts(perFrame: readonly (readonly Detection[])[], width: number, height: number, minScore: number): PeopleFacts | null {
  let count = 0;
  let score = 0;
  let largest = 0;
  let aspect = 1;
  const area = Math.max(1, width * height);
  for (const detections of perFrame) {
    let n = 0;
    for (const d of detections) {
      if (d.label !== 'person' || d.score < minScore) continue;
      n++;
      score = Math.max(score, d.score);
      const w = Math.max(0, Math.min(width, d.x1) - Math.max(0, d.x0));
      const h = Math.max(0, Math.min(height, d.y1) - Math.max(0, d.y0));
      if ((w * h) / area > largest) {
        largest = (w * h) / area;
        aspect = w > 0 ? h / w : 1;
      }
    }
    count = Math.max(count, n);
  }
  if (count === 0) return null;
  const shot = largest >= CLOSE_UP_SHARE && aspect < FIGURE_ASPECT ? 'close-up' : largest < WIDE_SHARE ? 'wide' : 'medium';
  return { count, score, largest: Math.round(largest * 1000) / 1000, shot };
}
