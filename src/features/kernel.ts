/**
 * The per-frame feature kernel in pure TypeScript: the reference definition of every feature and the
 * fallback when the native addon cannot load. native/features.cc computes the same values bit for bit
 * (test/features-parity.test.ts holds them together); change one, change both, and bump
 * {@link KERNEL_VERSION}.
 *
 * Input: `(hasPrev ? 1 : 0) + count` packed RGB24 frames of width x height; with `hasPrev` the first frame is
 * only the previous frame of the first output. Per frame, with n = width x height:
 *
 * - Luma Y = (77R + 150G + 29B + 128) >> 8; Cb, Cr the BT.601 integer chroma (arithmetic shift, clamped).
 * - Integer HSV on OpenCV's scale (H 0..179, S and V 0..255); delta_hue / delta_sat / delta_lum are the mean
 *   absolute differences against the previous frame (hue circular). The first frame of a stream has zeros.
 * - Sobel magnitude |gx| + |gy| of Y on interior pixels; edge = magnitude > max(64, 2 x mean magnitude);
 *   delta_edges = 255 x the share of pixels whose 3x3-dilated edge mask changed; edge_density = share of
 *   (undilated) edge pixels.
 * - mean_luma, std_luma, mean_rgb; sharpness = mean |4Y - up - down - left - right| over interior pixels.
 * - A 64-bin luma histogram, a 16x9 grid of rounded Y/Cb/Cr cell means, and a 64-bit DCT perceptual hash of
 *   the 32x32 luma thumbnail (bits above the median of the 63 AC terms of the 8x8 low-frequency block).
 *
 * All sums are exact integers (below 2^53 for frames up to 4096 x 4096); the few divisions into doubles are
 * written in the same order as in C++.
 */
import { GRID_H, GRID_SIZE, GRID_W, HIST_BINS, SCALAR_COUNT, SCALAR_NAMES, type FeatureBatch, type FrameFeatures, type ScalarName } from './types.js';

/** Version of the feature definitions; the native addon must report the same string to be used. */
export const KERNEL_VERSION = 'scenescope-features/1';

/** Smallest accepted frame side in pixels. */
export const MIN_SIDE = 8;
/** Largest accepted frame side in pixels. */
export const MAX_SIDE = 4096;

/** Words per frame in {@link FeatureBatch.hash}. */
export const HASH_WORDS = 2;

/**
 * The signature shared by the native `compute` and {@link computeFeaturesTS}: outputs are written into
 * caller-owned arrays sized count x (SCALAR_COUNT, HIST_BINS, HASH_WORDS, GRID_SIZE).
 */
export type ComputeFeatures = (
  frames: Uint8Array,
  width: number,
  height: number,
  count: number,
  hasPrev: boolean,
  scalars: Float64Array,
  hist: Uint32Array,
  hash: Uint32Array,
  grid: Uint8Array,
) => void;

const HASH_SIDE = 32;
const DCT_SIDE = 8;

/** floor(a / b) for integers, b > 0, exact even where the double quotient would round up to an integer. */
function floorDiv(a: number, b: number): number {
  const q = Math.floor(a / b);
  if (q * b > a) return q - 1;
  if ((q + 1) * b <= a) return q + 1;
  return q;
}

/** S for (V << 8 | d): floor((255 d + floor(V / 2)) / V), 0 when V is 0. */
const SAT = new Uint8Array(256 * 256);
/** floorDiv(60 num + d, 2 d) for (d << 9 | num + 256), num in -d..d: the hue offset from its sector base. */
const HUE_STEP = new Int8Array(256 * 512);
for (let v = 1; v < 256; v++) {
  for (let d = 0; d <= v; d++) SAT[(v << 8) | d] = floorDiv(255 * d + Math.floor(v / 2), v);
}
for (let d = 1; d < 256; d++) {
  for (let num = -d; num <= d; num++) HUE_STEP[(d << 9) | (num + 256)] = floorDiv(60 * num + d, 2 * d);
}

/** C[k][x] = round(cos(pi (2x + 1) k / 64) x 4096), 8 x 32 row-major. */
const COS = new Int32Array(DCT_SIDE * HASH_SIDE);
for (let k = 0; k < DCT_SIDE; k++) {
  for (let x = 0; x < HASH_SIDE; x++) COS[k * HASH_SIDE + x] = Math.round(Math.cos((Math.PI * (2 * x + 1) * k) / 64) * 4096);
}

/** A copy of the integer DCT cosine table (8 x 32, row-major), for the parity test. */
export function cosTableTS(): Int32Array {
  return COS.slice();
}

/**
 * Cell i of `cells` along an axis of `length` pixels spans [floor(i length / cells), floor((i+1) length /
 * cells)), or the single pixel at its start when that range is empty (an axis shorter than the cell count).
 */
function cellRanges(length: number, cells: number): { start: Int32Array; end: Int32Array } {
  const start = new Int32Array(cells);
  const end = new Int32Array(cells);
  for (let i = 0; i < cells; i++) {
    const a = Math.floor((i * length) / cells);
    const b = Math.floor(((i + 1) * length) / cells);
    start[i] = a;
    end[i] = b > a ? b : a + 1;
  }
  return { start, end };
}

/** Planes reused between frames of the same size; `cur` alternates so the last frame's planes stay as "prev". */
interface Scratch {
  w: number;
  h: number;
  cur: number;
  luma: Uint8Array;
  hsv: [Uint8Array, Uint8Array];
  mag: Uint16Array;
  hdil: Uint8Array;
  dil: [Uint8Array, Uint8Array];
  cbRow: Uint8Array;
  crRow: Uint8Array;
  edgeRow: Uint8Array;
  gx: { start: Int32Array; end: Int32Array };
  gy: { start: Int32Array; end: Int32Array };
  px: { start: Int32Array; end: Int32Array };
  py: { start: Int32Array; end: Int32Array };
}

let scratch: Scratch | undefined;

function prepare(w: number, h: number): Scratch {
  if (scratch !== undefined && scratch.w === w && scratch.h === h) return scratch;
  const n = w * h;
  scratch = {
    w,
    h,
    cur: 0,
    luma: new Uint8Array(n),
    hsv: [new Uint8Array(3 * n), new Uint8Array(3 * n)],
    mag: new Uint16Array(n),
    hdil: new Uint8Array(n),
    dil: [new Uint8Array(n), new Uint8Array(n)],
    cbRow: new Uint8Array(w),
    crRow: new Uint8Array(w),
    edgeRow: new Uint8Array(w),
    gx: cellRanges(w, GRID_W),
    gy: cellRanges(h, GRID_H),
    px: cellRanges(w, HASH_SIDE),
    py: cellRanges(h, HASH_SIDE),
  };
  return scratch;
}

function sumRange(row: Uint8Array, offset: number, a: number, b: number): number {
  let s = 0;
  for (let x = offset + a; x < offset + b; x++) s += row[x]!;
  return s;
}

function roundedMean(sum: number, count: number): number {
  return floorDiv(sum + Math.floor(count / 2), count);
}

function hashFromThumbnail(thumb: Int32Array, hash: Uint32Array, at: number): void {
  const rowT = new Float64Array(DCT_SIDE * HASH_SIDE); // rowT[v][y] = sum_x C[v][x] P[y][x]
  for (let v = 0; v < DCT_SIDE; v++) {
    for (let y = 0; y < HASH_SIDE; y++) {
      let s = 0;
      for (let x = 0; x < HASH_SIDE; x++) s += COS[v * HASH_SIDE + x]! * thumb[y * HASH_SIDE + x]!;
      rowT[v * HASH_SIDE + y] = s;
    }
  }
  const dct = new Float64Array(DCT_SIDE * DCT_SIDE);
  for (let u = 0; u < DCT_SIDE; u++) {
    for (let v = 0; v < DCT_SIDE; v++) {
      let s = 0;
      for (let y = 0; y < HASH_SIDE; y++) s += COS[u * HASH_SIDE + y]! * rowT[v * HASH_SIDE + y]!;
      dct[u * DCT_SIDE + v] = s;
    }
  }
  const median = dct.slice(1).sort()[31]!;
  let w0 = 0;
  let w1 = 0;
  for (let i = 1; i < 32; i++) if (dct[i]! > median) w0 |= 1 << (31 - i);
  for (let i = 32; i < 64; i++) if (dct[i]! > median) w1 |= 1 << (63 - i);
  hash[at] = w0 >>> 0;
  hash[at + 1] = w1 >>> 0;
}

/** One frame; `out` undefined primes the previous-frame planes only. */
function processFrame(
  frames: Uint8Array,
  base: number,
  s: Scratch,
  delta: boolean,
  out: { scalars: Float64Array; hist: Uint32Array; hash: Uint32Array; grid: Uint8Array; index: number } | undefined,
): void {
  const { w, h, luma, cbRow, crRow } = s;
  const n = w * h;
  const cur = s.hsv[s.cur]!;
  const prev = s.hsv[1 - s.cur]!;
  const histAcc = new Uint32Array(HIST_BINS);
  const gridAcc = new Float64Array(GRID_SIZE);
  const thumbAcc = new Float64Array(HASH_SIDE * HASH_SIDE);
  let sumY = 0;
  let sumY2 = 0;
  let sumRGB = 0;
  let sumDH = 0;
  let sumDS = 0;
  let sumDV = 0;

  // 1. Colour sweep.
  for (let y = 0; y < h; y++) {
    const off = y * w;
    let p = base + 3 * off;
    for (let x = 0; x < w; x++, p += 3) {
      const r = frames[p]!;
      const g = frames[p + 1]!;
      const b = frames[p + 2]!;
      const Y = (77 * r + 150 * g + 29 * b + 128) >> 8;
      const cb = ((-43 * r - 85 * g + 128 * b + 128) >> 8) + 128;
      const cr = ((128 * r - 107 * g - 21 * b + 128) >> 8) + 128;
      luma[off + x] = Y;
      cbRow[x] = cb < 0 ? 0 : cb > 255 ? 255 : cb;
      crRow[x] = cr < 0 ? 0 : cr > 255 ? 255 : cr;

      const mx = r > g ? (r > b ? r : b) : g > b ? g : b;
      const mn = r < g ? (r < b ? r : b) : g < b ? g : b;
      const d = mx - mn;
      const sat = SAT[(mx << 8) | d]!;
      let hue = 0;
      if (d !== 0) {
        if (mx === r) hue = HUE_STEP[(d << 9) | (g - b + 256)]!;
        else if (mx === g) hue = 60 + HUE_STEP[(d << 9) | (b - r + 256)]!;
        else hue = 120 + HUE_STEP[(d << 9) | (r - g + 256)]!;
        if (hue < 0) hue += 180;
        else if (hue >= 180) hue -= 180;
      }
      const i = off + x;
      if (delta) {
        const dh = Math.abs(hue - prev[i]!);
        sumDH += dh < 180 - dh ? dh : 180 - dh;
        sumDS += Math.abs(sat - prev[n + i]!);
        sumDV += Math.abs(mx - prev[2 * n + i]!);
      }
      cur[i] = hue;
      cur[n + i] = sat;
      cur[2 * n + i] = mx;
      histAcc[Y >> 2]!++;
      sumY += Y;
      sumY2 += Y * Y;
      sumRGB += r + g + b;
    }
    if (out === undefined) continue;
    for (let cy = 0; cy < GRID_H; cy++) {
      if (y < s.gy.start[cy]! || y >= s.gy.end[cy]!) continue;
      for (let cx = 0; cx < GRID_W; cx++) {
        const a = s.gx.start[cx]!;
        const e = s.gx.end[cx]!;
        const k = (cy * GRID_W + cx) * 3;
        gridAcc[k] = gridAcc[k]! + sumRange(luma, off, a, e);
        gridAcc[k + 1] = gridAcc[k + 1]! + sumRange(cbRow, 0, a, e);
        gridAcc[k + 2] = gridAcc[k + 2]! + sumRange(crRow, 0, a, e);
      }
    }
    for (let py = 0; py < HASH_SIDE; py++) {
      if (y < s.py.start[py]! || y >= s.py.end[py]!) continue;
      for (let px = 0; px < HASH_SIDE; px++) {
        const k = py * HASH_SIDE + px;
        thumbAcc[k] = thumbAcc[k]! + sumRange(luma, off, s.px.start[px]!, s.px.end[px]!);
      }
    }
  }

  // 2. Luma sweep: Sobel magnitude and Laplacian over interior pixels.
  const mag = s.mag;
  let sumMag = 0;
  let sumLap = 0;
  for (let y = 1; y < h - 1; y++) {
    const a = (y - 1) * w;
    const b = a + w;
    const c = b + w;
    for (let x = 1; x < w - 1; x++) {
      const gx = luma[a + x + 1]! + 2 * luma[b + x + 1]! + luma[c + x + 1]! - (luma[a + x - 1]! + 2 * luma[b + x - 1]! + luma[c + x - 1]!);
      const gy = luma[c + x - 1]! + 2 * luma[c + x]! + luma[c + x + 1]! - (luma[a + x - 1]! + 2 * luma[a + x]! + luma[a + x + 1]!);
      const m = Math.abs(gx) + Math.abs(gy);
      mag[b + x] = m;
      sumMag += m;
      sumLap += Math.abs(4 * luma[b + x]! - luma[a + x]! - luma[c + x]! - luma[b + x - 1]! - luma[b + x + 1]!);
    }
  }
  const ni = (w - 2) * (h - 2);

  // 3. Edge sweep: threshold, dilate horizontally, then vertically while comparing with the previous mask.
  const threshold = Math.max(64, floorDiv(2 * sumMag, ni));
  const e = s.edgeRow;
  const hdil = s.hdil;
  let edgeCount = 0;
  for (let y = 0; y < h; y++) {
    const off = y * w;
    for (let x = 0; x < w; x++) {
      const v = mag[off + x]! > threshold ? 1 : 0;
      e[x] = v;
      edgeCount += v;
    }
    hdil[off] = e[0]! | e[1]!;
    for (let x = 1; x < w - 1; x++) hdil[off + x] = e[x - 1]! | e[x]! | e[x + 1]!;
    hdil[off + w - 1] = e[w - 2]! | e[w - 1]!;
  }
  const dilCur = s.dil[s.cur]!;
  const dilPrev = s.dil[1 - s.cur]!;
  let edgeDiff = 0;
  for (let y = 0; y < h; y++) {
    const mid = y * w;
    const up = y > 0 ? mid - w : mid;
    const down = y < h - 1 ? mid + w : mid;
    for (let x = 0; x < w; x++) {
      const v = hdil[up + x]! | hdil[mid + x]! | hdil[down + x]!;
      dilCur[mid + x] = v;
      if (delta) edgeDiff += v ^ dilPrev[mid + x]!;
    }
  }
  s.cur = 1 - s.cur;
  if (out === undefined) return;

  // Outputs.
  const at = out.index * SCALAR_COUNT;
  const mean = sumY / n;
  out.scalars[at] = delta ? sumDH / n : 0;
  out.scalars[at + 1] = delta ? sumDS / n : 0;
  out.scalars[at + 2] = delta ? sumDV / n : 0;
  out.scalars[at + 3] = delta ? (255 * edgeDiff) / n : 0;
  out.scalars[at + 4] = mean;
  out.scalars[at + 5] = Math.sqrt(Math.max(0, sumY2 / n - mean * mean));
  out.scalars[at + 6] = sumRGB / (3 * n);
  out.scalars[at + 7] = edgeCount / n;
  out.scalars[at + 8] = sumLap / ni;
  out.hist.set(histAcc, out.index * HIST_BINS);

  const gridAt = out.index * GRID_SIZE;
  for (let cy = 0; cy < GRID_H; cy++) {
    const rows = s.gy.end[cy]! - s.gy.start[cy]!;
    for (let cx = 0; cx < GRID_W; cx++) {
      const count = rows * (s.gx.end[cx]! - s.gx.start[cx]!);
      const k = (cy * GRID_W + cx) * 3;
      for (let c = 0; c < 3; c++) out.grid[gridAt + k + c] = roundedMean(gridAcc[k + c]!, count);
    }
  }
  const thumb = new Int32Array(HASH_SIDE * HASH_SIDE);
  for (let py = 0; py < HASH_SIDE; py++) {
    const rows = s.py.end[py]! - s.py.start[py]!;
    for (let px = 0; px < HASH_SIDE; px++) {
      thumb[py * HASH_SIDE + px] = roundedMean(thumbAcc[py * HASH_SIDE + px]!, rows * (s.px.end[px]! - s.px.start[px]!));
    }
  }
  hashFromThumbnail(thumb, out.hash, out.index * HASH_WORDS);
}

function checkInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number`);
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer between ${min} and ${max}`);
  return value;
}

function checkArray(name: string, value: unknown, type: typeof Uint8Array | typeof Float64Array | typeof Uint32Array, expected: number): void {
  if (!(value instanceof type)) throw new TypeError(`${name} must be a ${type.name}`);
  if (value.length !== expected) throw new RangeError(`${name} must have length ${expected} but has ${value.length}`);
}

/**
 * Compute the features of `count` frames in pure TypeScript, writing into the output arrays. Same contract,
 * checks and messages as the native addon's `compute`.
 *
 * @param frames `(hasPrev ? 1 : 0) + count` packed RGB24 frames of width x height.
 * @param hasPrev whether the first frame is only the previous frame of the first output (otherwise the first
 *   output's differences are 0).
 * @throws TypeError for an argument of the wrong type, RangeError for a size out of range or an array of the
 *   wrong length.
 */
export const computeFeaturesTS: ComputeFeatures = (frames, width, height, count, hasPrev, scalars, hist, hash, grid) => {
  const w = checkInteger('width', width, MIN_SIDE, MAX_SIDE);
  const h = checkInteger('height', height, MIN_SIDE, MAX_SIDE);
  const c = checkInteger('count', count, 0, 2147483647);
  if (typeof hasPrev !== 'boolean') throw new TypeError('hasPrev must be a boolean');
  checkArray('frames', frames, Uint8Array, (c + (hasPrev ? 1 : 0)) * w * h * 3);
  checkArray('scalars', scalars, Float64Array, c * SCALAR_COUNT);
  checkArray('hist', hist, Uint32Array, c * HIST_BINS);
  checkArray('hash', hash, Uint32Array, c * HASH_WORDS);
  checkArray('grid', grid, Uint8Array, c * GRID_SIZE);

  const s = prepare(w, h);
  const frameBytes = w * h * 3;
  let base = 0;
  let delta = false;
  if (hasPrev) {
    processFrame(frames, 0, s, false, undefined);
    base = frameBytes;
    delta = true;
  }
  for (let index = 0; index < c; index++, base += frameBytes) {
    processFrame(frames, base, s, delta, { scalars, hist, hash, grid, index });
    delta = true;
  }
};

/** Bytes per frame of a batch allocated by {@link allocBatch}: 9 doubles, 64 + 2 words, 432 bytes. */
const BATCH_FRAME_BYTES = SCALAR_COUNT * 8 + HIST_BINS * 4 + HASH_WORDS * 4 + GRID_SIZE;

/** Bytes of the one ArrayBuffer behind a batch of `count` frames (see {@link allocBatch}). */
export function batchBytes(count: number): number {
  return count * BATCH_FRAME_BYTES;
}

/**
 * Allocate the output arrays of a batch of `count` frames as views over ONE ArrayBuffer (so a worker can
 * transfer a whole batch back with a single transferable: `batch.scalars.buffer`). With `reuse` of exactly
 * {@link batchBytes}(count) bytes, the views are over it (zeroed first) and nothing is allocated.
 */
export function allocBatch(count: number, reuse?: ArrayBuffer): FeatureBatch {
  const buffer = reuse !== undefined && reuse.byteLength === count * BATCH_FRAME_BYTES ? reuse : new ArrayBuffer(count * BATCH_FRAME_BYTES);
  if (buffer === reuse) new Uint8Array(buffer).fill(0);
  let offset = 0;
  const scalars = new Float64Array(buffer, offset, count * SCALAR_COUNT);
  offset += scalars.byteLength;
  const hist = new Uint32Array(buffer, offset, count * HIST_BINS);
  offset += hist.byteLength;
  const hash = new Uint32Array(buffer, offset, count * HASH_WORDS);
  offset += hash.byteLength;
  const grid = new Uint8Array(buffer, offset, count * GRID_SIZE);
  return { count, scalars, hist, hash, grid };
}

/**
 * A view of frame `i` of a batch: named scalars (copied), and histogram, hash and grid (the histogram and
 * grid are subarrays sharing the batch's memory).
 *
 * @param index the frame's index in the stream (stored as is).
 * @param time its presentation time in seconds.
 */
export function frameView(batch: FeatureBatch, i: number, index: number, time: number): FrameFeatures {
  if (!Number.isInteger(i) || i < 0 || i >= batch.count) throw new RangeError(`frame ${i} is outside the batch of ${batch.count}`);
  const scalars = {} as Record<ScalarName, number>;
  SCALAR_NAMES.forEach((name, k) => {
    scalars[name] = batch.scalars[i * SCALAR_COUNT + k]!;
  });
  return {
    index,
    time,
    scalars,
    hist: batch.hist.subarray(i * HIST_BINS, (i + 1) * HIST_BINS),
    hash: [batch.hash[i * HASH_WORDS]!, batch.hash[i * HASH_WORDS + 1]!],
    grid: batch.grid.subarray(i * GRID_SIZE, (i + 1) * GRID_SIZE),
  };
}
