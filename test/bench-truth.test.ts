import { suite, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { parseTruthJson, readDataset } from '../src/bench/annotations.js';
import { evaluateClip, summarize, checkTargets } from '../src/bench/metrics.js';
import { runBenchCommand, type BenchDetect } from '../src/cli/bench-command.js';
import type { CliIO } from '../src/cli/io.js';
import type { DetectedBoundary, TruthTransition } from '../src/bench/types.js';

const REAL = path.resolve('..', 'shared', 'media', 'real');

function capture(): { io: CliIO; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const stdout = new Writable({ write(chunk, _e, cb) { out += String(chunk); cb(); } });
  const stderr = new Writable({ write(chunk, _e, cb) { err += String(chunk); cb(); } });
  return { io: { stdout, stderr, env: {} }, out: () => out, err: () => err };
}

/** A truth.json in the layout of ../shared/media/real, with a cut tolerance of 2 to prove it is read. */
const TRUTH = {
  about: 'test',
  matching: { cut_tolerance_frames: 2, gradual_tolerance_frames: 3, one_to_one: true },
  clips: [
    {
      file: 'a.mp4', role: 'transitions', frames: 200, fps: 25,
      transitions: [
        { kind: 'cut', start_frame: 50, end_frame: 50 },
        { kind: 'dissolve', start_frame: 100, end_frame: 120 },
        { kind: 'fade', start_frame: 5, end_frame: 12, uncertain: true },
      ],
      non_transitions: [
        { start_frame: 140, end_frame: 160, what: 'a caption fades in' },
        { start_frame: 170, end_frame: 180, what: 'a whip pan', uncertain: true },
      ],
    },
    { file: 'neg.mp4', role: 'negative', frames: 100, fps: 25, transitions: [], non_transitions: [] },
  ],
};

const cut = (frame: number): TruthTransition => ({ kind: 'cut', start_frame: frame, end_frame: frame, frame });
const det = (frame: number, kind = 'cut', span?: [number, number]): DetectedBoundary => (span === undefined ? { frame, kind } : { frame, kind, start_frame: span[0], end_frame: span[1] });

let dir = '';

suite('truth.json datasets', () => {
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'scenescope-truth-'));
    await writeFile(path.join(dir, 'truth.json'), JSON.stringify(TRUTH));
    // readDataset only pairs names; the fake detector below never opens the videos.
    await writeFile(path.join(dir, 'a.mp4'), '');
    await writeFile(path.join(dir, 'neg.mp4'), '');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('parseTruthJson reads the matching block, kinds, uncertain flags, non-transitions and negative clips', () => {
    const { value, warnings } = parseTruthJson(TRUTH);
    assert.deepEqual(warnings, []);
    assert.deepEqual(value.matching, { cut_tolerance_frames: 2, gradual_tolerance_frames: 3, one_to_one: true });
    const [a, neg] = value.clips;
    assert.deepEqual(a!.transitions.map((t) => [t.kind, t.start_frame, t.end_frame, t.frame, t.uncertain === true]), [
      ['fade', 5, 12, 9, true],
      ['cut', 50, 50, 50, false],
      ['dissolve', 100, 120, 110, false],
    ]);
    assert.deepEqual(a!.distractors.map((d) => [d.kind, d.start_frame, d.end_frame, d.uncertain === true]), [
      ['non_transition', 170, 180, true],
      ['non_transition', 140, 160, false],
    ]);
    assert.equal(neg!.role, 'negative');
    assert.deepEqual(neg!.distractors.map((d) => [d.kind, d.start_frame, d.end_frame]), [['negative', 0, 99]]);
  });

  test('parseTruthJson rejects a file without clips and a matching rule that is not one-to-one', () => {
    assert.throws(() => parseTruthJson({ matching: {} }), /has no "clips" array/);
    assert.throws(() => parseTruthJson({ matching: { one_to_one: false }, clips: [] }), /only matches one to one/);
    assert.throws(() => parseTruthJson({ matching: { cut_tolerance_frames: -1 }, clips: [] }), /cut_tolerance_frames must be an integer 0-100/);
    const bad = parseTruthJson({ clips: [{ file: 'x.mp4', transitions: [{ kind: 'zoom', start_frame: 1, end_frame: 2 }] }] });
    assert.match(bad.warnings[0]!, /transitions\[0\] is not \{kind: cut\|dissolve\|fade\|wipe/);
  });

  test('readDataset picks the truth format by itself when the folder holds truth.json', async () => {
    const entries = await readDataset(dir, 'auto');
    assert.deepEqual(entries.map((e) => [e.name, e.truth.length, e.distractors.length, e.frame_count, e.frame_rate]), [
      ['a', 3, 2, 200, 25],
      ['neg', 0, 1, 100, 25],
    ]);
    assert.equal(entries[0]!.matching?.cut_tolerance_frames, 2);
  });

  test('uncertain transitions are matched but neither hits nor misses, unless scored', () => {
    const truth = [{ ...cut(10), uncertain: true }, cut(50)];
    const ignored = evaluateClip(truth, [det(10), det(50)], [], { tolerance: 1 });
    assert.deepEqual(ignored.all, { tp: 1, fp: 0, fn: 0 });
    assert.deepEqual(ignored.uncertain, { truth: 1, found: 1 });
    const missed = evaluateClip(truth, [det(50)], [], { tolerance: 1 });
    assert.deepEqual(missed.all, { tp: 1, fp: 0, fn: 0 });
    assert.deepEqual(missed.uncertain, { truth: 1, found: 0 });
    const scored = evaluateClip(truth, [det(50)], [], { tolerance: 1, uncertainTruth: 'score' });
    assert.deepEqual(scored.all, { tp: 1, fp: 0, fn: 1 });
  });

  test('a false positive inside an uncertain non-transition is excused only when asked, and only inside the span', () => {
    const spans = [{ kind: 'non_transition' as const, start_frame: 100, end_frame: 110, uncertain: true }, { kind: 'non_transition' as const, start_frame: 200, end_frame: 210 }];
    const detections = [det(105), det(111), det(205)];
    const strict = evaluateClip([], detections, spans, { tolerance: 1 });
    assert.deepEqual(strict.all, { tp: 0, fp: 3, fn: 0 });
    const lenient = evaluateClip([], detections, spans, { tolerance: 1, excuseUncertain: true });
    assert.deepEqual(lenient.all, { tp: 0, fp: 2, fn: 0 });
    assert.deepEqual(lenient.excused, [0]);
    assert.equal(summarize([lenient]).excused, 1);
  });

  test('any frame of a detected span matches a gradual transition (README rule); a cut only by its frame', () => {
    const dissolve: TruthTransition = { kind: 'dissolve', start_frame: 100, end_frame: 120, frame: 110 };
    // The span 80-99 reaches into 100-120 widened by 2; its frame (85) alone would not.
    assert.deepEqual(evaluateClip([dissolve], [det(85, 'dissolve', [80, 99])], [], { tolerance: 1 }).all, { tp: 1, fp: 0, fn: 0 });
    assert.deepEqual(evaluateClip([dissolve], [det(85, 'dissolve', [80, 99])], [], { tolerance: 1, matchSpans: false }).all, { tp: 0, fp: 1, fn: 1 });
    assert.deepEqual(evaluateClip([dissolve], [det(85, 'dissolve', [80, 97])], [], { tolerance: 1 }).all, { tp: 0, fp: 1, fn: 1 });
    assert.deepEqual(evaluateClip([cut(100)], [det(95, 'dissolve', [90, 100])], [], { tolerance: 1 }).all, { tp: 0, fp: 1, fn: 1 });
  });

  test('closest pairs first: a span covering the truth frame beats a point two frames off', () => {
    const dissolve: TruthTransition = { kind: 'dissolve', start_frame: 100, end_frame: 120, frame: 110 };
    const e = evaluateClip([dissolve], [det(108), det(100, 'dissolve', [100, 118])], [], { tolerance: 1 });
    assert.deepEqual(e.matches, [{ detection: 1, truth: 0, distance: 0 }]);
    assert.deepEqual(e.false_positives, [0]);
  });

  test('kind accuracy is the share of matches whose label agrees', () => {
    const truth: TruthTransition[] = [cut(10), { kind: 'wipe', start_frame: 50, end_frame: 60, frame: 55 }];
    const s = summarize([evaluateClip(truth, [det(10, 'cut'), det(55, 'cut')], [], { tolerance: 1 })]);
    assert.equal(s.kind_accuracy, 0.5);
  });

  test('issue 8 targets: real footage needs F1 >= 0.92 and precision >= 0.95', () => {
    const truth = Array.from({ length: 20 }, (_, i) => cut(10 + i * 10));
    const s = summarize([evaluateClip(truth, [...truth.slice(0, 19).map((t) => det(t.frame)), det(500)], [], { tolerance: 1 })]);
    assert.deepEqual(checkTargets(s, 'issue8-real').map((c) => [c.name, c.pass]), [['F1', true], ['precision', true]]);
    const s2 = summarize([evaluateClip(truth, [...truth.map((t) => det(t.frame)), det(500), det(600)], [], { tolerance: 1 })]);
    assert.deepEqual(checkTargets(s2, 'issue8-real').map((c) => [c.name, c.pass]), [['F1', true], ['precision', false]]);
  });

  test('scenescope bench on a truth.json folder: dataset tolerance, per-clip table, negatives and the uncertain option', async () => {
    const detect: BenchDetect = async (file) => {
      if (file.endsWith('neg.mp4')) return { frame_count: 100, frame_rate: 25, boundaries: [{ frame: 40, kind: 'cut' }] };
      // 52 is two frames late: a hit only because truth.json says cuts match within 2.
      return { frame_count: 200, frame_rate: 25, boundaries: [det(9, 'fade'), det(52), det(115, 'dissolve'), det(175)] };
    };
    const c = capture();
    assert.equal(await runBenchCommand([dir], c.io, { detect, signal: new AbortController().signal }), 0, c.err());
    const out = c.out();
    assert.match(out, /matching: cuts within 2 frame\(s\), gradual transitions inside their span \+-3/);
    assert.match(out, /uncertain transitions: 1 left out of the counts \(1 found\)/);
    assert.match(out, /^a +2 +2 +1 +0 +0\.667 +1\.000 +0\.800$/m);
    assert.match(out, /^neg +0 +0 +1 +0 /m);
    assert.match(out, /^negative +1 +1 +1$/m);
    assert.match(out, /targets \(issue8-real\)/);
    const j = capture();
    assert.equal(await runBenchCommand([dir, '--json', '--excuse-uncertain'], j.io, { detect, signal: new AbortController().signal }), 0, j.err());
    const lines = j.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    const headline = lines.find((l) => l.type === 'summary' && l.headline === true)!;
    assert.equal(headline.tolerance, 2);
    assert.deepEqual([headline.all.tp, headline.all.fp, headline.all.fn, headline.excused], [2, 1, 0, 1]);
    assert.deepEqual(lines.find((l) => l.type === 'clip' && l.name === 'a')!.excused, [175]);
  });

  test('the shared real-footage truth.json reads as its README describes it', { skip: existsSync(path.join(REAL, 'truth.json')) ? false : `${REAL}/truth.json is absent` }, async () => {
    const { value, warnings } = parseTruthJson(JSON.parse(await readFile(path.join(REAL, 'truth.json'), 'utf8')));
    assert.deepEqual(warnings, []);
    assert.equal(value.clips.length, 20);
    const kinds: Record<string, number> = {};
    for (const c of value.clips) for (const t of c.transitions) kinds[t.kind] = (kinds[t.kind] ?? 0) + 1;
    assert.deepEqual(kinds, { cut: 34, fade: 5, wipe: 4, dissolve: 1 });
    assert.equal(value.clips.filter((c) => c.role === 'negative').length, 8);
  });
});
