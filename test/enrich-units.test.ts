/**
 * Enrichment, the pure parts: keyframe choice, text utilities, the confidence score, and the model
 * post-processing on synthetic outputs. No model, no ffmpeg. (The description composer: enrich-describe.test.ts.)
 */
import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { sceneConfidence } from '../src/enrich/confidence.js';
import { frameArgs, parsePpmStream } from '../src/enrich/frames.js';
import { chooseKeyframe, sampleTimes } from '../src/enrich/keyframe.js';
import { cosine, l2normalise, softmax, topLabels } from '../src/enrich/labels.js';
import { countObjects, decodeYolox, nms, type Detection } from '../src/enrich/objects.js';
import { boxesFromProbabilityMap, detectorSize, joinLineBoxes } from '../src/enrich/ocr-detect.js';
import { cropVariants, normalisePolarity } from '../src/enrich/ocr.js';
import { characterErrorRate, cleanLine, editDistance, isJunkLine, mergeLines } from '../src/enrich/text.js';
import type { EnrichFrame } from '../src/enrich/types.js';
import { colourLayout, colourName, COLOUR_LAYOUT_DIMENSION, dominantColours, steadyMotion } from '../src/enrich/visual.js';
import { resolveEnricherOptions } from '../src/enrich/index.js';

function frames(count: number, f: (i: number) => Partial<EnrichFrame> = () => ({})): EnrichFrame[] {
  return Array.from({ length: count }, (_, i) => ({ time: i / 25, mean_luma: 120, std_luma: 40, sharpness: 10, delta_lum: 0.5, ...f(i) }));
}

suite('enrich: pure parts', () => {
  test('the keyframe is the sharpest candidate near the middle, away from the ends', () => {
    const fs = frames(100, (i) => ({ sharpness: i >= 54 && i <= 58 ? 30 : i < 10 || i > 90 ? 100 : 10 }));
    const k = chooseKeyframe(fs);
    assert.ok(k.index >= 54 && k.index <= 58, `index ${k.index}`);
    assert.equal(k.time, k.index / 25);
  });

  test('black and flash frames are not chosen even when sharpest', () => {
    const black = frames(60, (i) => (i === 30 ? { mean_luma: 5, sharpness: 99 } : {}));
    assert.notEqual(chooseKeyframe(black).index, 30);
    const flash = frames(60, (i) => (i === 30 ? { mean_luma: 240, sharpness: 99 } : {}));
    assert.notEqual(chooseKeyframe(flash).index, 30);
  });

  test('a scene without frames gets the middle of its time range', () => {
    assert.deepEqual(chooseKeyframe([], { start_time: 2, end_time: 4 }).time, 3);
  });

  test('samples skip frames identical to the keyframe, keep frames that changed', () => {
    const still = frames(75, () => ({ delta_lum: 0.1 }));
    const k = chooseKeyframe(still);
    assert.deepEqual(sampleTimes(still, k), [k.time]);
    const moving = frames(75, () => ({ delta_lum: 3 }));
    const km = chooseKeyframe(moving);
    const times = sampleTimes(moving, km);
    assert.equal(times.length, 3);
    assert.ok(times[0]! < km.time && times[2]! > km.time);
  });

  test('edit distance and character error rate', () => {
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(characterErrorRate('Hello  world', 'Hello world'), 0);
    assert.equal(characterErrorRate('abcd', 'abxd'), 0.25);
    assert.equal(characterErrorRate('line one\nline two', 'line one line two'), 0);
  });

  test('junk lines are dropped: single characters, symbols, low confidence', () => {
    assert.equal(isJunkLine('a', 95), true);
    assert.equal(isJunkLine('|~=-_:;', 95), true);
    assert.equal(isJunkLine('Storm warning', 40), true);
    assert.equal(isJunkLine('l i I l', 90), true);
    assert.equal(isJunkLine('Storm warning', 90), false);
    assert.equal(cleanLine('| EXIT 24 |'), 'EXIT 24');
  });

  test('the same line in several frames is merged, best reading kept, reading order restored', () => {
    const merged = mergeLines([
      { text: 'Traffic is slow', confidence: 70, top: 0.8, left: 0.3, height: 0.05 },
      { text: 'Live from Berlin', confidence: 90, top: 0.7, left: 0.05, height: 0.05 },
      { text: 'Traffic is sIow', confidence: 60, top: 0.8, left: 0.3, height: 0.05 },
      { text: 'Traffic is slow!', confidence: 92, top: 0.8, left: 0.3, height: 0.05 },
      { text: 'EXIT 24', confidence: 88, top: 0.1, left: 0.6, height: 0.05 },
    ]);
    assert.deepEqual(
      merged.map((m) => m.text),
      ['EXIT 24', 'Live from Berlin', 'Traffic is slow!'],
    );
    assert.equal(merged[2]!.seen, 3);
  });

  test('confidence combines boundary and model evidence, penalises failures, stays in 0..1', () => {
    assert.equal(sceneConfidence({ boundary: 1, evidence: [1], failedSteps: 0 }), 1);
    assert.equal(sceneConfidence({ boundary: 1, evidence: [], failedSteps: 0 }), 0.75);
    assert.equal(sceneConfidence({ boundary: 0.5, evidence: [0.9, 0.7], failedSteps: 0 }), 0.65);
    assert.equal(sceneConfidence({ boundary: 1, evidence: [1], failedSteps: 1 }), 0.85);
    assert.equal(sceneConfidence({ boundary: 7, evidence: [-3], failedSteps: 0 }), 0.5);
  });

  test('DB post-processing finds one box per text blob, unclipped, and joins a split line', () => {
    const W = 200;
    const H = 60;
    const prob = new Float32Array(W * H);
    const fill = (x0: number, y0: number, x1: number, y1: number, v: number): void => {
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) prob[y * W + x] = v;
    };
    fill(20, 20, 80, 30, 0.9);
    fill(90, 20, 150, 30, 0.9);
    fill(170, 50, 172, 52, 0.95); // too small
    fill(5, 5, 15, 12, 0.35); // above the pixel threshold, below the box threshold
    const boxes = boxesFromProbabilityMap(prob, W, H);
    assert.equal(boxes.length, 2);
    const d = (60 * 10 * 1.5) / (2 * 70);
    assert.ok(Math.abs(boxes[0]!.x0 - (20 - d)) < 1e-6 && Math.abs(boxes[0]!.y1 - (30 + d)) < 1e-6);
    const lines = joinLineBoxes(boxes);
    assert.equal(lines.length, 1);
    assert.deepEqual(detectorSize(1280, 720, 960), { width: 960, height: 544 });
    assert.deepEqual(detectorSize(1280, 720, 736), { width: 736, height: 416 });
    assert.deepEqual(detectorSize(640, 360, 736), { width: 640, height: 352 });
    assert.deepEqual(detectorSize(1280, 720), { width: 640, height: 352 }, 'the default side is 640');
  });

  test('crop variants: white outlined text becomes black on white', () => {
    const W = 20;
    const H = 10;
    const gray = new Uint8Array(W * H).fill(120);
    for (let x = 5; x < 15; x++) gray[5 * W + x] = 255;
    const variants = cropVariants({ gray, width: W, height: H });
    assert.equal(variants.length, 2);
    const v = variants[1]!;
    assert.deepEqual([v.width, v.height], [W, H]);
    assert.equal(v.gray[5 * W + 7], 0);
    assert.equal(v.gray[0], 255);
    const dark = new Uint8Array(W * H).fill(30);
    assert.equal(normalisePolarity(dark, W, H), true);
    assert.equal(dark[0], 225);
  });

  test('YOLOX decoding: grid offsets, strides, thresholds and NMS', () => {
    const labels = ['person', 'dog'];
    const rows = 52 * 52 + 26 * 26 + 13 * 13;
    const out = new Float32Array(rows * 7);
    const set = (row: number, v: number[]): void => out.set(v, row * 7);
    // Stride 8, cell (gx 10, gy 5): centre (10.5 * 8, 5.5 * 8), size e^1 * 8.
    set(5 * 52 + 10, [0.5, 0.5, 1, 1, 0.9, 0.95, 0.1]);
    set(5 * 52 + 11, [0.4, 0.5, 1, 1, 0.8, 0.9, 0.1]); // overlaps: suppressed
    set(52 * 52 + 3, [0.5, 0.5, 0, 0, 0.5, 0.2, 0.6]); // 0.5 * 0.6 = 0.3 < 0.4: dropped
    set(52 * 52 + 26 * 26 + 13 * 2 + 4, [0, 0, 0.5, 0.5, 0.9, 0.05, 0.9]); // stride 32, a dog
    const found = decodeYolox(out, labels);
    assert.equal(found.length, 2);
    const person = found.find((d) => d.label === 'person')!;
    assert.ok(Math.abs((person.x0 + person.x1) / 2 - 84) < 1e-4);
    assert.ok(Math.abs(person.x1 - person.x0 - Math.E * 8) < 1e-4);
    const dog = found.find((d) => d.label === 'dog')!;
    assert.ok(Math.abs((dog.y0 + dog.y1) / 2 - 64) < 1e-4);
    const det = (label: string, x: number, score: number): Detection => ({ label, classId: label === 'person' ? 0 : 1, score, x0: x, y0: 0, x1: x + 10, y1: 10 });
    assert.equal(nms([det('person', 0, 0.9), det('person', 1, 0.8), det('dog', 1, 0.7)]).length, 2);
    const counts = countObjects([[det('person', 0, 0.9), det('person', 50, 0.7)], [det('person', 0, 0.8)], [det('dog', 0, 0.5)]]);
    assert.deepEqual(counts[0], { label: 'person', count: 2, score: 0.9, frames: 2 });
    assert.equal(counts[1]!.label, 'dog');
  });

  test('softmax, labels over frames, L2 and cosine', () => {
    const p = softmax([1, 2, 3]);
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-6);
    const labels = topLabels([new Float32Array([0.7, 0.3]), new Float32Array([0.5, 0.5])], ['a', 'b'], 0.2);
    assert.deepEqual(labels.map((l) => l.label), ['a', 'b']);
    const v = l2normalise(new Float32Array([3, 4]));
    assert.ok(Math.abs(v[0]! - 0.6) < 1e-6);
    assert.ok(Math.abs(cosine([1, 0], [1, 0]) - 1) < 1e-9);
  });

  test('colour names and the colour-layout descriptor', () => {
    assert.equal(colourName(10, 10, 10), 'black');
    assert.equal(colourName(250, 250, 250), 'white');
    assert.equal(colourName(128, 128, 128), 'grey');
    assert.equal(colourName(220, 30, 30), 'red');
    assert.equal(colourName(40, 180, 60), 'green');
    assert.equal(colourName(30, 60, 200), 'blue');
    assert.equal(colourName(120, 70, 30), 'brown');
    const green = { data: new Uint8Array(64 * 36 * 3).map((_, i) => (i % 3 === 1 ? 180 : 40)), width: 64, height: 36, channels: 3 as const };
    assert.deepEqual(dominantColours(green), ['green']);
    assert.equal(colourLayout(green).length, COLOUR_LAYOUT_DIMENSION);
    assert.equal(steadyMotion(frames(30, () => ({ delta_lum: 4 }))), true);
    assert.equal(steadyMotion(frames(30, () => ({ delta_lum: 0.2 }))), false);
  });

  test('PPM stream parsing and the frame decoding arguments', () => {
    const img = (w: number, h: number, v: number): Buffer => Buffer.concat([Buffer.from(`P6\n${w} ${h}\n255\n`), Buffer.alloc(w * h * 3, v)]);
    const images = parsePpmStream(Buffer.concat([img(2, 1, 7), img(3, 2, 9)]));
    assert.deepEqual(
      images.map((i) => [i.width, i.height, i.data[0]]),
      [
        [2, 1, 7],
        [3, 2, 9],
      ],
    );
    assert.throws(() => parsePpmStream(Buffer.from('P6\n4 4\n255\n\x00')), /truncated/);
    const args = frameArgs('/v/a b.mp4', [10, 11], 0.04);
    assert.equal(args[args.indexOf('-ss') + 1], '9.980000');
    assert.equal(args[args.indexOf('-frames:v') + 1], '2');
    assert.equal(args[args.indexOf('-i') + 1], 'file:/v/a b.mp4');
    assert.match(args[args.indexOf('-vf') + 1]!, /^select='gte\(t\\,0\.000000\)\*not\(gte\(prev_t\\,0\.000000\)\)\+gte\(t\\,1\.000000\)/);
  });

  test('options are validated once with the house message format', () => {
    assert.throws(() => resolveEnricherOptions({ concurency: 2 }), { code: 'INVALID_OPTION', message: 'Unknown option "concurency" in enricher options; did you mean "concurrency"?' });
    assert.throws(() => resolveEnricherOptions({ thumbnails: { dir: '/tmp/x', width: 5 } }), {
      message: 'Expected integer between 16 and 4096 for thumbnails.width but received 5 of type number',
    });
    const r = resolveEnricherOptions({ thumbnails: { dir: 'thumbs' } });
    assert.equal(r.thumbnails?.format, 'jpeg');
    assert.equal(r.thumbnails?.width, 320);
  });
});
