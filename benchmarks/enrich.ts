/**
 * Enrichment benchmark: prints JSON lines.
 *
 * Trials
 * - `pipeline`: a rendered 720p clip (real photos when installed, else busy synthetic backgrounds; a slow pan,
 *   captions on top) enriched scene by scene as the engine does it (createEnricher once, enrichScene for every
 *   scene, `concurrency` at a time); wall time against the clip's duration.
 * - `steps`: the same scenes again, each step alone and in turn, so the milliseconds add up: keyframe decode
 *   (3 samples, one ffmpeg), thumbnail, OCR detection, OCR recognition, YOLOX, MobileNetV2; wall time and the
 *   process's CPU time (a better guide than wall time on a shared machine; ffmpeg runs in a child process and
 *   is not counted in it).
 * - `ocr`: character error rate and frames per second of OCR on stills with known captions at 360p and 720p.
 * - `load`: the machine's load average before and after (the machine is shared; read ratios with it).
 *
 * Run: `npx tsc -p . && node dist/benchmarks/enrich.js [--scenes 8] [--seconds 4] [--threads 1]
 * [--det-side 736] [--concurrency 2] [--trials pipeline,steps,ocr]`. Needs ../shared/models.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createEnricher } from '../src/enrich/index.js';
import { decodeFramesAt } from '../src/enrich/frames.js';
import { chooseKeyframe, sampleTimes } from '../src/enrich/keyframe.js';
import { classify } from '../src/enrich/labels.js';
import { detectObjects } from '../src/enrich/objects.js';
import { detectTextBoxes, readSceneText } from '../src/enrich/ocr.js';
import { OcrPool } from '../src/enrich/ocr-pool.js';
import { openLocalSession, type OnnxSession } from '../src/enrich/onnx.js';
import { characterErrorRate } from '../src/enrich/text.js';
import { encodeThumbnail } from '../src/enrich/thumbnail.js';
import type { EnrichFrame } from '../src/enrich/types.js';
import {
  busyBackground,
  CAPTION_TEXTS,
  captionLayer,
  encodeClip,
  expectedText,
  findPhoto,
  modelsSkipReason,
  photoBackground,
  renderFrame,
  SHARED_MODELS,
  stillFeatures,
  type Still,
} from '../test/enrich-fixtures.js';

const { values } = parseArgs({
  options: {
    scenes: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '4' },
    threads: { type: 'string', default: '1' },
    'det-side': { type: 'string', default: '736' },
    concurrency: { type: 'string', default: String(Math.min(2, availableParallelism())) },
    trials: { type: 'string', default: 'pipeline,steps,ocr' },
  },
});
const SCENES = Number(values.scenes);
const SECONDS = Number(values.seconds);
const THREADS = Number(values.threads);
const DET_SIDE = Number(values['det-side']);
const CONCURRENCY = Number(values.concurrency);
const TRIALS = new Set(values.trials.split(','));
const FPS = 25;
const PHOTOS = ['chelsea.png', 'coffee.png', 'astronaut.png', 'motorcycle_left.png', 'rocket.jpg', 'hubble_deep_field.jpg'];

const print = (o: Record<string, unknown>): void => console.log(JSON.stringify(o));

/** CPU milliseconds used so far by finished child processes (ffmpeg), from /proc (Linux only; 0 elsewhere). */
function childrenCpuMs(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 16 and 17 of stat(5) (cutime, cstime), counted from the state field (field 3) here.
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
  } catch {
    return 0;
  }
}
const ms = (v: number): number => Math.round(v * 10) / 10;

/** Features of a panned scene: the picture changes a little every frame. */
function panFeatures(start: number, seconds: number, luma: number): EnrichFrame[] {
  return Array.from({ length: Math.round(seconds * FPS) }, (_, i) => ({ time: start + i / FPS, mean_luma: luma, std_luma: 50, sharpness: 10 + (i % 5), delta_lum: i === 0 ? 40 : 3 }));
}

async function main(): Promise<void> {
  const skip = modelsSkipReason();
  if (skip !== false) {
    print({ trial: 'skipped', reason: skip });
    return;
  }
  print({ trial: 'load', when: 'start', loadavg: loadavg().map((v) => Math.round(v * 100) / 100), cores: availableParallelism() });
  const dir = await mkdtemp(path.join(tmpdir(), 'scenescope-bench-enrich-'));
  try {
    const W = 1280;
    const H = 720;
    const stills: Still[] = [];
    const features: EnrichFrame[][] = [];
    for (let i = 0; i < SCENES; i++) {
      const photo = findPhoto(PHOTOS[i % PHOTOS.length]!);
      const bw = Math.round(W * 1.15);
      const bh = Math.round(H * 1.15);
      const background = photo !== null ? await photoBackground(photo, bw, bh) : await busyBackground(bw, bh, i + 1);
      stills.push({ png: background, seconds: SECONDS, pan: true, overlay: await captionLayer(W, H, CAPTION_TEXTS[i % CAPTION_TEXTS.length]!) });
      features.push(panFeatures(i * SECONDS, SECONDS, 110));
    }
    let t = performance.now();
    const clip = await encodeClip(dir, 'bench720', stills, FPS, { width: W, height: H });
    print({ trial: 'fixture', clip_seconds: SCENES * SECONDS, scenes: SCENES, encode_ms: ms(performance.now() - t), photos: findPhoto(PHOTOS[0]!) !== null });
    const sceneOf = (i: number): { scene_index: number; start_frame: number; end_frame: number; start_time: number; end_time: number } => ({
      scene_index: i,
      start_frame: i * SECONDS * FPS,
      end_frame: (i + 1) * SECONDS * FPS,
      start_time: i * SECONDS,
      end_time: (i + 1) * SECONDS,
    });

    if (TRIALS.has('pipeline')) {
      t = performance.now();
      const enricher = await createEnricher({ modelsDir: SHARED_MODELS, caption: false, thumbnails: { dir: path.join(dir, 'thumbs') }, onnxThreads: THREADS, textDetectorSide: DET_SIDE, concurrency: CONCURRENCY });
      const createMs = performance.now() - t;
      t = performance.now();
      const cpuBefore = process.cpuUsage();
      const childrenBefore = childrenCpuMs();
      const results = await Promise.all(features.map((frames, i) => enricher.enrichScene({ videoPath: clip, scene: sceneOf(i), frames, boundaryConfidence: 1 })));
      const wall = performance.now() - t;
      const cpu = process.cpuUsage(cpuBefore);
      const processCpu = (cpu.user + cpu.system) / 1000;
      const childrenCpu = childrenCpuMs() - childrenBefore;
      await enricher.close();
      let cerErrors = 0;
      for (let i = 0; i < results.length; i++) {
        const r = results[i]!;
        cerErrors += characterErrorRate(expectedText(CAPTION_TEXTS[i % CAPTION_TEXTS.length]!), r.visible_text ?? '');
        print({ trial: 'pipeline-scene', scene: i, timings_overlapped_ms: r.timings, description: r.description, failures: r.failures.length });
      }
      print({
        trial: 'pipeline',
        resolution: '1280x720',
        clip_seconds: SCENES * SECONDS,
        scenes: SCENES,
        onnx_threads: THREADS,
        det_side: DET_SIDE,
        concurrency: CONCURRENCY,
        create_ms: ms(createMs),
        enrich_wall_ms: ms(wall),
        per_scene_ms: ms(wall / SCENES),
        ratio_to_duration: Math.round((wall / 1000 / (SCENES * SECONDS)) * 1000) / 1000,
        // CPU actually spent (this process with its worker threads, plus ffmpeg), and the ratio it gives on an
        // idle machine with perfect overlap over all cores: the floor that wall time approaches when nothing
        // else runs.
        cpu_ms: ms(processCpu),
        ffmpeg_cpu_ms: ms(childrenCpu),
        cpu_per_scene_ms: ms((processCpu + childrenCpu) / SCENES),
        idle_ratio_floor: Math.round(((processCpu + childrenCpu) / 1000 / availableParallelism() / (SCENES * SECONDS)) * 1000) / 1000,
        mean_scene_cer: Math.round((cerErrors / SCENES) * 1000) / 1000,
      });
    }

    // Sessions on this thread, so that each model's time is its own.
    const session = (file: string): Promise<OnnxSession> => openLocalSession(path.join(SHARED_MODELS, file), { intraOpNumThreads: THREADS });
    const det = await session('ppocr-v3-det/ch_PP-OCRv3_det_infer.onnx');
    const pool = await OcrPool.create({ workers: CONCURRENCY, psm: '7', recycleAfter: 400 });
    try {
      if (TRIALS.has('steps')) {
        const yolox = await session('yolox-nano/yolox_nano.onnx');
        const mobilenet = await session('mobilenetv2-int8/mobilenetv2-12-int8-with-embedding.onnx');
        const { readFile } = await import('node:fs/promises');
        const coco = (await readFile(path.join(SHARED_MODELS, 'yolox-nano/coco_labels.txt'), 'utf8')).split('\n').filter((l) => l.trim() !== '');
        const totals: Record<string, number> = {};
        const cpuTotals: Record<string, number> = {};
        for (let i = 0; i < SCENES; i++) {
          const frames = features[i]!;
          const key = chooseKeyframe(frames);
          const times = sampleTimes(frames, key);
          const row: Record<string, number> = {};
          const cpu: Record<string, number> = {};
          // Wall time of each step alone, and the process's CPU time (all threads; ffmpeg is a child, not counted).
          const step = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
            const c = process.cpuUsage();
            const w = performance.now();
            const result = await run();
            row[name] = (row[name] ?? 0) + performance.now() - w;
            const used = process.cpuUsage(c);
            cpu[name] = (cpu[name] ?? 0) + (used.user + used.system) / 1000;
            return result;
          };
          const decoded = await step('decode', () => decodeFramesAt(clip, times, { frameDuration: 1 / FPS }));
          const keyImage = decoded.find((d) => d.time === key.time)?.image ?? decoded[0]!.image;
          await step('thumbnail', () => encodeThumbnail(keyImage, { format: 'jpeg', width: 320, quality: 82 }));
          await step('ocr_det', async () => {
            for (const d of decoded) await detectTextBoxes(det, d.image, DET_SIDE);
          });
          const text = await step('ocr_all', () => readSceneText(decoded, { detector: det, recogniser: null, tesseract: pool, tesseractEveryLine: false }, { detectorSide: DET_SIDE }));
          // Recognition alone: the full OCR minus its detection.
          row.ocr_rec = Math.max(0, row.ocr_all! - row.ocr_det!);
          cpu.ocr_rec = Math.max(0, cpu.ocr_all! - cpu.ocr_det!);
          delete row.ocr_all;
          delete cpu.ocr_all;
          await step('yolox', async () => {
            for (const d of decoded) await detectObjects(yolox, coco, d.image);
          });
          await step('mobilenet', async () => {
            for (const d of decoded) await classify(mobilenet, d.image);
          });
          const total = Object.values(row).reduce((a, b) => a + b, 0);
          for (const [k, v] of Object.entries(row)) totals[k] = (totals[k] ?? 0) + v;
          for (const [k, v] of Object.entries(cpu)) cpuTotals[k] = (cpuTotals[k] ?? 0) + v;
          print({
            trial: 'steps',
            scene: i,
            samples: decoded.length,
            ocr_images: text.recognised,
            ...Object.fromEntries(Object.entries(row).map(([k, v]) => [`${k}_ms`, ms(v)])),
            total_ms: ms(total),
            cpu_ms: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, ms(v)])),
          });
        }
        const sum = Object.values(totals).reduce((a, b) => a + b, 0);
        print({
          trial: 'steps-mean',
          scenes: SCENES,
          ...Object.fromEntries(Object.entries(totals).map(([k, v]) => [`${k}_ms`, ms(v / SCENES)])),
          total_ms: ms(sum / SCENES),
          share: Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, Math.round((v / sum) * 1000) / 1000])),
          cpu_ms: Object.fromEntries(Object.entries(cpuTotals).map(([k, v]) => [k, ms(v / SCENES)])),
        });
        await yolox.release();
        await mobilenet.release();
      }

      if (TRIALS.has('ocr')) {
        for (const [w, h] of [
          [640, 360],
          [1280, 720],
        ] as const) {
          const ocrStills: Still[] = [];
          for (let i = 0; i < CAPTION_TEXTS.length; i++) {
            const photo = findPhoto(PHOTOS[i]!);
            const background = photo !== null && i % 2 === 0 ? await photoBackground(photo, w, h) : await busyBackground(w, h, 100 + i);
            ocrStills.push({ png: await renderFrame(background, w, h, CAPTION_TEXTS[i]!), seconds: 1 });
          }
          const ocrClip = await encodeClip(dir, `ocr${h}`, ocrStills, FPS);
          let errors = 0;
          let length = 0;
          let detMs = 0;
          let recMs = 0;
          for (let i = 0; i < ocrStills.length; i++) {
            const frames = await stillFeatures(ocrStills[i]!.png, i, 1, FPS);
            const [frame] = await decodeFramesAt(ocrClip, [chooseKeyframe(frames).time], { frameDuration: 1 / FPS });
            const result = await readSceneText([frame!], { detector: det, recogniser: null, tesseract: pool, tesseractEveryLine: false }, { detectorSide: DET_SIDE });
            detMs += result.detMs;
            recMs += result.recMs;
            const expected = expectedText(CAPTION_TEXTS[i]!);
            const cer = characterErrorRate(expected, result.text ?? '');
            errors += cer * expected.replace(/\s+/g, ' ').trim().length;
            length += expected.replace(/\s+/g, ' ').trim().length;
          }
          print({
            trial: 'ocr',
            resolution: `${w}x${h}`,
            det_side: DET_SIDE,
            frames: ocrStills.length,
            cer: Math.round((errors / length) * 10000) / 10000,
            det_ms_per_frame: ms(detMs / ocrStills.length),
            rec_ms_per_frame: ms(recMs / ocrStills.length),
            frames_per_second: Math.round((ocrStills.length / ((detMs + recMs) / 1000)) * 100) / 100,
          });
        }
      }
    } finally {
      await pool.close();
      await det.release();
    }
    print({ trial: 'load', when: 'end', loadavg: loadavg().map((v) => Math.round(v * 100) / 100) });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
