import { suite, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { parsePySceneDetectCsv, parsePredictionJson, parsePredictionText, toBoundaries, findPredictions } from '../src/bench/predictions.js';
import { runBenchCommand, type BenchDetect } from '../src/cli/bench-command.js';
import type { CliIO } from '../src/cli/io.js';

function capture(): { io: CliIO; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const stdout = new Writable({ write(chunk, _e, cb) { out += String(chunk); cb(); } });
  const stderr = new Writable({ write(chunk, _e, cb) { err += String(chunk); cb(); } });
  return { io: { stdout, stderr, env: {} }, out: () => out, err: () => err };
}

/** `scenedetect -i clip.mp4 list-scenes` at 25 fps: scenes start at frames 0, 30 and 76 (0-based). */
const PSD_HEADER = 'Scene Number,Start Frame,Start Timecode,Start Time (seconds),End Frame,End Timecode,End Time (seconds),Length (frames),Length (timecode),Length (seconds)';
const PSD_ROWS = [
  '1,1,00:00:00.000,0.000,30,00:00:01.200,1.200,30,00:00:01.200,1.200',
  '2,31,00:00:01.200,1.200,76,00:00:03.040,3.040,46,00:00:01.840,1.840',
  '3,77,00:00:03.040,3.040,100,00:00:04.000,4.000,24,00:00:00.960,0.960',
];
const PSD_WITH_CUTS = ['Timecode List:,00:00:01.200,00:00:03.040', PSD_HEADER, ...PSD_ROWS].join('\n') + '\n';
const PSD_SKIP_CUTS = [PSD_HEADER, ...PSD_ROWS].join('\r\n') + '\r\n';

const signal = new AbortController().signal;
let dir = '';

suite('other tools\' predictions', () => {
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'scenescope-pred-'));
    await mkdir(path.join(dir, 'data'));
    // Two clips of 100 frames at 25 fps; truth: cuts at 30 and 76 in one, a dissolve 40-55 and a cut at 80 in the other.
    await writeFile(path.join(dir, 'data', 'truth.json'), JSON.stringify({
      matching: { cut_tolerance_frames: 1, gradual_tolerance_frames: 2, one_to_one: true },
      clips: [
        { file: 'one.mp4', role: 'transitions', frames: 100, fps: 25, transitions: [{ kind: 'cut', start_frame: 30, end_frame: 30 }, { kind: 'cut', start_frame: 76, end_frame: 76 }] },
        { file: 'two.mp4', role: 'transitions', frames: 100, fps: 25, transitions: [{ kind: 'dissolve', start_frame: 40, end_frame: 55 }, { kind: 'cut', start_frame: 80, end_frame: 80 }] },
      ],
    }));
    await writeFile(path.join(dir, 'data', 'one.mp4'), '');
    await writeFile(path.join(dir, 'data', 'two.mp4'), '');
    // PySceneDetect's folder: the CLI names its list <video>-Scenes.csv.
    await mkdir(path.join(dir, 'psd'));
    await writeFile(path.join(dir, 'psd', 'one-Scenes.csv'), PSD_WITH_CUTS);
    await writeFile(path.join(dir, 'psd', 'two-Scenes.csv'), [PSD_HEADER, '1,1,00:00:00.000,0.000,47,,1.880,47,,1.880', '2,48,00:00:01.880,1.880,100,,4.000,53,,2.120'].join('\n'));
    // TransNetV2's folder: <video>.scenes.txt shot lists.
    await mkdir(path.join(dir, 'tn'));
    await writeFile(path.join(dir, 'tn', 'one.mp4.scenes.txt'), '0 29\n30 75\n76 99\n');
    await writeFile(path.join(dir, 'tn', 'two.mp4.scenes.txt'), '0 60\n61 79\n80 99\n');
    // One JSON for the dataset: times in seconds for one clip, frames for the other.
    await writeFile(path.join(dir, 'mine.json'), JSON.stringify({ 'one.mp4': { times: [1.2, 3.04] }, 'two.mp4': { frames: [50, 81] } }));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a PySceneDetect scene list gives a boundary at every later scene start, 1-based frames made 0-based', () => {
    for (const text of [PSD_WITH_CUTS, PSD_SKIP_CUTS]) {
      const p = parsePySceneDetectCsv(text);
      assert.deepEqual(p.boundaries.map((b) => b.frame), [30, 76]);
      assert.deepEqual(p.warnings, []);
      assert.equal(parsePredictionText(text).format, 'pyscenedetect-csv');
    }
  });

  test('a scene list without frame columns falls back to start times', () => {
    const p = parsePySceneDetectCsv('Scene Number;Start Time (seconds)\n1;0.000\n2;1.200\n3;3.040\n');
    assert.deepEqual(toBoundaries(p, 25).map((b) => b.frame), [30, 76]);
    assert.throws(() => toBoundaries(p, undefined), /frame rate of its video is unknown/);
  });

  test('JSON lists: integers are frames, fractions seconds, keys decide, --unit overrides', () => {
    assert.deepEqual(toBoundaries(parsePredictionJson([30, 76]), 25).map((b) => b.frame), [30, 76]);
    assert.deepEqual(toBoundaries(parsePredictionJson([1.2, 3.04]), 25).map((b) => b.frame), [30, 76]);
    assert.deepEqual(toBoundaries(parsePredictionJson({ times: [1, 3] }), 25).map((b) => b.frame), [25, 75]);
    assert.deepEqual(toBoundaries(parsePredictionJson([1, 3], 'seconds'), 25).map((b) => b.frame), [25, 75]);
    assert.deepEqual(toBoundaries(parsePredictionJson({ cuts: [{ frame: 40, kind: 'dissolve', start_frame: 35, end_frame: 45 }] }), 25), [{ frame: 40, kind: 'dissolve', start_frame: 35, end_frame: 45 }]);
    assert.deepEqual(toBoundaries(parsePredictionJson([{ time: 2 }]), 30).map((b) => b.frame), [60]);
    assert.throws(() => parsePredictionJson({ shots: [] }), /holds no list of frames or times/);
    // scenescope's own detect output keeps kinds and spans.
    const own = parsePredictionJson({ frame_count: 100, boundaries: [{ frame: 40, time: 1.6, kind: 'wipe', start_frame: 35, end_frame: 44, confidence: 0.7 }], scenes: [{ start_frame: 0 }, { start_frame: 40 }] });
    assert.deepEqual(own.boundaries, [{ frame: 40, kind: 'wipe', start_frame: 35, end_frame: 44, confidence: 0.7 }]);
    assert.deepEqual(parsePredictionJson({ scenes: [{ start_frame: 0 }, { start_frame: 40 }, { start_frame: 70 }] }).boundaries.map((b) => b.frame), [40, 70]);
  });

  test('a TransNetV2 shot list gives the start of every shot after the first', () => {
    assert.deepEqual(parsePredictionText('0 29\n30 75\n76 99\n').boundaries.map((b) => b.frame), [30, 76]);
  });

  test('predictions are found by video name in a folder or in one mapping file', async () => {
    const videos = [path.join(dir, 'data', 'one.mp4'), path.join(dir, 'data', 'two.mp4')];
    const psd = await findPredictions(path.join(dir, 'psd'), videos);
    assert.deepEqual([...psd.values()].map((v) => path.basename(v.source)), ['one-Scenes.csv', 'two-Scenes.csv']);
    const tn = await findPredictions(path.join(dir, 'tn'), videos);
    assert.equal(tn.size, 2);
    const mine = await findPredictions(path.join(dir, 'mine.json'), videos);
    assert.deepEqual([...mine.values()].map((v) => v.source), ['mine.json:one.mp4', 'mine.json:two.mp4']);
    await assert.rejects(findPredictions(path.join(dir, 'nope'), videos), /Predictions .* do not exist/);
  });

  test('scenescope bench --predictions scores several tools with one matcher, side by side', async () => {
    const c = capture();
    const html = path.join(dir, 'report.html');
    const argv = [path.join(dir, 'data'), '--predictions', `psd=${path.join(dir, 'psd')}`, '--predictions', `transnet=${path.join(dir, 'tn')}`, '--predictions', path.join(dir, 'mine.json'), '--html', html];
    const code = await runBenchCommand(argv, c.io, { detect: async () => assert.fail('no detector runs when only predictions are given'), probe: async () => assert.fail('truth.json gives the frame rate'), signal });
    assert.equal(code, 0, c.err());
    const out = c.out();
    assert.match(out, /all detectors side by side \(tolerance 1\)/);
    // psd: one 30,76 (2 TP); two: 47 inside the dissolve (TP), cut 80 missed. transnet: one 2 TP; two: 61 misses both (FP), 80 TP.
    assert.match(out, /^psd +3 +0 +1 +1\.000 +0\.750 +0\.857 /m);
    assert.match(out, /^transnet +3 +1 +1 +0\.750 +0\.750 +0\.750 /m);
    assert.match(out, /^mine +4 +0 +0 +1\.000 +1\.000 +1\.000 /m);
    const text = await readFile(html, 'utf8');
    assert.match(text, /Summary: 3 detectors side by side/);
    for (const name of ['psd', 'transnet', 'mine']) assert.match(text, new RegExp(`<b>${name}</b><div class="src">predictions `));
    assert.match(text, /<h2>Recall by kind<\/h2>.*<th>.*cut<\/th>.*dissolve<\/th>/s);
    assert.equal((text.match(/<svg [^>]*class="curves"/g) ?? []).length, 2);
    assert.match(text, /missed by that detector/);
    assert.match(text, /✕ psd/);
  });

  test('a detector and a prediction source can be compared in one run; a missing prediction fails the clip', async () => {
    await rm(path.join(dir, 'psd', 'two-Scenes.csv'));
    const detect: BenchDetect = async (file) => ({ frame_count: 100, frame_rate: 25, boundaries: file.endsWith('one.mp4') ? [{ frame: 30, kind: 'cut' }] : [] });
    const c = capture();
    const code = await runBenchCommand([path.join(dir, 'data'), '--detector', 'content', '--predictions', `psd=${path.join(dir, 'psd')}`, '--json'], c.io, { detect, signal });
    assert.equal(code, 1);
    assert.match(c.err(), /two: psd: no prediction in .*psd for two\.mp4/);
    const summaries = c.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>).filter((l) => l.type === 'summary' && l.headline === true);
    assert.deepEqual(summaries.map((s) => [s.detector, s.all.tp, s.all.fn]), [['content', 1, 3], ['psd', 2, 2]]);
  });
});
