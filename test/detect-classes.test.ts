/**
 * The failure classes of issue 8, one table row each, on synthetic feature series built from textured pictures
 * on the 16x9 colour-layout grid: fast montage, a flash through white, a cut right before a fade, long
 * dissolves under a static overlay, dissolves while both shots pan, and dark shots that are not fades.
 */
import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { detectBoundaries, resolveStandaloneDetectionOptions, type FeatureSeries } from '../src/detect/index.js';
import { detectWindowed, memorySource } from '../src/detect/windowed.js';
import { GRID_H, GRID_SIZE, GRID_W, HIST_BINS, SCALAR_COUNT, SCALAR_NAMES, type ScalarName } from '../src/features/types.js';

/** One frame: Y, Cb, Cr per grid cell (GRID_W x GRID_H cells, row-major). */
type Frame = Uint8Array;

const clamp = (v: number): number => Math.max(0, Math.min(255, Math.round(v)));

/** A textured picture, different for every `id`, seen through a camera shifted by `pan` cells to the right. */
function picture(id: number, pan = 0, gain = 1): Frame {
  const f = new Uint8Array(GRID_SIZE);
  for (let y = 0; y < GRID_H; y++) {
    for (let x = 0; x < GRID_W; x++) {
      const u = x + pan;
      const o = 3 * (y * GRID_W + x);
      f[o] = clamp(gain * (120 + 70 * Math.sin(0.55 * u * (1 + (id % 3) * 0.4) + 1.1 * y + id * 1.7) + 25 * Math.cos(0.9 * y - 0.3 * u + id)));
      f[o + 1] = clamp(128 + 30 * Math.sin(0.3 * u + id * 2.1));
      f[o + 2] = clamp(128 + 30 * Math.cos(0.4 * y + id * 0.9));
    }
  }
  return f;
}

/** A flat field of luma `level`. */
function field(level: number): Frame {
  const f = new Uint8Array(GRID_SIZE);
  for (let k = 0; k < GRID_SIZE; k += 3) [f[k], f[k + 1], f[k + 2]] = [level, 128, 128];
  return f;
}

/** (1 - t) a + t b. */
function mix(a: Frame, b: Frame, t: number): Frame {
  return a.map((v, k) => clamp((1 - t) * v + t * b[k]!));
}

/** `frame` with its bottom grid row replaced by a static white ticker bar with dark text blocks. */
function withTicker(frame: Frame): Frame {
  const f = Uint8Array.from(frame);
  for (let x = 0; x < GRID_W; x++) {
    const o = 3 * ((GRID_H - 1) * GRID_W + x);
    [f[o], f[o + 1], f[o + 2]] = [x % 3 === 0 ? 40 : 235, 128, 128];
  }
  return f;
}

/** A feature series from grid frames, with the scalars the detectors read derived from the grid. */
function seriesOf(frames: Frame[], rate = 25): FeatureSeries {
  const n = frames.length;
  const s: FeatureSeries = {
    count: n,
    times: Float64Array.from(frames, (_, i) => i / rate),
    frameRate: rate,
    scalars: new Float64Array(n * SCALAR_COUNT),
    hist: new Uint32Array(n * HIST_BINS),
    hash: new Uint32Array(n * 2),
    grid: new Uint8Array(n * GRID_SIZE),
  };
  const set = (i: number, name: ScalarName, v: number): void => {
    s.scalars[i * SCALAR_COUNT + SCALAR_NAMES.indexOf(name)] = v;
  };
  const cells = GRID_SIZE / 3;
  frames.forEach((f, i) => {
    s.grid.set(f, i * GRID_SIZE);
    let mean = 0;
    for (let k = 0; k < GRID_SIZE; k += 3) mean += f[k]!;
    mean /= cells;
    let variance = 0;
    for (let k = 0; k < GRID_SIZE; k += 3) variance += (f[k]! - mean) ** 2;
    set(i, 'mean_luma', mean);
    set(i, 'mean_rgb', mean);
    set(i, 'std_luma', Math.sqrt(variance / cells));
    for (let k = 0; k < GRID_SIZE; k += 3) s.hist[i * HIST_BINS + (f[k]! >> 2)]! += 1;
    if (i === 0) return;
    const p = frames[i - 1]!;
    let dl = 0;
    let dc = 0;
    for (let k = 0; k < GRID_SIZE; k += 3) {
      dl += Math.abs(f[k]! - p[k]!);
      dc += Math.abs(f[k + 1]! - p[k + 1]!) + Math.abs(f[k + 2]! - p[k + 2]!);
    }
    set(i, 'delta_lum', dl / cells);
    set(i, 'delta_hue', dc / cells);
    set(i, 'delta_sat', dc / cells);
  });
  return s;
}

/** `n` frames of picture `id`, optionally panning by `speed` cells per frame from `pan0`. */
const shot = (id: number, n: number, speed = 0, pan0 = 0): Frame[] => Array.from({ length: n }, (_, i) => picture(id, pan0 + speed * i));

/** A cross-dissolve of `n` frames from picture a to b, both panning at `speed` cells per frame. */
const dissolve = (a: number, b: number, n: number, speed = 0, pan0 = 0): Frame[] =>
  Array.from({ length: n }, (_, i) => mix(picture(a, pan0 + speed * i), picture(b, pan0 + speed * i), (i + 1) / (n + 1)));

/**
 * Boundaries of the one-pass driver, checked equal to the windowed driver's (small windows, so seams fall
 * inside these series): detectScenes runs the windowed one, and the filters after detection must be the same.
 */
const detect = (frames: Frame[], options: Record<string, unknown> = {}): { frame: number; kind: string; start_frame: number; end_frame: number }[] => {
  const series = seriesOf(frames);
  const resolved = resolveStandaloneDetectionOptions(options);
  const pick = ({ frame, kind, start_frame, end_frame }: { frame: number; kind: string; start_frame: number; end_frame: number }): { frame: number; kind: string; start_frame: number; end_frame: number } => ({ frame, kind, start_frame, end_frame });
  const once = detectBoundaries(series, resolved).boundaries.map(pick);
  const windowed = detectWindowed(memorySource(series), resolved, { coreFrames: 30, marginFrames: 80 }).boundaries.map(pick);
  assert.deepEqual(windowed, once, 'the windowed driver gives what one pass gives');
  return once;
};

suite('issue 8 failure classes (synthetic textured series, 25 fps)', () => {
  test('fast montage: every cut between 8-frame shots is found; an explicit 0.5 s minimum drops every other one', () => {
    const frames = [...shot(0, 40), ...shot(1, 8), ...shot(2, 8), ...shot(3, 8), ...shot(4, 8), ...shot(5, 40)];
    assert.deepEqual(detect(frames).map((b) => [b.frame, b.kind]), [[40, 'cut'], [48, 'cut'], [56, 'cut'], [64, 'cut'], [72, 'cut']]);
    assert.deepEqual(detect(frames, { minSceneLen: 0.5 }).map((b) => b.frame), [40, 56, 72]);
  });

  const flashes: { name: string; frames: Frame[]; expected: [number, string][] }[] = [
    { name: 'a flash that returns to the same picture is no boundary', frames: [...shot(0, 40), field(250), field(250), ...shot(0, 40)], expected: [] },
    { name: 'a camera flash that decays back to the same picture is no boundary', frames: [...shot(0, 40), field(250), mix(picture(0), field(250), 0.6), ...shot(0, 40)], expected: [] },
    { name: 'a flash through white from one shot to the next is one fade, at the new shot', frames: [...shot(0, 40), field(250), field(250), field(250), ...shot(1, 40)], expected: [[43, 'fade']] },
  ];
  for (const { name, frames, expected } of flashes) {
    test(name, () => {
      assert.deepEqual(detect(frames).map((b) => [b.frame, b.kind]), expected);
    });
  }

  test('a fade through black under a static ticker is one fade, not a cut or nothing', () => {
    const fadeOut = Array.from({ length: 8 }, (_, i) => mix(picture(1), field(0), (i + 1) / 8));
    const fadeIn = Array.from({ length: 8 }, (_, i) => mix(field(0), picture(2), (i + 1) / 9));
    const frames = [...shot(1, 40), ...fadeOut, field(0), ...fadeIn, ...shot(2, 40)].map(withTicker);
    const found = detect(frames);
    assert.deepEqual(found.map((b) => b.kind), ['fade'], JSON.stringify(found));
    assert.ok(found[0]!.frame >= 40 && found[0]!.frame <= 57, `fade at ${found[0]!.frame}`);
    // The same with the ticker all over the frame is no fade to black: the dark frame keeps its picture.
    const busy = (f: Frame): Frame => f.map((v, k) => (k % 3 === 0 && (k / 3) % 5 === 0 ? 200 : v));
    assert.deepEqual(detect([...shot(1, 40), ...fadeOut, field(0), ...fadeIn, ...shot(1, 40)].map(busy)).filter((b) => b.kind === 'fade'), []);
  });

  test('a flash through white under a static ticker is one fade at the new shot', () => {
    const frames = [...shot(0, 40), field(250), field(250), field(250), ...shot(1, 40)].map(withTicker);
    assert.deepEqual(detect(frames).map((b) => [b.frame, b.kind]), [[43, 'fade']]);
  });

  test('a cut followed within half a second by a fade through black gives two boundaries', () => {
    const fadeOut = Array.from({ length: 5 }, (_, i) => mix(picture(1), field(0), (i + 1) / 5));
    const fadeIn = Array.from({ length: 5 }, (_, i) => mix(field(0), picture(2), (i + 1) / 6));
    const frames = [...shot(0, 40), ...shot(1, 6), ...fadeOut, field(0), field(0), ...fadeIn, ...shot(2, 40)];
    const found = detect(frames);
    assert.deepEqual(found.map((b) => b.kind), ['cut', 'fade']);
    assert.equal(found[0]!.frame, 40);
    assert.ok(found[1]!.frame >= 46 && found[1]!.frame <= 58, `fade at ${found[1]!.frame}`);
  });

  const dissolves: { name: string; frames: Frame[]; span: [number, number] }[] = [
    { name: '1.5 s dissolve under a static ticker', frames: [...shot(0, 80), ...dissolve(0, 1, 37), ...shot(1, 80)].map(withTicker), span: [80, 116] },
    { name: '2.4 s dissolve', frames: [...shot(0, 80), ...dissolve(0, 1, 60), ...shot(1, 80)], span: [80, 139] },
    { name: '0.8 s dissolve while both shots pan', frames: [...shot(0, 60, 0.15), ...dissolve(0, 1, 20, 0.15, 9), ...shot(1, 60, 0.15, 12)], span: [60, 79] },
  ];
  for (const { name, frames, span } of dissolves) {
    // Known gap: the straddle/steadiness first pass compares frames without motion compensation, so a pan fast
    // enough to change the colour layout as much as the dissolve does keeps the ratio under its bound.
    const todo = name.includes('pan') ? 'both shots moving: needs motion-compensated differences (issue 8, class 4)' : undefined;
    test(`${name}: one dissolve inside its span`, { todo }, () => {
      const found = detect(frames);
      assert.equal(found.length, 1, JSON.stringify(found));
      assert.equal(found[0]!.kind, 'dissolve');
      assert.ok(found[0]!.frame >= span[0] && found[0]!.frame <= span[1], `boundary at ${found[0]!.frame}, span ${span.join('-')}`);
    });
  }

  test('a dark shot that keeps its contrast (a star field) is not a fade, nor is hue noise in it a cut', () => {
    const dark = (i: number): Frame => {
      const f = field(2);
      for (let k = 0; k < GRID_SIZE; k += 3 * 7) f[k] = 90 + ((i * 7 + k) % 40);
      return f;
    };
    const frames = [...shot(0, 40), ...Array.from({ length: 30 }, (_, i) => mix(picture(0), dark(i), Math.min(1, (i + 1) / 8))), ...Array.from({ length: 30 }, (_, i) => mix(dark(30 + i), picture(0), Math.min(1, (i + 1) / 8))), ...shot(0, 40)];
    assert.deepEqual(detect(frames).filter((b) => b.kind === 'fade'), []);
  });
});
