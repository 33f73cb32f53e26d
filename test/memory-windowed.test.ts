/**
 * Flat memory on long videos: the features live off the heap (features/series-file.ts) and detection runs in
 * bounded overlapping windows (detect/windowed.ts). The windowed result must be identical to one pass over the
 * whole series, for every detector, with seams placed at and around every kind of transition.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { suite, test, before } from 'node:test';
import { detectScenes, computeFeatureSeries, resolveDetectOptions } from '../src/api/detect.js';
import { readStats, readStatsInto, writeStats, writeStatsWindowed, type StatsIdentity } from '../src/api/stats.js';
import { createDetector, detectBoundaries, DETECTOR_NAMES, resolveStandaloneDetectionOptions } from '../src/detect/index.js';
import type { FeatureSeries } from '../src/detect/series.js';
import { detectWindowed, memorySource, windowPlan } from '../src/detect/windowed.js';
import { SeriesFile, TrackFile } from '../src/features/series-file.js';
import { GRID_SIZE, HIST_BINS, SCALAR_COUNT } from '../src/features/types.js';
import { probe } from '../src/media/probe.js';
import { tempDir } from './helpers/clips.js';
import { RATE, transitionsClip } from './helpers/transitions.js';


function sameDetection(series: FeatureSeries, options: ReturnType<typeof resolveStandaloneDetectionOptions>, coreFrames: number): { windows: number; longest: number } {
  const single = detectBoundaries(series, options);
  const collected = single.scores.map(() => new Float64Array(series.count));
  const windowed = detectWindowed(memorySource(series), options, {
    coreFrames,
    // Small groups of cut stretches for flash suppression, so the clip's cuts go through several groups.
    flashBatchFrames: coreFrames,
    onScores: (start, _end, tracks) => tracks.forEach((t, k) => collected[k]!.set(t, start)),
  });
  const label = `${options.detector} flash=${options.flashSuppression} min=${options.minSceneLen} core=${coreFrames}`;
  assert.deepEqual(windowed.boundaries, single.boundaries, label);
  assert.deepEqual(windowed.scenes, single.scenes, label);
  assert.equal(windowed.threshold, single.threshold, label);
  assert.deepEqual(windowed.scoreTracks, single.scores.map((t) => ({ name: t.name, threshold: t.threshold })), label);
  single.scores.forEach((t, k) => assert.deepEqual(collected[k], t.values, `${label} track ${t.name}`));
  return { windows: windowed.windows, longest: windowed.longestWindow };
}

suite('windowed detection equals one pass', () => {
  let series: FeatureSeries;
  before(async () => {
    const dir = tempDir();
    const file = path.join(dir, 'transitions.mp4');
    await transitionsClip(file);
    const probed = await probe(file);
    series = (await computeFeatureSeries(probed, resolveDetectOptions({}))).series;
  });

  test('the clip has boundaries of every kind for the default detector (so the comparison means something)', () => {
    const kinds = new Set(detectBoundaries(series, resolveStandaloneDetectionOptions({})).boundaries.map((b) => b.kind));
    for (const kind of ['cut', 'fade', 'dissolve', 'wipe'] as const) assert.ok(kinds.has(kind), `a ${kind} is found (found ${[...kinds].join(', ')})`);
  });

  test('every detector, with and without the filters, with seams swept across the clip', () => {
    const { marginFrames } = windowPlan(RATE);
    let many = 0;
    // "learned" reads its model's output, which detectScenes attaches to each window; a bare series has none.
    for (const detector of DETECTOR_NAMES.filter((d) => d !== 'learned')) {
      for (const flashSuppression of [true, false]) {
        for (const minSceneLen of [0.5, 0]) {
          const options = resolveStandaloneDetectionOptions({ detector, flashSuppression, minSceneLen });
          for (const core of [29, 77]) {
            const { windows } = sameDetection(series, options, core);
            if (windows > 3) many++;
          }
        }
      }
    }
    assert.ok(many > 0, 'seams were placed (windows were small enough)');
    assert.ok(marginFrames < 225, 'the black hold is longer than the margin');
  });

  test('seams at every frame near each transition (core sizes 1 frame apart)', () => {
    const options = resolveStandaloneDetectionOptions({});
    for (let core = 20; core <= 44; core++) sameDetection(series, options, core);
  });

  test('a black run longer than the margin grows its window until the run has ended', () => {
    const { longest } = sameDetection(series, resolveStandaloneDetectionOptions({}), 30);
    assert.ok(longest > 225, `the window holding the 9 s black hold spans it (longest ${longest} frames)`);
    const content = sameDetection(series, resolveStandaloneDetectionOptions({ detector: 'content' }), 30);
    assert.ok(content.longest < 30 + 2 * windowPlan(RATE).marginFrames + 1, 'a detector without fade runs keeps windows bounded');
  });

  test('a custom fade threshold (fade detector) moves the seams with it', () => {
    for (const threshold of [5, 40]) sameDetection(series, resolveStandaloneDetectionOptions({ detector: 'fade', threshold }), 40);
  });

  test('detectors are pure: a detector run twice over the same window gives the same output', () => {
    const d = createDetector('scenescope');
    assert.deepEqual(d.detect(series).candidates, d.detect(series).candidates);
  });
});

suite('off-heap series file', () => {
  function randomSeries(n: number, seed: number): FeatureSeries {
    let x = seed;
    const next = (): number => ((x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const s: FeatureSeries = { count: n, times: new Float64Array(n), frameRate: 30, scalars: new Float64Array(n * SCALAR_COUNT), hist: new Uint32Array(n * HIST_BINS), hash: new Uint32Array(n * 2), grid: new Uint8Array(n * GRID_SIZE) };
    for (let i = 0; i < n; i++) s.times[i] = i / 30 + next() * 1e-3;
    s.scalars.forEach((_, i) => (s.scalars[i] = next() * 255));
    s.hist.forEach((_, i) => (s.hist[i] = Math.floor(next() * 2 ** 32)));
    s.hash.forEach((_, i) => (s.hash[i] = Math.floor(next() * 2 ** 32)));
    s.grid.forEach((_, i) => (s.grid[i] = Math.floor(next() * 256)));
    return s;
  }

  test('frames appended in batches read back bit-identical, in any window', () => {
    const s = randomSeries(1000, 7);
    const file = new SeriesFile(30);
    try {
      for (let at = 0; at < s.count; at += 300) {
        const end = Math.min(s.count, at + 300);
        file.appendBatch({ count: end - at, scalars: s.scalars.subarray(at * SCALAR_COUNT, end * SCALAR_COUNT), hist: s.hist.subarray(at * HIST_BINS, end * HIST_BINS), hash: s.hash.subarray(at * 2, end * 2), grid: s.grid.subarray(at * GRID_SIZE, end * GRID_SIZE) });
      }
      file.setTimes(s.times.slice());
      const whole = file.read(0, file.count);
      assert.deepEqual(whole, s);
      const part = file.read(257, 711);
      assert.deepEqual(part, memorySource(s).read(257, 711));
      assert.equal(file.read(990, 2000).count, 10, 'a window past the end is cut at the end');
    } finally {
      file.close();
    }
    assert.throws(() => file.read(0, 1), { code: 'INTERNAL' });
  });

  test('window() reads what read() reads, into the same buffers each time (a window is valid until the next one)', () => {
    const s = randomSeries(9000, 11);
    const file = new SeriesFile(30);
    try {
      for (let at = 0; at < s.count; at += 1000) {
        const end = Math.min(s.count, at + 1000);
        file.appendBatch({ count: end - at, scalars: s.scalars.subarray(at * SCALAR_COUNT, end * SCALAR_COUNT), hist: s.hist.subarray(at * HIST_BINS, end * HIST_BINS), hash: s.hash.subarray(at * 2, end * 2), grid: s.grid.subarray(at * GRID_SIZE, end * GRID_SIZE) });
      }
      file.setTimes(s.times.slice());
      // Windows past the read slice (4096 frames), shorter ones after longer ones, and one that grows the buffers.
      const spans: [number, number][] = [[0, 5000], [100, 133], [4000, 9000], [8999, 9000], [0, 9000], [2000, 6100]];
      let grid: ArrayBufferLike | undefined;
      let reused = 0;
      for (const [a, b] of spans) {
        const w = file.window(a, b);
        assert.deepEqual(w, file.read(a, b), `window ${a}-${b}`);
        assert.deepEqual(w, memorySource(s).read(a, b), `window ${a}-${b} holds the appended frames`);
        if (w.grid.buffer === grid) reused++;
        grid = w.grid.buffer;
      }
      assert.ok(reused >= spans.length - 2, `windows share their buffers (${reused} of ${spans.length - 1} reused the last one's)`);
      const first = file.window(0, 10);
      const kept = first.grid.slice();
      file.window(5000, 5010);
      assert.notDeepEqual(first.grid, kept, 'the next window overwrites the last one (so callers must copy what they keep)');
    } finally {
      file.close();
    }
    assert.throws(() => file.window(0, 1), { code: 'INTERNAL' });
  });

  test('setTimes refuses a count that does not match', () => {
    const file = new SeriesFile(25);
    try {
      assert.throws(() => file.setTimes(new Float64Array(3)), { code: 'INTERNAL' });
    } finally {
      file.close();
    }
  });

  test('stats written window by window are byte-identical to stats written whole, and read back the same', async () => {
    const dir = tempDir();
    const s = randomSeries(700, 3);
    const identity: StatsIdentity = { format: 'scenescope-stats', version: 1, file_size: 123, mtime_ms: 456, analysis: '192x108', frame_rate: 30 };
    const scores = [{ name: 'a', values: s.scalars.slice(0, 700), threshold: 1 }, { name: 'b', values: s.scalars.slice(700, 1400), threshold: 2 }];
    const whole = path.join(dir, 'whole.csv');
    const windowed = path.join(dir, 'windowed.csv');
    await writeStats(whole, s, identity, scores);
    const tracks = new TrackFile(2);
    tracks.append(scores.map((t) => t.values), 700);
    await writeStatsWindowed(windowed, { count: 700, read: memorySource(s).read, trackNames: ['a', 'b'], readTracks: (a, b) => tracks.read(a, b) }, identity, 97);
    tracks.close();
    assert.equal(readFileSync(windowed, 'utf8'), readFileSync(whole, 'utf8'));
    const back = await readStatsInto(windowed, identity, (rate) => new SeriesFile(rate));
    assert.ok(back !== null);
    try {
      assert.deepEqual(back.read(0, back.count), await readStats(whole, identity));
    } finally {
      back.close();
    }
    assert.equal(await readStatsInto(windowed, { ...identity, file_size: 1 }, (rate) => new SeriesFile(rate)), null, 'stats of another file are not used');
  });
});

suite('detectScenes reads its features in windows', () => {
  test('its boundaries equal one pass over its features, and --stats round-trips', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'clip.mp4');
    await transitionsClip(file);
    const stats = path.join(dir, 'clip.stats.csv');
    const first = await detectScenes(file, { statsFile: stats });
    const single = detectBoundaries(first.features, resolveStandaloneDetectionOptions({}));
    assert.deepEqual(first.boundaries, single.boundaries);
    assert.deepEqual(first.scenes, single.scenes);
    assert.deepEqual(first.scores, single.scores);
    assert.deepEqual(first.readFeatures(100, 140), memorySource(first.features).read(100, 140));
    const again = await detectScenes(file, { statsFile: stats });
    assert.equal(again.featureSource, 'stats');
    assert.deepEqual(again.boundaries, first.boundaries);
    first.release();
    again.release();
    assert.throws(() => again.readFeatures(0, 1), { code: 'INTERNAL' }, 'released results hold no file');
  });
});
