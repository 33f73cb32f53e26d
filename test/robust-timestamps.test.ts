/**
 * Issue 12, item 6 (and the float noise of item 8): timestamps that go backwards must not give scenes that end
 * before they start, zero-length scenes or invalid WebVTT, and a scene whose keyframe cannot be decoded is
 * kept with a failure instead of failing the whole analysis. The fixture is an FLV whose second shot's video
 * tags have their timestamps moved 2.5 s back (FLV tags are plain bytes, and ffmpeg 4.1 has no setts filter).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, suite, test } from 'node:test';
import { analyzeFile } from '../src/api/analyze.js';
import { detectScenes } from '../src/api/detect.js';
import { monotoneTimes, roundTime, scenesFromBoundaries } from '../src/detect/scenes.js';
import { toVtt } from '../src/format/vtt.js';
import { FrameTimes } from '../src/media/decode.js';
import { ffmpeg, tempDir } from './helpers/clips.js';

const dir = tempDir('scenescope-timestamps-');
const clip = path.join(dir, 'backwards.flv');

/** Rewrite an FLV so that video tags at or after `fromMs` are stamped `backMs` earlier. */
function shiftFlvVideoTags(file: string, fromMs: number, backMs: number): number {
  const b = readFileSync(file);
  let pos = 9 + 4;
  let shifted = 0;
  while (pos + 11 <= b.length) {
    const type = b[pos]!;
    const size = b.readUIntBE(pos + 1, 3);
    const ts = b.readUIntBE(pos + 4, 3) | (b[pos + 7]! << 24);
    if (type === 9 && ts >= fromMs) {
      const moved = ts - backMs;
      b.writeUIntBE(moved & 0xffffff, pos + 4, 3);
      b[pos + 7] = (moved >>> 24) & 0xff;
      shifted++;
    }
    pos += 11 + size + 4;
  }
  writeFileSync(file, b);
  return shifted;
}

/** Every rule a scene list must keep, whatever the timestamps were. */
function assertMonotone(scenes: readonly { start_time: number; end_time: number; start_frame: number; end_frame: number }[]): void {
  scenes.forEach((s, k) => {
    assert.ok(Number.isFinite(s.start_time) && Number.isFinite(s.end_time), `scene ${k} has finite times`);
    assert.ok(s.end_time > s.start_time, `scene ${k} ends (${s.end_time}) after it starts (${s.start_time})`);
    assert.ok(s.end_frame > s.start_frame, `scene ${k} has frames`);
    if (k > 0) assert.equal(s.start_time, scenes[k - 1]!.end_time, `scene ${k} starts where scene ${k - 1} ends`);
    assert.equal(s.start_time, roundTime(s.start_time), 'rounded to the microsecond');
  });
}

suite('timestamps that go backwards give monotone scenes', () => {
  before(async () => {
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=25:duration=3', '-f', 'lavfi', '-i', 'smptebars=size=160x90:rate=25:duration=3', '-filter_complex', '[0:v][1:v]concat=n=2:v=1[v]', '-map', '[v]', '-c:v', 'flv1', '-g', '25', clip]);
    assert.equal(shiftFlvVideoTags(clip, 3000, 2500), 75);
  });

  test('FrameTimes: backwards and repeated pts become a strictly increasing clock, rounded to microseconds', () => {
    const times = new FrameTimes();
    times.timeBase = [1, 1000];
    times.frameDuration = 0.04;
    for (const pts of [1000, 1040, 1080, 500, 540, 1200, 1200, 1240]) times.push(pts);
    assert.deepEqual([...times.seconds()], [0, 0.04, 0.08, 0.12, 0.16, 0.2, 0.24, 0.28]);
    assert.equal(times.span(), 0.28);
    const noisy = new FrameTimes();
    noisy.timeBase = [1001, 30000];
    for (let i = 0; i < 300; i++) noisy.push(i);
    assert.equal(noisy.seconds()[300 - 1], 9.976633);
  });

  test('scenesFromBoundaries: backwards times and duplicate boundaries give no inverted or empty scene', () => {
    const times = Float64Array.from([0, 0.04, 0.08, -2.44, -2.4, 0.2, 0.24, 0.24, 0.3, 0.34]);
    const b = (frame: number) => ({ frame, time: times[frame]!, kind: 'cut' as const, start_frame: frame, end_frame: frame, confidence: 1, detector: 'x' });
    const scenes = scenesFromBoundaries([b(3), b(3), b(7), b(6)], times, 25);
    assert.deepEqual(scenes.map((s) => [s.start_frame, s.end_frame]), [[0, 3], [3, 6], [6, 7], [7, 10]]);
    assertMonotone(scenes);
    assert.deepEqual([...monotoneTimes(Float64Array.from([0, 1, 2]), 25)], [0, 1, 2]);
    assert.equal(scenesFromBoundaries([], Float64Array.from([0, 5, 10.000000000000002]), 1)[0]!.end_time, 15);
  });

  test('detect on the clip: monotone scenes and valid WebVTT', async () => {
    const result = await detectScenes(clip);
    assert.equal(result.frame_count, 150);
    assert.ok(result.scenes.length >= 2, `${result.scenes.length} scenes`);
    assertMonotone(result.scenes);
    const vtt = toVtt(result);
    const cues = [...vtt.matchAll(/^(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})$/gm)].map((m) => [Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4]) / 1000, Number(m[5]) * 3600 + Number(m[6]) * 60 + Number(m[7]) + Number(m[8]) / 1000]);
    assert.equal(cues.length, result.scenes.length);
    cues.forEach(([start, end], k) => {
      assert.ok(end! > start!, `cue ${k}: ${start} --> ${end}`);
      if (k > 0) assert.ok(start! >= cues[k - 1]![1]!, `cue ${k} does not start before the previous one ends`);
    });
  });

  test('analyze completes; a scene whose keyframe cannot be decoded keeps the failure', async () => {
    // An empty models folder: the analysis runs without models (a folder that does not exist is an error).
    mkdirSync(path.join(dir, 'no-models'), { recursive: true });
    const result = await analyzeFile(clip, { modelsDir: path.join(dir, 'no-models'), ocr: false, caption: false, thumbnailsDir: path.join(dir, 'thumbs') });
    assertMonotone(result.scenes);
    for (const scene of result.scenes) {
      assert.ok(typeof scene.description === 'string' && scene.description.length > 0);
      for (const f of scene.failures) {
        assert.equal(f.step, 'keyframe');
        assert.equal(f.code, 'DECODE_FAILED');
        assert.equal(scene.thumbnail_path, null);
      }
    }
    assert.ok(result.scenes.some((s) => s.failures.length === 0), 'the scenes before the jump are enriched');
  });
});
