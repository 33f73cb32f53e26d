import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { detectBoundaries, resolveStandaloneDetectionOptions, type FeatureSeries } from '../src/detect/index.js';
import { confidence } from '../src/detect/confidence.js';
import { formatTime, scenesFromBoundaries } from '../src/detect/scenes.js';
import { GRID_SIZE, HIST_BINS, SCALAR_COUNT, SCALAR_NAMES, type ScalarName } from '../src/features/types.js';

/** A synthetic series: each frame is a flat picture of luma `level[i]` and colour `tone[i]`. */
function series(levels: number[], tones: number[] = levels.map(() => 0), rate = 25): FeatureSeries {
  const n = levels.length;
  const s: FeatureSeries = {
    count: n,
    times: Float64Array.from(levels, (_, i) => i / rate),
    frameRate: rate,
    scalars: new Float64Array(n * SCALAR_COUNT),
    hist: new Uint32Array(n * HIST_BINS),
    hash: new Uint32Array(n * 2),
    grid: new Uint8Array(n * GRID_SIZE),
  };
  const set = (i: number, name: ScalarName, v: number): void => {
    s.scalars[i * SCALAR_COUNT + SCALAR_NAMES.indexOf(name)] = v;
  };
  for (let i = 0; i < n; i++) {
    const l = levels[i]!;
    set(i, 'mean_luma', l);
    set(i, 'mean_rgb', l);
    set(i, 'std_luma', l > 240 || l < 12 ? 2 : 30);
    s.hist[i * HIST_BINS + Math.min(63, l >> 2)] = 1000;
    for (let k = 0; k < GRID_SIZE; k += 3) {
      s.grid[i * GRID_SIZE + k] = l;
      s.grid[i * GRID_SIZE + k + 1] = 128 + tones[i]!;
      s.grid[i * GRID_SIZE + k + 2] = 128 - tones[i]!;
    }
    if (i > 0) {
      const dl = Math.abs(l - levels[i - 1]!);
      const dt = Math.abs(tones[i]! - tones[i - 1]!);
      set(i, 'delta_hue', dt);
      set(i, 'delta_sat', dt);
      set(i, 'delta_lum', dl);
    }
  }
  return s;
}

const run = (s: FeatureSeries, options: Record<string, unknown> = {}): { frame: number; kind: string }[] =>
  detectBoundaries(s, resolveStandaloneDetectionOptions(options)).boundaries.map(({ frame, kind }) => ({ frame, kind }));

const flat = (n: number, level: number, tone = 0): { levels: number[]; tones: number[] } => ({ levels: Array(n).fill(level), tones: Array(n).fill(tone) });
const join = (...parts: { levels: number[]; tones: number[] }[]): [number[], number[]] => [parts.flatMap((p) => p.levels), parts.flatMap((p) => p.tones)];

suite('detection core (pure, synthetic feature series)', () => {
  test('a hard cut is found at the first frame of the new scene', () => {
    const [l, t] = join(flat(40, 80, 0), flat(40, 160, 60));
    assert.deepEqual(run(series(l, t)), [{ frame: 40, kind: 'cut' }]);
  });

  const detectors: [string, number][] = [['content', 40], ['adaptive', 40], ['histogram', 40], ['scenescope', 40]];
  for (const [name, frame] of detectors) {
    test(`the ${name} detector finds the same cut`, () => {
      const [l, t] = join(flat(40, 80, 0), flat(40, 200, 60));
      assert.deepEqual(run(series(l, t), { detector: name }).map((b) => b.frame), [frame]);
    });
  }

  test('steady fast motion (high scores everywhere) does not fire the default detector', () => {
    const levels = Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? 60 : 100));
    assert.deepEqual(run(series(levels)), []);
    assert.ok(run(series(levels), { detector: 'content', threshold: 10, minSceneLen: 0, flashSuppression: false }).length > 10, 'a plain content detector fires on every frame');
  });

  test('a cut that scores under the content threshold but stands out is found (soft cut, dark shot)', () => {
    const [l, t] = join(flat(30, 20, 0), flat(30, 36, 20));
    assert.deepEqual(run(series(l, t)), [{ frame: 30, kind: 'cut' }]);
    assert.deepEqual(run(series(l, t), { detector: 'content' }), []);
  });

  test('the minimum scene length is in seconds, the same at 10 and 60 fps', () => {
    for (const rate of [10, 60]) {
      const [l, t] = join(flat(rate, 50, 0), flat(rate / 2, 150, 40), flat(rate, 250, 80));
      assert.deepEqual(run(series(l, t, rate), { minSceneLen: 0.4 }).map((b) => b.frame), [rate, rate + rate / 2], `${rate} fps, 0.4 s`);
      assert.deepEqual(run(series(l, t, rate), { minSceneLen: 0.6 }).map((b) => b.frame), [rate], `${rate} fps, 0.6 s`);
    }
  });

  test('a one-to-three-frame flash is not a cut; without suppression it would be', () => {
    for (const length of [1, 2, 3]) {
      const [l, t] = join(flat(40, 70, 10), flat(length, 250, 0), flat(40, 70, 10));
      assert.deepEqual(run(series(l, t)), [], `${length}-frame flash`);
      assert.ok(run(series(l, t), { flashSuppression: false, minSceneLen: 0 }).length >= 1);
    }
  });

  test('a fade through black is one fade boundary in the middle of the black run, spanning the ramps', () => {
    const ramp = (from: number, to: number, n: number): number[] => Array.from({ length: n }, (_, i) => Math.round(from + ((to - from) * (i + 1)) / n));
    const levels = [...Array(40).fill(120), ...ramp(120, 0, 12), ...Array(6).fill(0), ...ramp(0, 120, 12), ...Array(40).fill(120)];
    const result = detectBoundaries(series(levels), resolveStandaloneDetectionOptions({}));
    assert.equal(result.boundaries.length, 1);
    const b = result.boundaries[0]!;
    assert.equal(b.kind, 'fade');
    assert.ok(b.start_frame <= 41 && b.end_frame >= 68, `span ${b.start_frame}-${b.end_frame}`);
    assert.ok(b.frame > 50 && b.frame < 60, `boundary at ${b.frame}`);
  });

  test('fades at the very start and end of a video are openings and closings, not boundaries', () => {
    const up = Array.from({ length: 12 }, (_, i) => 10 * (i + 1));
    const levels = [...Array(10).fill(0), ...up, ...Array(60).fill(120), ...up.reverse(), ...Array(10).fill(0)];
    assert.deepEqual(run(series(levels)), []);
  });

  test('a white run between two different pictures is a fade through white; a flat white field is not', () => {
    const up = { levels: Array.from({ length: 12 }, (_, i) => 100 + 13 * (i + 1)), tones: Array(12).fill(0) };
    const down = { levels: [...up.levels].reverse(), tones: Array(12).fill(0) };
    const downToNew = { levels: down.levels, tones: down.tones.map((_, i) => Math.round((50 * (i + 1)) / 12)) };
    const [l, t] = join(flat(40, 100, 0), up, flat(15, 252, 0), downToNew, flat(40, 100, 50));
    assert.deepEqual(run(series(l, t)).map((b) => b.kind), ['fade']);
    const same = join(flat(40, 100, 0), up, flat(15, 252, 0), down, flat(40, 100, 0));
    assert.deepEqual(run(series(same[0], same[1])), [], 'the picture comes back: an exposure blow-out, not a fade');
  });

  test('confidence is 0.5 at the threshold and rises to ~1 at twice it', () => {
    assert.equal(confidence(27, 27), 0.5);
    assert.equal(confidence(54, 27), 0.975);
    assert.equal(confidence(13.5, 27), 0.25);
    assert.equal(confidence(1000, 27), 1);
  });

  test('scenes: contiguous, exclusive ends, formatted times', () => {
    const times = Float64Array.from({ length: 100 }, (_, i) => i / 25);
    const scenes = scenesFromBoundaries([{ frame: 40, time: 1.6, kind: 'cut', start_frame: 40, end_frame: 40, confidence: 1, detector: 'x' }], times, 25);
    assert.deepEqual(scenes.map((s) => [s.start_frame, s.end_frame, s.start_time, s.end_time]), [[0, 40, 0, 1.6], [40, 100, 1.6, 4]]);
    assert.equal(scenes[1]!.time_range_formatted, '00:00:01.600-00:00:04.000');
    assert.equal(formatTime(3723.0015), '01:02:03.002');
  });

  test('options are validated at the boundary', () => {
    assert.throws(() => resolveStandaloneDetectionOptions({ detektor: 'x' }), /Unknown option "detektor" in detection options; did you mean "detector"\?/);
    assert.throws(() => resolveStandaloneDetectionOptions({ minSceneLen: -1 }), /Expected number between 0 and 3600 for minSceneLen but received -1 of type number/);
  });
});
