import { suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateClip, summarize, scores, checkTargets, canMatch } from '../src/bench/metrics.js';
import type { TruthTransition, TruthDistractor, DetectedBoundary } from '../src/bench/types.js';

const cut = (frame: number): TruthTransition => ({ kind: 'cut', start_frame: frame, end_frame: frame, frame });
const soft = (kind: TruthTransition['kind'], start: number, end: number, frame = Math.floor((start + end) / 2)): TruthTransition => ({ kind, start_frame: start, end_frame: end, frame });
const det = (frame: number, kind = 'cut'): DetectedBoundary => ({ frame, kind });

suite('benchmark metrics', () => {
  test('perfect detections score 1 at every tolerance', () => {
    const truth = [cut(10), soft('dissolve', 40, 55, 48), soft('fade', 80, 95, 88), soft('wipe', 120, 130, 125)];
    const detections = truth.map((t) => det(t.frame, t.kind));
    for (const tolerance of [0, 1, 2]) {
      const s = summarize([evaluateClip(truth, detections, [], { tolerance })]);
      assert.deepEqual([s.all.precision, s.all.recall, s.all.f1], [1, 1, 1]);
      assert.equal(s.kinds.dissolve.kind_correct, 1);
    }
  });

  test('a cut one frame late misses at tolerance 0 and matches at tolerance 1', () => {
    const e0 = evaluateClip([cut(100)], [det(101)], [], { tolerance: 0 });
    assert.deepEqual(e0.all, { tp: 0, fp: 1, fn: 1 });
    const e1 = evaluateClip([cut(100)], [det(101)], [], { tolerance: 1 });
    assert.deepEqual(e1.all, { tp: 1, fp: 0, fn: 0 });
    assert.equal(e1.cut_offset_sum, 1);
  });

  test('matching is one-to-one: the nearer of two detections takes the cut, the other is a false positive', () => {
    const e = evaluateClip([cut(100)], [det(99), det(100)], [], { tolerance: 2 });
    assert.deepEqual(e.all, { tp: 1, fp: 1, fn: 0 });
    assert.deepEqual(e.matches, [{ detection: 1, truth: 0, distance: 0 }]);
    assert.deepEqual(e.false_positives, [0]);
  });

  test('greedy matching by distance pairs neighbours without double use', () => {
    // Candidates at distance 1: (11,10), (11,12), (13,12). Greedy takes (11,10) first, then (13,12).
    const e = evaluateClip([cut(10), cut(12)], [det(11), det(13)], [], { tolerance: 1 });
    assert.deepEqual(e.all, { tp: 2, fp: 0, fn: 0 });
    assert.deepEqual(e.matches.map((m) => [m.detection, m.truth]), [[0, 0], [1, 1]]);
  });

  test('a gradual transition matches anywhere inside its span widened by 2 frames, at any tolerance', () => {
    const dissolve = soft('dissolve', 100, 120, 110);
    assert.equal(canMatch(98, dissolve, 0), true);
    assert.equal(canMatch(122, dissolve, 0), true);
    assert.equal(canMatch(97, dissolve, 2), false);
    assert.equal(canMatch(123, dissolve, 2), false);
    assert.deepEqual(evaluateClip([dissolve], [det(121, 'dissolve')], [], { tolerance: 0 }).all, { tp: 1, fp: 0, fn: 0 });
    assert.deepEqual(evaluateClip([dissolve], [det(97, 'dissolve')], [], { tolerance: 2 }).all, { tp: 0, fp: 1, fn: 1 });
  });

  test('per kind: recall counts a found transition whatever its label; a false positive is charged to its label', () => {
    const truth = [soft('dissolve', 100, 120, 110), cut(200), soft('wipe', 300, 310, 305)];
    const e = evaluateClip(truth, [det(110, 'cut'), det(200, 'cut'), det(400, 'fade')], [], { tolerance: 1 });
    assert.deepEqual(e.kinds.dissolve, { truth: 1, tp: 1, fp: 0, fn: 0, kind_correct: 0 });
    assert.deepEqual(e.kinds.cut, { truth: 1, tp: 1, fp: 0, fn: 0, kind_correct: 1 });
    assert.deepEqual(e.kinds.wipe, { truth: 1, tp: 0, fp: 0, fn: 1, kind_correct: 0 });
    assert.equal(e.kinds.fade.fp, 1);
    const s = summarize([e]);
    assert.equal(s.kinds.fade.precision, 0);
    assert.equal(s.kinds.cut.precision, 1);
  });

  test('gradual labels count as "gradual" when the dataset does not name gradual kinds', () => {
    const e = evaluateClip([soft('gradual', 50, 60)], [det(55, 'dissolve'), det(300, 'wipe')], [], { tolerance: 1 });
    assert.equal(e.kinds.gradual.kind_correct, 1);
    assert.equal(e.kinds.gradual.fp, 1);
    assert.equal(e.kinds.wipe.fp, 0);
  });

  test('false positives on distractors are counted per distractor kind, others are not', () => {
    const distractors: TruthDistractor[] = [
      { kind: 'flash', start_frame: 200, end_frame: 201 },
      { kind: 'flash', start_frame: 400, end_frame: 402 },
      { kind: 'pan', start_frame: 500, end_frame: 540 },
    ];
    const e = evaluateClip([cut(100)], [det(100), det(203), det(201), det(520), det(700)], distractors, { tolerance: 1 });
    assert.deepEqual(e.all, { tp: 1, fp: 4, fn: 0 });
    assert.deepEqual(e.distractors.flash, { count: 2, false_boundaries: 2, fired: 1 });
    assert.deepEqual(e.distractors.pan, { count: 1, false_boundaries: 1, fired: 1 });
    const s = summarize([e]);
    assert.deepEqual(s.distractor_total, { count: 3, false_boundaries: 3, fired: 2 });
    assert.equal(s.false_per_distractor, 1);
  });

  test('summaries add counts over clips before taking ratios (micro-average)', () => {
    const a = evaluateClip([cut(10), cut(20), cut(30)], [det(10), det(20), det(30)], [], { tolerance: 0 });
    const b = evaluateClip([cut(10)], [det(50)], [], { tolerance: 0 });
    const s = summarize([a, b]);
    assert.deepEqual([s.all.tp, s.all.fp, s.all.fn], [3, 1, 1]);
    assert.equal(s.all.precision, 0.75);
    assert.equal(s.all.recall, 0.75);
    assert.equal(s.clips, 2);
    assert.deepEqual(scores({ tp: 0, fp: 0, fn: 0 }), { tp: 0, fp: 0, fn: 0, precision: 0, recall: 0, f1: 0 });
  });

  test('the issue targets are checked on F1, gradual recall and false boundaries per distractor', () => {
    const truth = [cut(10), soft('dissolve', 40, 50), soft('fade', 80, 90), soft('wipe', 120, 130)];
    const distractors: TruthDistractor[] = Array.from({ length: 10 }, (_, i) => ({ kind: 'shake' as const, start_frame: 1000 + i * 50, end_frame: 1010 + i * 50 }));
    const good = summarize([evaluateClip(truth, truth.map((t) => det(t.frame)), distractors, { tolerance: 1 })]);
    assert.ok(checkTargets(good).every((c) => c.pass));
    const noisy = summarize([evaluateClip(truth, [...truth.map((t) => det(t.frame)), det(1005), det(1055)], distractors, { tolerance: 1 })]);
    const failed = checkTargets(noisy).filter((c) => !c.pass).map((c) => c.name);
    assert.deepEqual(failed, ['F1', 'false boundaries per distractor']);
  });
});
