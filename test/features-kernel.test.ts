/**
 * The TypeScript feature kernel on rendered frames: values that can be checked by hand, and a literal
 * transcription of the feature specification (slow, obvious loops) that the kernel must match exactly.
 */
import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { allocBatch, computeFeaturesTS, cosTableTS, frameView } from '../src/features/kernel.js';
import { GRID_H, GRID_SIZE, GRID_W, HIST_BINS, SCALAR_COUNT, SCALAR_NAMES, type FeatureBatch, type ScalarName } from '../src/features/types.js';

type RGB = readonly [number, number, number];

function render(w: number, h: number, colour: (x: number, y: number) => RGB): Uint8Array {
  const frame = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) frame.set(colour(x, y), (y * w + x) * 3);
  }
  return frame;
}

const solid = (w: number, h: number, c: RGB): Uint8Array => render(w, h, () => c);

function concat(frames: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

/** Features of `frames`; with hasPrev the first frame is only the previous one. */
function features(frames: Uint8Array[], w: number, h: number, hasPrev = false): FeatureBatch {
  const count = frames.length - (hasPrev ? 1 : 0);
  const batch = allocBatch(count);
  computeFeaturesTS(concat(frames), w, h, count, hasPrev, batch.scalars, batch.hist, batch.hash, batch.grid);
  return batch;
}

function scalar(batch: FeatureBatch, i: number, name: ScalarName): number {
  return batch.scalars[i * SCALAR_COUNT + SCALAR_NAMES.indexOf(name)]!;
}

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 24;
  };
}

function randomFrame(w: number, h: number, seed: number): Uint8Array {
  const next = random(seed);
  return Uint8Array.from({ length: w * h * 3 }, next);
}

function popcount(v: number): number {
  let c = 0;
  for (let x = v >>> 0; x !== 0; x >>>= 1) c += x & 1;
  return c;
}

// ---------------------------------------------------------------------------------------------------------
// The specification, transcribed literally: one obvious loop per sentence, no shared structure with the kernel.

const floorDiv = (a: number, b: number): number => Math.floor(a / b);

function specFrame(rgb: Uint8Array, w: number, h: number) {
  const n = w * h;
  const Y: number[] = [], Cb: number[] = [], Cr: number[] = [], H: number[] = [], S: number[] = [], V: number[] = [];
  let sumR = 0, sumG = 0, sumB = 0;
  for (let i = 0; i < n; i++) {
    const R = rgb[3 * i]!, G = rgb[3 * i + 1]!, B = rgb[3 * i + 2]!;
    sumR += R;
    sumG += G;
    sumB += B;
    Y.push(floorDiv(77 * R + 150 * G + 29 * B + 128, 256));
    Cb.push(Math.min(255, Math.max(0, floorDiv(-43 * R - 85 * G + 128 * B + 128, 256) + 128)));
    Cr.push(Math.min(255, Math.max(0, floorDiv(128 * R - 107 * G - 21 * B + 128, 256) + 128)));
    const v = Math.max(R, G, B);
    const d = v - Math.min(R, G, B);
    V.push(v);
    S.push(v === 0 ? 0 : floorDiv(255 * d + floorDiv(v, 2), v));
    let hue = 0;
    if (d !== 0) {
      const [base, num] = v === R ? [0, G - B] : v === G ? [60, B - R] : [120, R - G];
      hue = base + floorDiv(60 * num + d, 2 * d);
      if (hue < 0) hue += 180;
      if (hue >= 180) hue -= 180;
    }
    H.push(hue);
  }
  const at = (x: number, y: number): number => Y[y * w + x]!;
  const ni = (w - 2) * (h - 2);
  const mag = new Array<number>(n).fill(0);
  let sumMag = 0;
  let sumLap = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const gx = at(x + 1, y - 1) + 2 * at(x + 1, y) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x - 1, y) - at(x - 1, y + 1);
      const gy = at(x - 1, y + 1) + 2 * at(x, y + 1) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x, y - 1) - at(x + 1, y - 1);
      mag[y * w + x] = Math.abs(gx) + Math.abs(gy);
      sumMag += Math.abs(gx) + Math.abs(gy);
      sumLap += Math.abs(4 * at(x, y) - at(x, y - 1) - at(x, y + 1) - at(x - 1, y) - at(x + 1, y));
    }
  }
  const T = Math.max(64, floorDiv(2 * sumMag, ni));
  const edge = (x: number, y: number): boolean => x > 0 && y > 0 && x < w - 1 && y < h - 1 && mag[y * w + x]! > T;
  let edges = 0;
  const dilated: boolean[] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (edge(x, y)) edges++;
      let any = false;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) any ||= edge(x + dx, y + dy);
      dilated.push(any);
    }
  }
  const sumY = Y.reduce((a, b) => a + b, 0);
  const sumY2 = Y.reduce((a, b) => a + b * b, 0);
  const mean = sumY / n;
  const hist = new Array<number>(HIST_BINS).fill(0);
  for (const y of Y) hist[y >> 2]!++;

  const range = (i: number, len: number, cells: number): [number, number] => {
    const a = floorDiv(i * len, cells);
    const b = floorDiv((i + 1) * len, cells);
    return [a, b > a ? b : a + 1];
  };
  const cellMean = (plane: number[], [x0, x1]: [number, number], [y0, y1]: [number, number]): number => {
    let sum = 0;
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += plane[y * w + x]!;
    const cnt = (x1 - x0) * (y1 - y0);
    return floorDiv(sum + floorDiv(cnt, 2), cnt);
  };
  const grid: number[] = [];
  for (let cy = 0; cy < GRID_H; cy++) {
    for (let cx = 0; cx < GRID_W; cx++) {
      for (const plane of [Y, Cb, Cr]) grid.push(cellMean(plane, range(cx, w, GRID_W), range(cy, h, GRID_H)));
    }
  }
  const P: number[][] = [];
  for (let i = 0; i < 32; i++) P.push(Array.from({ length: 32 }, (_, j) => cellMean(Y, range(j, w, 32), range(i, h, 32))));
  const C = (k: number, x: number): number => Math.round(Math.cos((Math.PI * (2 * x + 1) * k) / 64) * 4096);
  const D: number[] = [];
  for (let u = 0; u < 8; u++) {
    for (let v = 0; v < 8; v++) {
      let s = 0;
      for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) s += C(u, y) * C(v, x) * P[y]![x]!;
      D.push(s);
    }
  }
  const median = D.slice(1).sort((a, b) => a - b)[31]!;
  const hash = [0, 0];
  for (let i = 1; i < 64; i++) if (D[i]! > median) hash[i >> 5] = (hash[i >> 5]! | (1 << (31 - (i & 31)))) >>> 0;

  return {
    H, S, V, dilated,
    rest: {
      mean_luma: mean,
      std_luma: Math.sqrt(Math.max(0, sumY2 / n - mean * mean)),
      mean_rgb: (sumR + sumG + sumB) / (3 * n),
      edge_density: edges / n,
      sharpness: sumLap / ni,
    },
    hist, grid, hash,
  };
}

function spec(frames: Uint8Array[], w: number, h: number, hasPrev: boolean): FeatureBatch {
  const n = w * h;
  const count = frames.length - (hasPrev ? 1 : 0);
  const out = allocBatch(count);
  let prev: ReturnType<typeof specFrame> | undefined;
  frames.forEach((frame, k) => {
    const f = specFrame(frame, w, h);
    const i = k - (hasPrev ? 1 : 0);
    if (i >= 0) {
      let dh = 0, ds = 0, dv = 0, de = 0;
      if (prev !== undefined) {
        for (let p = 0; p < n; p++) {
          const a = Math.abs(f.H[p]! - prev.H[p]!);
          dh += Math.min(a, 180 - a);
          ds += Math.abs(f.S[p]! - prev.S[p]!);
          dv += Math.abs(f.V[p]! - prev.V[p]!);
          if (f.dilated[p] !== prev.dilated[p]) de++;
        }
      }
      const values: Record<ScalarName, number> = {
        delta_hue: dh / n, delta_sat: ds / n, delta_lum: dv / n, delta_edges: (255 * de) / n, ...f.rest,
      };
      SCALAR_NAMES.forEach((name, s) => (out.scalars[i * SCALAR_COUNT + s] = values[name]));
      out.hist.set(f.hist, i * HIST_BINS);
      out.hash.set(f.hash, i * 2);
      out.grid.set(f.grid, i * GRID_SIZE);
    }
    prev = f;
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------

suite('features: TypeScript kernel', () => {
  test('matches a literal transcription of the specification (tiny, odd and ordinary sizes)', () => {
    for (const [w, h] of [[8, 8], [13, 10], [17, 9], [40, 33], [64, 36]] as const) {
      for (const hasPrev of [false, true]) {
        const frames = [0, 1, 2].map((k) => randomFrame(w, h, w * 1000 + h * 10 + k));
        // Smooth content too, so that edges are sparse and the threshold is not the floor of 64.
        frames.push(render(w, h, (x, y) => [(x * 9) & 255, (y * 7 + x) & 255, x > w / 2 ? 200 : 20]));
        assert.deepStrictEqual(features(frames, w, h, hasPrev), spec(frames, w, h, hasPrev), `${w}x${h} hasPrev=${hasPrev}`);
      }
    }
  });

  test('identical frames have zero differences', () => {
    const frame = randomFrame(48, 27, 7);
    const batch = features([frame, frame, frame], 48, 27);
    for (const i of [0, 1, 2]) {
      for (const name of ['delta_hue', 'delta_sat', 'delta_lum', 'delta_edges'] as const) assert.equal(scalar(batch, i, name), 0, `${name} of frame ${i}`);
    }
  });

  test('the first frame of a stream has zero differences; hasPrev makes the extra frame the previous one', () => {
    const a = randomFrame(32, 18, 1);
    const b = randomFrame(32, 18, 2);
    const stream = features([a, b], 32, 18);
    const continued = features([a, b], 32, 18, true);
    assert.equal(scalar(stream, 0, 'delta_lum'), 0);
    assert.ok(scalar(stream, 1, 'delta_lum') > 0);
    assert.equal(continued.count, 1);
    assert.deepStrictEqual(continued.scalars, stream.scalars.slice(SCALAR_COUNT));
    assert.deepStrictEqual(continued.hash, stream.hash.slice(2));
  });

  test('black to white: delta_lum is 255, hue and saturation do not change', () => {
    const batch = features([solid(20, 10, [0, 0, 0]), solid(20, 10, [255, 255, 255])], 20, 10);
    assert.equal(scalar(batch, 1, 'delta_lum'), 255);
    assert.equal(scalar(batch, 1, 'delta_sat'), 0);
    assert.equal(scalar(batch, 1, 'delta_hue'), 0);
    assert.equal(scalar(batch, 0, 'mean_luma'), 0);
    assert.equal(scalar(batch, 1, 'mean_luma'), 255);
    assert.equal(scalar(batch, 1, 'mean_rgb'), 255);
  });

  test('hue difference is circular: hue 175 against hue 5 is 10, not 170', () => {
    // (255, 40, 0): V = R, h = floorDiv(60 * 40 + 255, 510) = 5.  (255, 0, 40): floorDiv(-2400 + 255, 510) + 180 = 175.
    const batch = features([solid(16, 9, [255, 0, 40]), solid(16, 9, [255, 40, 0])], 16, 9);
    assert.equal(scalar(batch, 1, 'delta_hue'), 10);
    assert.equal(scalar(batch, 1, 'delta_sat'), 0);
    assert.equal(scalar(batch, 1, 'delta_lum'), 0);
  });

  test('a grey ramp 0..255 fills every histogram bin equally, with exact mean and deviation and no edges', () => {
    const h = 8;
    const batch = features([render(256, h, (x) => [x, x, x])], 256, h);
    assert.deepStrictEqual([...batch.hist], new Array(HIST_BINS).fill(4 * h));
    assert.equal(scalar(batch, 0, 'mean_luma'), 127.5);
    assert.equal(scalar(batch, 0, 'std_luma'), Math.sqrt((256 * 256 - 1) / 12));
    assert.equal(scalar(batch, 0, 'edge_density'), 0); // Sobel gives 8 per pixel, under the floor of 64
    assert.equal(scalar(batch, 0, 'sharpness'), 0); // a linear ramp has no curvature
  });

  test('a vertical step edge: threshold, density, dilated-mask difference and sharpness by hand', () => {
    const w = 32;
    const h = 16;
    const step = (at: number): Uint8Array => render(w, h, (x) => (x >= at ? [255, 255, 255] : [0, 0, 0]));
    const batch = features([step(16), step(20)], w, h);
    // Columns 15 and 16 of rows 1..14 have |gx| = 4 x 255 = 1020; T = max(64, 2 x 28560 / 420) = 136.
    assert.equal(scalar(batch, 0, 'edge_density'), 28 / 512);
    // The Laplacian is 255 on those 28 pixels: 28 x 255 / 420.
    assert.equal(scalar(batch, 0, 'sharpness'), 17);
    // Dilated masks: columns 14..17 then 18..21, every row (dilation reaches the border rows): 128 pixels differ.
    assert.equal(scalar(batch, 1, 'delta_edges'), (255 * 128) / 512);
  });

  test('hash: identical frames hash the same, a frame and its negative are far apart', () => {
    const next = random(42);
    const blocks = Array.from({ length: 64 }, next);
    // 8x8 grey blocks on 64x64: every thumbnail cell is uniform, so the negative's AC terms are exactly negated.
    const frame = (negative: boolean): Uint8Array =>
      render(64, 64, (x, y) => {
        const v = blocks[(y >> 3) * 8 + (x >> 3)]!;
        const g = negative ? 255 - v : v;
        return [g, g, g];
      });
    const batch = features([frame(false), frame(false), frame(true)], 64, 64);
    assert.equal(batch.hash[0], batch.hash[2]);
    assert.equal(batch.hash[1], batch.hash[3]);
    assert.equal(batch.hash[0]! >>> 31, 0, 'bit 0 (the DC term) is always 0');
    const distance = popcount(batch.hash[0]! ^ batch.hash[4]!) + popcount(batch.hash[1]! ^ batch.hash[5]!);
    assert.ok(distance > 20, `hamming distance ${distance}`);
  });

  test("the grid of a solid red frame is red's Y, Cb, Cr in every cell (Cr clamped to 255)", () => {
    // Y = (77 x 255 + 128) >> 8 = 77; Cb = ((-43 x 255 + 128) >> 8) + 128 = 85; Cr = (32768 >> 8) + 128 = 256 -> 255.
    for (const [w, h] of [[50, 20], [8, 8]] as const) {
      const batch = features([solid(w, h, [255, 0, 0])], w, h);
      const expected: number[] = [];
      for (let c = 0; c < GRID_W * GRID_H; c++) expected.push(77, 85, 255);
      assert.deepStrictEqual([...batch.grid], expected, `${w}x${h}`);
    }
  });

  test('grid cells start at floor(i x w / 16): a black | white split at x = 20 of 40', () => {
    const batch = features([render(40, 18, (x) => (x >= 20 ? [255, 255, 255] : [0, 0, 0]))], 40, 18);
    for (let cy = 0; cy < GRID_H; cy++) {
      for (let cx = 0; cx < GRID_W; cx++) assert.equal(batch.grid[(cy * GRID_W + cx) * 3], cx >= 8 ? 255 : 0, `cell ${cx},${cy}`);
    }
  });

  test('rejects bad arguments with TypeError and RangeError', () => {
    const b = allocBatch(1);
    const frame = new Uint8Array(8 * 8 * 3);
    const call = (over: Partial<Record<string, unknown>>) => () =>
      (computeFeaturesTS as (...args: unknown[]) => void)(
        over['frames'] ?? frame, over['width'] ?? 8, over['height'] ?? 8, over['count'] ?? 1, over['hasPrev'] ?? false,
        over['scalars'] ?? b.scalars, over['hist'] ?? b.hist, over['hash'] ?? b.hash, over['grid'] ?? b.grid,
      );
    assert.throws(call({ width: 7 }), new RangeError('width must be an integer between 8 and 4096'));
    assert.throws(call({ height: 4097 }), new RangeError('height must be an integer between 8 and 4096'));
    assert.throws(call({ width: '8' }), new TypeError('width must be a number'));
    assert.throws(call({ count: 1.5 }), new RangeError('count must be an integer between 0 and 2147483647'));
    assert.throws(call({ hasPrev: 1 }), new TypeError('hasPrev must be a boolean'));
    assert.throws(call({ frames: new Uint8ClampedArray(192) }), new TypeError('frames must be a Uint8Array'));
    assert.throws(call({ hasPrev: true }), new RangeError('frames must have length 384 but has 192'));
    assert.throws(call({ scalars: new Float64Array(8) }), new RangeError('scalars must have length 9 but has 8'));
    assert.throws(call({ hash: new Int32Array(2) }), new TypeError('hash must be a Uint32Array'));
  });

  test('allocBatch puts the four arrays on one ArrayBuffer; frameView names the scalars', () => {
    const batch = features([randomFrame(16, 16, 3), randomFrame(16, 16, 4)], 16, 16);
    const buffer = batch.scalars.buffer;
    for (const array of [batch.hist, batch.hash, batch.grid]) assert.equal(array.buffer, buffer);
    assert.equal(buffer.byteLength, 2 * (SCALAR_COUNT * 8 + HIST_BINS * 4 + 2 * 4 + GRID_SIZE));
    const view = frameView(batch, 1, 41, 1.5);
    assert.equal(view.index, 41);
    assert.equal(view.time, 1.5);
    assert.deepEqual(Object.keys(view.scalars), [...SCALAR_NAMES]);
    assert.equal(view.scalars.delta_lum, scalar(batch, 1, 'delta_lum'));
    assert.deepEqual(view.hash, [batch.hash[2], batch.hash[3]]);
    assert.equal(view.hist.length, HIST_BINS);
    assert.equal(view.grid.length, GRID_SIZE);
    assert.throws(() => frameView(batch, 2, 0, 0), RangeError);
  });

  test('the cosine table is round(cos(pi (2x + 1) k / 64) x 4096)', () => {
    const table = cosTableTS();
    assert.equal(table.length, 256);
    assert.equal(table[0], 4096);
    assert.equal(table[32], 4091); // k = 1, x = 0: cos(pi / 64) x 4096 = 4091.07
    assert.equal(table[32 + 31], -4091);
  });
});
