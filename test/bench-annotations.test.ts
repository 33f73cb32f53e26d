import { suite, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readDataset, parseShotList, shotsToTransitions, pairsToTransitions, parseAutoShotLabels, parseCutCsv, annotationKey } from '../src/bench/annotations.js';
import { ScenescopeError } from '../src/errors.js';

let root = '';

async function put(file: string, text = ''): Promise<void> {
  const full = path.join(root, file);
  await mkdir(path.dirname(full), { recursive: true });
  await writeFile(full, text);
}

suite('annotation readers', () => {
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'scenescope-annotations-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('a shot list gives cuts between adjacent shots and gradual spans over the frames between shots', () => {
    const shots = parseShotList('0\t99\n100 199\n\n205,300\n301 400 extra\n');
    assert.deepEqual(shots.value, [[0, 99], [100, 199], [205, 300], [301, 400]]);
    assert.deepEqual(shotsToTransitions(shots.value), [
      { kind: 'cut', start_frame: 100, end_frame: 100, frame: 100 },
      { kind: 'gradual', start_frame: 200, end_frame: 204, frame: 202 },
      { kind: 'cut', start_frame: 301, end_frame: 301, frame: 301 },
    ]);
    assert.deepEqual(shotsToTransitions([[0, 99], [100, 199]], 1)[0], { kind: 'cut', start_frame: 101, end_frame: 101, frame: 101 });
  });

  test('ClipShots pairs: [a, a+1] is a cut at a+1, a wider pair a gradual span strictly between', () => {
    const t = pairsToTransitions([[311, 334], [0, 1], [50, 40]]);
    assert.deepEqual(t.value, [
      { kind: 'cut', start_frame: 1, end_frame: 1, frame: 1 },
      { kind: 'gradual', start_frame: 312, end_frame: 333, frame: 323 },
    ]);
    assert.deepEqual(t.warnings, ['pairs: transition [50, 40] is not increasing; skipped']);
  });

  test('the AutoShot label file is read leniently, typos included', () => {
    const parsed = parseAutoShotLabels('31602670982.mp4 1499\n130,131\n254,255\n\n39672724739.mp4 574\n51,52\n568,,569\n2959.2960\n178,179,\n1,2,3\n');
    assert.deepEqual(parsed.value.get('31602670982.mp4'), { pairs: [[130, 131], [254, 255]], frame_count: 1499 });
    assert.deepEqual(parsed.value.get('39672724739.mp4')?.pairs, [[51, 52], [568, 569], [2959, 2960], [178, 179]]);
    assert.deepEqual(parsed.warnings, ['AutoShot labels:10: skipped "1,2,3"']);
  });

  test('a plain CSV takes a bare frame per line or named columns', () => {
    assert.deepEqual(parseCutCsv('10\n20\n').value.map((t) => t.frame), [10, 20]);
    const named = parseCutCsv('frame,kind,start_frame,end_frame\n30,dissolve,25,35\n50,cut,,\n');
    assert.deepEqual(named.value, [
      { kind: 'dissolve', start_frame: 25, end_frame: 35, frame: 30 },
      { kind: 'cut', start_frame: 50, end_frame: 50, frame: 50 },
    ]);
  });

  test('names match across the suffixes datasets use', () => {
    assert.equal(annotationKey('/x/bbc_01.mp4'), '01');
    assert.equal(annotationKey('/x/01-scenes.txt'), '01');
    assert.equal(annotationKey('/x/v12_gt.txt'), 'v12');
    assert.equal(annotationKey('/x/clip.mp4.scenes.txt'), 'clip');
  });

  test('BBC: episode files match by number, the scene files beside them are ignored, frameOffset shifts', async () => {
    await put('bbc/videos/bbc_01.mp4');
    await put('bbc/videos/bbc_02.mp4');
    await put('bbc/annotations/shots/01_From_Pole_to_Pole.txt', '0 99\n100 199\n205 300\n');
    await put('bbc/annotations/scenes/annotator_0/01_From_Pole_to_Pole.txt', '0,2,5,9,14\n');
    const warnings: string[] = [];
    const entries = await readDataset(path.join(root, 'bbc'), 'bbc', { onWarning: (w) => warnings.push(w) });
    assert.equal(entries.length, 1);
    assert.equal(entries[0]!.name, 'bbc_01');
    assert.deepEqual(entries[0]!.truth.map((t) => [t.kind, t.frame]), [['cut', 100], ['gradual', 202]]);
    assert.equal(entries[0]!.frame_count, 301);
    assert.deepEqual(warnings, [`${path.join('videos', 'bbc_02.mp4')}: no bbc annotation; skipped`]);
    const shifted = await readDataset(path.join(root, 'bbc'), 'bbc', { frameOffset: 1 });
    assert.equal(shifted[0]!.truth[0]!.frame, 101);
  });

  test('RAI: <name>_gt.txt beside or below the video', async () => {
    await put('rai/videos/25011.mp4');
    await put('rai/labels/25011_gt.txt', '0 49\n50 120\n');
    const entries = await readDataset(path.join(root, 'rai'), 'rai');
    assert.deepEqual(entries[0]!.truth, [{ kind: 'cut', start_frame: 50, end_frame: 50, frame: 50 }]);
  });

  test('ClipShots: the annotation JSON keyed by video file name', async () => {
    await put('clipshots/videos/test/1t9hqz2sqqc.mp4');
    await put('clipshots/annotations/test.json', JSON.stringify({ '1t9hqz2sqqc.mp4': { transitions: [[0, 1], [311, 334]], frame_num: 3561.0 }, 'absent.mp4': { transitions: [], frame_num: 10 } }));
    await put('clipshots/video_lists/test.txt', '1t9hqz2sqqc.mp4\n');
    const entries = await readDataset(path.join(root, 'clipshots'), 'clipshots');
    assert.equal(entries.length, 1);
    assert.equal(entries[0]!.frame_count, 3561);
    assert.deepEqual(entries[0]!.truth.map((t) => [t.kind, t.start_frame, t.end_frame]), [['cut', 1, 1], ['gradual', 312, 333]]);
  });

  test('AutoShot: per-video shot lists, or the single label file', async () => {
    await put('autoshot/videos/31602670982.mp4');
    await put('autoshot/videos/32098094732.mp4');
    await put('autoshot/annotations/31602670982.txt', '0\t130\n131\t254\n');
    await put('autoshot/kuaishou_v2.txt', '32098094732.mp4 2873\n141,142\n1515,1519\n');
    const entries = await readDataset(path.join(root, 'autoshot'), 'autoshot');
    assert.deepEqual(entries.map((e) => e.truth.map((t) => t.frame)), [[131], [142, 1517]]);
    assert.equal(entries[1]!.frame_count, 2873);
  });

  test('csv: per-video CSV or JSON, or one JSON mapping names to frames', async () => {
    await put('plain/a.mp4');
    await put('plain/a.csv', 'frame\n10\n20\n');
    await put('plain/b.mp4');
    await put('plain/b.json', JSON.stringify([5, { frame: 30, kind: 'dissolve', start_frame: 25, end_frame: 35 }]));
    await put('plain/c.mp4');
    await put('plain/cuts.json', JSON.stringify({ 'c.mp4': [7, 9] }));
    const entries = await readDataset(path.join(root, 'plain'), 'csv');
    assert.deepEqual(entries.map((e) => [e.name, e.truth.map((t) => `${t.kind}@${t.frame}`)]), [
      ['a', ['cut@10', 'cut@20']],
      ['b', ['cut@5', 'dissolve@30']],
      ['c', ['cut@7', 'cut@9']],
    ]);
  });

  test('scenescope: the corpus truth with distractors', async () => {
    await put('corpus/clip01.mp4');
    await put('corpus/clip01.json', JSON.stringify({ frame_count: 500, frame_rate: 25, transitions: [{ kind: 'wipe', start_frame: 40, end_frame: 52, frame: 46 }], distractors: [{ kind: 'flash', start_frame: 100, end_frame: 101 }, { kind: 'bogus', start_frame: 1, end_frame: 2 }] }));
    const [e] = await readDataset(path.join(root, 'corpus'), 'scenescope');
    assert.deepEqual(e!.truth, [{ kind: 'wipe', start_frame: 40, end_frame: 52, frame: 46 }]);
    assert.deepEqual(e!.distractors, [{ kind: 'flash', start_frame: 100, end_frame: 101 }]);
    assert.equal(e!.frame_rate, 25);
  });

  test('a missing folder, an empty one and an unknown format are refused with a code', async () => {
    await assert.rejects(readDataset(path.join(root, 'nope'), 'bbc'), { code: 'FILE_NOT_FOUND', message: `Dataset folder ${path.join(root, 'nope')} does not exist` });
    await mkdir(path.join(root, 'empty'));
    await assert.rejects(readDataset(path.join(root, 'empty'), 'rai'), { code: 'FILE_NOT_FOUND', message: `No video with a rai annotation in ${path.join(root, 'empty')}` });
    await assert.rejects(readDataset(root, 'edl' as never), (e: unknown) => e instanceof ScenescopeError && e.code === 'INVALID_OPTION');
  });
});
