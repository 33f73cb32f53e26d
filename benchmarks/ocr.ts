/**
 * OCR benchmark: prints JSON lines.
 *
 * Trials
 * - `corpus`: the seeded caption corpus (test/helpers/caption-corpus.ts: drawtext captions in several fonts,
 *   styles and colours over moving backgrounds, 360p-1080p, CRF 28, 40 % of them shown under a second at the
 *   end of their scene), each scene read over its whole span by three recogniser set-ups on the same PP-OCRv4
 *   detections: `ppocr` (PP-OCRv4 recognition alone), `tesseract` (tesseract.js on every line) and `cascade`
 *   (the default: PP-OCRv4, and tesseract for the lines under FALLBACK_BELOW). Per engine: share of captions
 *   found, character error rate, and the late-short captions apart; milliseconds and CPU time.
 * - `confidence`: every PP-OCRv4 line reading of the corpus bucketed by its confidence, with the error rate of
 *   PP-OCRv4 and of tesseract on the same lines: where tesseract does better is where the fallback threshold goes.
 * - `real`: frames of the real clips in ../shared/media/real with on-screen text, against transcriptions made
 *   by eye from the frames (REAL below); CER per engine.
 * - `load`: the machine's load average before and after (the machine is shared; read ratios with it).
 *
 * Run: `npx tsc -p . && node dist/benchmarks/ocr.js [--seed 20261201] [--scenes 12]
 * [--sizes 640x360,854x480,1280x720,1920x1080] [--trials corpus,confidence,real] [--det-side 736]
 * [--engines ppocr,tesseract,cascade]`.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { decodeFramesAt } from '../src/enrich/frames.js';
import { detectTextBoxes, FALLBACK_BELOW, ocrSampleTimes, readSceneText, recCrop, tesseractLine, type TextReaders } from '../src/enrich/ocr.js';
import { OcrPool } from '../src/enrich/ocr-pool.js';
import { openLocalSession } from '../src/enrich/onnx.js';
import { locatePpocr } from '../src/enrich/ppocr-models.js';
import { ctcTable, recognizeLines } from '../src/enrich/ppocr-rec.js';
import { DET_LIMIT_SIDE } from '../src/enrich/ocr-detect.js';
import { characterErrorRate } from '../src/enrich/text.js';
import { corpusFrames, makeCaptionCorpus, scoreCaptions } from '../test/helpers/caption-corpus.js';
import { SHARED } from '../test/helpers/clips.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '20261201' },
    scenes: { type: 'string', default: '12' },
    sizes: { type: 'string', default: '640x360,854x480,1280x720,1920x1080' },
    trials: { type: 'string', default: 'corpus,confidence,real' },
    'det-side': { type: 'string', default: String(DET_LIMIT_SIDE) },
    engines: { type: 'string', default: 'ppocr,tesseract,cascade' },
  },
});
const trials = new Set(values.trials!.split(','));
const DET_SIDE = Number(values['det-side']);
const sizes = values.sizes!.split(',').map((s) => {
  const [w, h] = s.split('x').map(Number);
  return { width: w!, height: h! };
});

/** Real clips' text, transcribed by eye from the frame at `time` (only lines a person reads at a glance). */
const REAL: { clip: string; time: number; lines: string[] }[] = [
  { clip: 'chromecast_ad.mp4', time: 1, lines: ['YouTube right on your TV.'] },
  { clip: 'chromecast_ad.mp4', time: 3, lines: ['Everything you love, now on your TV.'] },
  { clip: 'chromecast_ad.mp4', time: 5, lines: ['For $35. For everyone.', 'Plus tax.'] },
  { clip: 'chromecast_ad.mp4', time: 7, lines: ['Shortened sequences.'] },
  { clip: 'chromecast_ad.mp4', time: 13, lines: ['FOR', 'BIGGER', 'JOYRIDES'] },
  { clip: 'tv_promo_de.mp4', time: 3, lines: ['CHERNOBYL', 'DAS SERIEN-EVENT', 'Montag', '20:15'] },
  { clip: 'tv_promo_de.mp4', time: 9, lines: ['TSCHERNOBYL', 'DIE WOLKE ÜBER DEUTSCHLAND', 'Montag', '22:50'] },
  { clip: 'tv_promo_de.mp4', time: 11, lines: ['ProSieben', 'WERBUNG'] },
];

const out = (row: Record<string, unknown>): void => console.log(JSON.stringify(row));
const cpuMs = (since: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(since);
  return Math.round((u.user + u.system) / 1000);
};

out({ trial: 'load', when: 'before', loadavg: loadavg().map((v) => Number(v.toFixed(2))) });
const models = await locatePpocr();
const detector = await openLocalSession(models.detection, { intraOpNumThreads: 1 });
const recogniser = { session: await openLocalSession(models.recognition, { intraOpNumThreads: 1 }), table: ctcTable(models.dictionary) };
const pool = await OcrPool.create({ workers: 2, psm: '7', recycleAfter: 400 });
const allEngines: Record<string, TextReaders> = {
  ppocr: { detector, recogniser, tesseract: null, tesseractEveryLine: false },
  tesseract: { detector, recogniser: null, tesseract: pool, tesseractEveryLine: true },
  cascade: { detector, recogniser, tesseract: pool, tesseractEveryLine: false },
};
const engines = Object.fromEntries(values.engines!.split(',').map((e) => [e, allEngines[e]!]));
const dir = await mkdtemp(path.join(tmpdir(), 'scenescope-bench-ocr-'));
try {
  if (trials.has('corpus') || trials.has('confidence')) {
    const clips = await makeCaptionCorpus(dir, { seed: Number(values.seed), sizes, scenes: Number(values.scenes) });
    const perEngine: Record<string, { caption: string; lines: string[]; late: boolean; size: string }[]> = Object.fromEntries(Object.keys(engines).map((e) => [e, []]));
    const timing: Record<string, { wall: number; cpu: number; samples: number; skipped: number }> = {};
    const buckets = new Map<string, { lines: number; ppocrErrors: number; tesseractErrors: number; length: number }>();
    for (const clip of clips) {
      for (const scene of clip.scenes) {
        const frames = corpusFrames(scene, clip.fps);
        const decoded = await decodeFramesAt(clip.file, ocrSampleTimes(frames, frames[0]!.time), { frameDuration: 1 / clip.fps });
        for (const [name, readers] of Object.entries(engines)) {
          if (!trials.has('corpus')) break;
          const t = performance.now();
          const cpu = process.cpuUsage();
          const text = await readSceneText(decoded, readers, { detectorSide: DET_SIDE });
          const row = (timing[name] ??= { wall: 0, cpu: 0, samples: 0, skipped: 0 });
          row.wall += performance.now() - t;
          row.cpu += cpuMs(cpu);
          row.samples += text.samples;
          row.skipped += text.skipped;
          perEngine[name]!.push({ caption: scene.caption, lines: text.lines.map((l) => l.text), late: scene.lateShort, size: `${clip.height}p` });
        }
        if (trials.has('confidence')) {
          // The last sample shows the caption in every scene: its lines, read by both engines.
          const last = decoded[decoded.length - 1]!.image;
          const boxes = await detectTextBoxes(detector, last, DET_SIDE);
          const pp = await recognizeLines(recogniser.session, boxes.map((b) => recCrop(last, b)), recogniser.table);
          // The line that is the caption: the PP-OCRv4 reading nearest to it.
          let at = -1;
          for (let i = 0; i < boxes.length; i++) if (at < 0 || characterErrorRate(scene.caption, pp[i]!.text) < characterErrorRate(scene.caption, pp[at]!.text)) at = i;
          if (at >= 0) {
            const tess = await tesseractLine(pool, last, boxes[at]!);
            const c = pp[at]!.confidence;
            const bucket = c >= 0.95 ? '>=0.95' : c >= 0.9 ? '0.90-0.95' : c >= 0.8 ? '0.80-0.90' : c >= 0.6 ? '0.60-0.80' : '<0.60';
            const b = buckets.get(bucket) ?? { lines: 0, ppocrErrors: 0, tesseractErrors: 0, length: 0 };
            b.lines++;
            b.ppocrErrors += Math.min(1, characterErrorRate(scene.caption, pp[at]!.text)) * scene.caption.length;
            b.tesseractErrors += Math.min(1, characterErrorRate(scene.caption, tess.text)) * scene.caption.length;
            b.length += scene.caption.length;
            buckets.set(bucket, b);
          }
        }
      }
    }
    for (const [name, items] of Object.entries(perEngine)) {
      if (items.length === 0) continue;
      const all = scoreCaptions(items);
      const late = scoreCaptions(items.filter((i) => i.late));
      const bySize: Record<string, number> = {};
      for (const size of new Set(items.map((i) => i.size))) bySize[size] = Number(scoreCaptions(items.filter((i) => i.size === size)).cer.toFixed(4));
      out({
        trial: 'corpus',
        engine: name,
        seed: Number(values.seed),
        det_side: DET_SIDE,
        captions: all.total,
        found: Number(all.found.toFixed(4)),
        cer: Number(all.cer.toFixed(4)),
        late_short: { captions: late.total, found: Number(late.found.toFixed(4)), cer: Number(late.cer.toFixed(4)) },
        cer_by_size: bySize,
        wall_ms: Math.round(timing[name]!.wall),
        cpu_ms: timing[name]!.cpu,
        samples: timing[name]!.samples,
        skipped: timing[name]!.skipped,
        misses: all.misses.slice(0, 6),
      });
    }
    for (const [bucket, b] of [...buckets.entries()].sort()) {
      out({ trial: 'confidence', ppocr_confidence: bucket, lines: b.lines, ppocr_cer: Number((b.ppocrErrors / b.length).toFixed(4)), tesseract_cer: Number((b.tesseractErrors / b.length).toFixed(4)), fallback_below: FALLBACK_BELOW });
    }
  }
  if (trials.has('real')) {
    const realDir = path.join(SHARED, 'media', 'real');
    if (!existsSync(realDir)) out({ trial: 'real', skipped: `${realDir} is absent` });
    else {
      for (const [name, readers] of Object.entries(engines)) {
        let errors = 0;
        let length = 0;
        const rows: { clip: string; time: number; read: string[] }[] = [];
        for (const item of REAL) {
          const [frame] = await decodeFramesAt(path.join(realDir, item.clip), [item.time]);
          const text = await readSceneText([frame!], readers, { detectorSide: DET_SIDE });
          const read = text.lines.map((l) => l.text);
          // Each expected line against its best match among the lines read.
          for (const line of item.lines) {
            const best = Math.min(1, ...read.map((r) => characterErrorRate(line, r)));
            errors += best * line.length;
            length += line.length;
          }
          rows.push({ clip: item.clip, time: item.time, read });
        }
        out({ trial: 'real', engine: name, frames: REAL.length, cer: Number((errors / length).toFixed(4)), read: rows });
      }
    }
  }
} finally {
  await pool.close();
  await detector.release();
  await recogniser.session.release();
  await rm(dir, { recursive: true, force: true });
  out({ trial: 'load', when: 'after', loadavg: loadavg().map((v) => Number(v.toFixed(2))) });
}
