/**
 * On-screen text with nothing installed: PP-OCRv4 from the npm dependency, CTC decoding, sampling over the whole
 * scene, line merging with first/last seen, persistent logos, and analyzeFile reading burnt-in captions of a clip
 * rendered here with ffmpeg drawtext, with no models folder.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, suite, test } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { AnalysisResult } from '../src/api/analyze.js';
import { createEnricher } from '../src/enrich/index.js';
import { lineStrokes, ocrSampleTimes, sameStrokes, tileMeans, tilesChanged } from '../src/enrich/ocr.js';
import { locatePpocr, PPOCR_FILES } from '../src/enrich/ppocr-models.js';
import { ctcDecode, ctcTable, wordGaps } from '../src/enrich/ppocr-rec.js';
import { characterErrorRate, markPersistent, mergeTimedLines, TextHistory, visibleText, type TimedLine, type TimedReading } from '../src/enrich/text.js';
import type { RgbImage } from '../src/enrich/types.js';
import { corpusSkipReason } from './helpers/caption-corpus.js';
import { ffmpeg, ROOT, tempDir } from './helpers/clips.js';

const run = promisify(execFile);

/** A probability table over `classes` classes for a sequence of winning classes (0.9 to the winner). */
function probs(winners: readonly number[], classes: number, extra: Record<number, Record<number, number>> = {}): Float32Array {
  const p = new Float32Array(winners.length * classes);
  winners.forEach((w, t) => {
    p.fill(0.1 / (classes - 1), t * classes, (t + 1) * classes);
    p[t * classes + w] = 0.9;
    for (const [c, v] of Object.entries(extra[t] ?? {})) p[t * classes + Number(c)] = v;
  });
  return p;
}

function line(text: string, time: number, top = 0.8, left = 0.3, confidence = 0.95): TimedReading {
  return { text, confidence, engine: 'ppocr', time, top, left, height: 0.06, width: 0.4 };
}

suite('ocr: PP-OCRv4 pieces', () => {
  // Classes: 0 blank, 1 "A", 2 "B", 3 "中", 4 "Ｃ" (full width), 5 space.
  const table = ctcTable(['A', 'B', '中', 'Ｃ']);

  test('the package is found through module resolution and matches the pinned hashes', async () => {
    const models = await locatePpocr();
    assert.equal(path.basename(models.detection), PPOCR_FILES.detection.file);
    assert.equal(path.basename(models.recognition), PPOCR_FILES.recognition.file);
    assert.equal(models.dictionary.length, 6623);
    assert.ok(models.dictionary.includes('A') && models.dictionary.includes('%'));
  });

  test('CTC greedy decoding collapses repeats, drops blanks and keeps a probability per character', () => {
    // A A _ A B B _ 中 Ｃ: "AAB" then 中 is masked (Latin only) and Ｃ becomes "C".
    const r = ctcDecode(probs([1, 1, 0, 1, 2, 2, 0, 3, 4], 6), 9, 6, table);
    assert.equal(r.text, 'AABC');
    assert.equal(r.charProbs.length, 4);
    assert.ok(r.confidence > 0.5 && r.confidence <= 0.9, String(r.confidence));
    assert.equal(ctcDecode(probs([0, 0, 0], 6), 3, 6, table).text, '');
    assert.equal(ctcDecode(probs([0, 0, 0], 6), 3, 6, table).confidence, 0);
  });

  test('with Chinese allowed, CJK classes are emitted', () => {
    const r = ctcDecode(probs([1, 0, 3], 6), 3, 6, ctcTable(['A', 'B', '中', 'Ｃ'], false));
    assert.equal(r.text, 'A中');
  });

  test('a space the model left out is restored from the space class in the blank run', () => {
    // A _ B _ A (space class 0.35 at step 3) _ B: "AB AB"; without that evidence, "ABAB".
    const winners = [1, 0, 2, 0, 1, 0, 2];
    assert.equal(ctcDecode(probs(winners, 6, { 3: { 5: 0.35 } }), 7, 6, table).text, 'AB AB');
    assert.equal(ctcDecode(probs(winners, 6), 7, 6, table).text, 'ABAB');
    const gaps = wordGaps([
      { ch: 'A', gapBefore: 0, spaceBefore: 0 },
      { ch: 'B', gapBefore: 2, spaceBefore: 0.01 },
      { ch: 'A', gapBefore: 2, spaceBefore: 0.02 },
      { ch: 'B', gapBefore: 3, spaceBefore: 0.1 },
      { ch: 'A', gapBefore: 2, spaceBefore: 0.1 },
    ]);
    assert.deepEqual([...gaps], [0, 0, 0, 1, 0], 'a likely space needs a longer run than usual');
  });

  test('samples cover the whole scene, last frame included', () => {
    const frames = Array.from({ length: 75 }, (_, i) => ({ time: 10 + i / 25 }));
    const times = ocrSampleTimes(frames, 11);
    assert.equal(times[0], 10);
    assert.equal(times[times.length - 1], frames[74]!.time);
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! <= 1 + 1e-9 && times[i]! - times[i - 1]! > 0, `${times[i - 1]} -> ${times[i]}`);
    assert.deepEqual(ocrSampleTimes([], 3.5), [3.5]);
  });

  test('a line over a moving picture is the same line while its strokes stay, not when one letter changes', () => {
    const width = 320;
    const height = 120;
    // A mid-grey ground with a bright blob that moves from frame to frame, as behind a subtitle over a pan.
    const ground = (shift: number): RgbImage => {
      const data = new Uint8Array(width * height * 3);
      for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.fill(60 + ((((x + shift) >> 3) * 37 + (y >> 3) * 11) % 90), (y * width + x) * 3, (y * width + x) * 3 + 3);
      return { data, width, height, channels: 3 };
    };
    // Six "letters" 24 px high: white bars with a black outline, each letter its own pattern of bars.
    const letters = (image: RgbImage, patterns: number[]): RgbImage => {
      patterns.forEach((pattern, k) => {
        for (let bar = 0; bar < 4; bar++) {
          if (((pattern >> bar) & 1) === 0) continue;
          const x0 = 40 + k * 40 + bar * 7;
          for (let y = 48; y < 72; y++) for (let x = x0 - 1; x < x0 + 5; x++) image.data.fill(x === x0 - 1 || x === x0 + 4 ? 0 : 250, (y * width + x) * 3, (y * width + x) * 3 + 3);
        }
      });
      return image;
    };
    const text = [0b1011, 0b0110, 0b1101, 0b0011, 0b1110, 0b0101];
    const box = { x0: 20, y0: 44, x1: 300, y1: 76, score: 1 };
    const ref = lineStrokes(letters(ground(0), text), box);
    assert.ok(ref !== null, 'an outlined line has strokes');
    assert.equal(sameStrokes(ref, letters(ground(29), text)), true, 'the same text over a moved ground');
    assert.equal(sameStrokes(ref, letters(ground(29), [0b1011, 0b0110, 0b0010, 0b0011, 0b1110, 0b0101])), false, 'one letter changed');
    assert.equal(sameStrokes(ref, ground(29)), false, 'the text gone');
    assert.equal(lineStrokes(ground(0), { x0: 0, y0: 0, x1: 2, y1: 2, score: 1 }), null, 'a box too small to judge');
  });

  test('a caption appearing on a still picture counts as a change, the same picture does not', () => {
    const width = 640;
    const height = 360;
    const still: RgbImage = { data: new Uint8Array(width * height * 3).fill(90), width, height, channels: 3 };
    const captioned: RgbImage = { ...still, data: new Uint8Array(still.data) };
    for (let y = 300; y < 330; y++) for (let x = 200; x < 420; x += 3) captioned.data.fill(250, (y * width + x) * 3, (y * width + x) * 3 + 6);
    assert.equal(tilesChanged(tileMeans(still), tileMeans({ ...still, data: new Uint8Array(still.data) })), false);
    assert.equal(tilesChanged(tileMeans(still), tileMeans(captioned)), true);
  });

  test('readings of one line merge, fuzzily, with the first and last time seen', () => {
    const lines = mergeTimedLines([line('SALE 5O% OFF', 1.0, 0.8, 0.3, 0.7), line('Harbour view', 1.5, 0.1), line('SALE 50% OFF', 1.5), line('SALE 50%OFF', 2.5, 0.8, 0.3, 0.9)]);
    assert.deepEqual(
      lines.map((l) => [l.text, l.first_seen, l.last_seen, l.seen]),
      [
        ['Harbour view', 1.5, 1.5, 1],
        ['SALE 50% OFF', 1.0, 2.5, 3],
      ],
    );
  });

  test('a line at the same place in three scenes is persistent and goes after the scene\'s own text', () => {
    const OWN = ['Harbour view', 'Storm at sea', 'Market day'];
    const history = new TextHistory();
    const copy = { persistent: false };
    const scenes: TimedLine[][] = [];
    for (const [i, own] of OWN.entries()) {
      scenes.push(mergeTimedLines([line('NEWS 24', i * 3, 0.05, 0.8), line(own, i * 3 + 1)]));
      if (i < 2) assert.equal(visibleText(scenes[i]!), `NEWS 24\n${own}`, 'reading order while not yet known to persist');
      history.observe(i, scenes[i]!);
      if (i === 0) history.adopt(scenes[0]!.find((l) => l.text === 'NEWS 24')!, copy);
    }
    // The third scene marks the line, and the earlier scenes' lines and their adopted copies with it.
    assert.deepEqual(scenes.map((lines) => lines.find((l) => l.text === 'NEWS 24')!.persistent), [true, true, true]);
    assert.equal(copy.persistent, true);
    assert.equal(visibleText(scenes[2]!), 'Market day\nNEWS 24');
    const fresh = OWN.map((own, i) => mergeTimedLines([line('NEWS 24', i * 3, 0.05, 0.8), line(own, i * 3 + 1)]));
    // A subtitle over three quick cuts (4 s in all) is not a logo.
    const quick = new TextHistory();
    const cuts = [0, 1, 2].map((i) => mergeTimedLines([line('A subtitle over quick cuts', 10 + i * 1.5)]));
    cuts.forEach((lines, i) => quick.observe(i, lines));
    assert.ok(cuts.every((lines) => !lines[0]!.persistent));
    markPersistent(fresh);
    assert.deepEqual(fresh.map((lines) => lines.find((l) => l.text === 'NEWS 24')!.persistent), [true, true, true]);
    assert.ok(scenes.every((lines, i) => !lines.find((l) => l.text === OWN[i])!.persistent));
    // The same words elsewhere on screen are another line.
    const elsewhere = mergeTimedLines([line('NEWS 24', 7, 0.8, 0.1)]);
    history.observe(3, elsewhere);
    assert.equal(elsewhere[0]!.persistent, false);
  });

  test('ocrLanguages: bad codes are option errors, a language without its package says what to install', async () => {
    await assert.rejects(createEnricher({ ocrLanguages: ['english'] }), { code: 'INVALID_OPTION', message: 'Expected a tesseract language code such as "deu" for ocrLanguages[0] but received "english" of type string' });
    await assert.rejects(createEnricher({ ocrLanguages: [] }), { code: 'INVALID_OPTION' });
    let installed = true;
    try {
      createRequire(import.meta.url).resolve('@tesseract.js-data/zul/package.json');
    } catch {
      installed = false;
    }
    assert.equal(installed, false, 'the test language must not be installed');
    await assert.rejects(createEnricher({ ocrLanguages: ['eng', 'zul'] }), {
      code: 'OCR_LANGUAGE_MISSING',
      message: 'OCR language "zul" needs the package @tesseract.js-data/zul; install it with: npm install @tesseract.js-data/zul',
    });
  });
});

const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';

suite('ocr: `scenescope analyze` reads burnt-in captions with no models folder', { skip: corpusSkipReason() }, () => {
  let result: AnalysisResult;
  let stderr = '';
  const byScene = (i: number): AnalysisResult['scenes'][number] => result.scenes[i]!;
  const find = (i: number, text: string) => byScene(i).text_lines?.find((l) => characterErrorRate(text, l.text) <= 0.1);
  // The logo is about persistence, not spacing: "NEWS24" is the same logo.
  const logo = (i: number) => byScene(i).text_lines?.find((l) => l.text.replace(/\s+/g, '') === 'NEWS24');

  before(async () => {
    const dir = tempDir('scenescope-ocr-');
    const clip = path.join(dir, 'captions.mp4');
    const colours = ['0x1d3557', '0x8d2b1f', '0x2a6f3a', '0x5b4a8a'];
    const inputs = colours.flatMap((c) => ['-f', 'lavfi', '-i', `color=c=${c}:size=854x480:rate=25:duration=2,noise=alls=20:allf=t`]);
    const draw = (text: string, from: number, to: number, extra: string): string =>
      `drawtext=fontfile=${FONT}:text='${text}':expansion=none:fontcolor=white:${extra}:enable='between(t,${from},${to})'`;
    const graph = [
      '[0:v][1:v][2:v][3:v]concat=n=4:v=1:a=0,format=yuv420p',
      // Scene 0: a caption only in its last 0.7 s. Scene 1: a caption throughout. Scene 2: only its last 0.6 s.
      draw('LAST SECOND ONLY', 1.28, 1.99, 'fontsize=34:borderw=3:bordercolor=black:x=(w-tw)/2:y=h-80'),
      draw('Harbour lights tonight', 2.0, 3.99, 'fontsize=30:box=1:boxcolor=black@0.6:boxborderw=8:x=40:y=h-70'),
      draw('Storm warning for the coast', 5.4, 5.99, 'fontsize=30:borderw=2:bordercolor=black:x=(w-tw)/2:y=h-80'),
      // A channel logo over scenes 0-2, none in scene 3.
      `${draw('NEWS 24', 0, 5.99, 'fontsize=24:box=1:boxcolor=red:boxborderw=6:x=w-140:y=24')}[v]`,
    ].join(',');
    await ffmpeg([...inputs, '-filter_complex', graph, '-map', '[v]', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '26', '-g', '50', clip]);
    const empty = mkdtempSync(path.join(tmpdir(), 'scenescope-nomodels-'));
    assert.ok(!existsSync(path.join(empty, 'ppocr-v3-det')));
    // The CLI as a user runs it (npx scenescope analyze), pointed at an empty models folder.
    const out = await run(process.execPath, [path.join(ROOT, 'bin', 'scenescope.js'), 'analyze', clip, '--models', empty, '--no-caption', '--no-progress', '--thumbnails', path.join(dir, 'thumbs')], {
      maxBuffer: 1 << 26,
      env: { ...process.env, SCENESCOPE_MODELS_DIR: empty },
    });
    result = JSON.parse(out.stdout) as AnalysisResult;
    stderr = out.stderr;
  });

  test('stderr says once what the missing models would add, with the command that installs them', () => {
    assert.equal(stderr.match(/some features were degraded/g)?.length, 1, stderr);
    assert.match(stderr, /objects and people .*\[yolox-nano missing\]\n {4}install: scenescope models install --from/);
    // Text reading needs no models folder, so it is not among the degraded features.
    assert.doesNotMatch(stderr, /ppocr-v4/);
  });

  test('text is read by PP-OCRv4 from the npm dependency', () => {
    assert.equal(result.scenes.length, 4, JSON.stringify(result.scenes.map((s) => [s.start_time, s.end_time])));
    assert.equal(result.models.find((m) => m.id === 'ppocr-v4')?.status, 'loaded');
    assert.ok(byScene(1).models_used.includes('ppocr-v4'));
  });

  test('a caption shown only in the last second of a scene is read, with when it was seen', () => {
    const late = find(0, 'LAST SECOND ONLY');
    assert.ok(late, JSON.stringify(byScene(0).text_lines));
    assert.equal(late.engine, 'ppocr');
    assert.ok(late.confidence > 0.8 && late.confidence <= 1, String(late.confidence));
    assert.ok(late.first_seen >= 1.25 && late.first_seen <= late.last_seen && late.last_seen < 2, `${late.first_seen}..${late.last_seen}`);
    assert.equal(late.persistent, false);
    const storm = find(2, 'Storm warning for the coast');
    assert.ok(storm && storm.first_seen >= 5.35 && storm.last_seen < 6, JSON.stringify(byScene(2).text_lines));
  });

  test('a caption on screen for the whole scene spans it', () => {
    const harbour = find(1, 'Harbour lights tonight');
    assert.ok(harbour, JSON.stringify(byScene(1).text_lines));
    assert.ok(harbour.first_seen <= 2.1 && harbour.last_seen >= 3.9, `${harbour.first_seen}..${harbour.last_seen}`);
  });

  test('the logo across three scenes is persistent and comes after the scene\'s own text', () => {
    assert.equal(logo(2)?.persistent, true, JSON.stringify(byScene(2).text_lines));
    assert.match(byScene(2).visible_text ?? '', /^Storm warning for the coast\.?\nNEWS ?24$/i);
    // Marked in the earlier scenes too once known (the result printed at the end has every mark).
    assert.equal(logo(0)?.persistent, true, JSON.stringify(byScene(0).text_lines));
    assert.equal(logo(1)?.persistent, true, JSON.stringify(byScene(1).text_lines));
  });

  test('a scene without text gives no lines and no visible text', () => {
    assert.deepEqual(byScene(3).text_lines, []);
    assert.equal(byScene(3).visible_text, null);
  });
});
