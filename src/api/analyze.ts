/**
 * analyzeFile(path): probe -> detect -> enrich, returning the hosted API's VideoMetadata and VideoScene types
 * (plus frames, the thumbnail path, the embedding and what failed per scene). analyzeScenes() yields each scene
 * as soon as it is enriched, in scene order. Enrichment (sharp, onnxruntime-node, tesseract.js) loads lazily.
 */
import { createHash } from 'node:crypto';
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AbortError, OptionError, ScenescopeError, throwIfAborted } from '../errors.js';
import { SCALAR_COUNT, SCALAR_NAMES } from '../features/types.js';
import type { Boundary, Scene } from '../detect/types.js';
import type { EnricherModelStatus, EnricherOptions, EnrichFailure, EnrichFrame, SceneEnrichment, SceneTextLine } from '../enrich/types.js';
import type { TagScore } from '../enrich/describe.js';
import { degradedFeatures, type DegradedFeature } from '../enrich/degraded.js';
import { requireModelsDir } from '../models/registry.js';
import type { VideoMetadata, VideoScene } from '../types.js';
import { bool, inputPath, integerIn, oneOf, opt, plainOptions, string } from '../util/validate.js';
import { dataDir, thumbnailsDir as defaultThumbnailsDir } from '../util/paths.js';
import { DETECTION_OPTION_KEYS } from '../detect/index.js';
import { detectScenes, type DetectOptions, type DetectResult } from './detect.js';
import { withAnalysisSlot } from './limit.js';
import { acquireEnricher } from './shared-enricher.js';

/** Progress of an analysis. */
export interface AnalyzeProgress {
  /** 0..100, rising monotonically. */
  percent: number;
  /** "Detecting scenes (1520/3440 frames)", "Enriching scenes (3/12)" */
  currentStep: string;
  phase: 'detect' | 'enrich';
}

/** Options of analyzeFile (all optional). Detection options (detector, threshold, minSceneLen...) apply too. */
export interface AnalyzeOptions extends Omit<DetectOptions, 'onProgress'> {
  /** Models folder (default: SCENESCOPE_MODELS_DIR, else ~/.local/share/scenescope/models). */
  modelsDir?: string;
  /** Read on-screen text. Default true. */
  ocr?: boolean;
  /**
   * Languages of the on-screen text as tesseract codes, e.g. ["eng", "deu"] (`scenescope analyze --ocr-lang
   * eng,deu`). Default ["eng"]. PP-OCRv4 reads English (and Chinese); other languages are read by tesseract.js
   * from their `@tesseract.js-data/<lang>` package (see EnricherOptions.ocrLanguages).
   */
  ocrLanguages?: string[];
  /** Use an installed image captioner for the description. Default true. */
  caption?: boolean;
  /** A captioner folder (Optimum's VisionEncoderDecoder layout) to use as is, without the registry's checks. */
  captionModelDir?: string;
  /** Thumbnail folder; `thumbnail_url` is relative to it. Default: <data dir>/thumbnails/<video key>. */
  thumbnailsDir?: string;
  /** "jpeg" (default) or "webp". */
  thumbnailFormat?: 'jpeg' | 'webp';
  /** Thumbnail width in pixels. Default 320. */
  thumbnailWidth?: number;
  /**
   * Where scene embeddings go (1280 floats a scene with MobileNetV2). "inline" (default): in each scene's
   * `embedding.vector`; "none": not computed (`embedding` null, `embedding_status` "skipped"); "file": written to
   * `embeddingsFile` as one JSON document (see {@link EmbeddingsFile}), each scene's `embedding` null and the
   * result's `embeddings_file` naming the file.
   */
  embeddings?: 'inline' | 'none' | 'file';
  /** The file "file" embeddings are written to (required with `embeddings: 'file'`, not allowed otherwise). */
  embeddingsFile?: string;
  /** Scenes enriched at once. Default: the enricher's (cores - 1, at least 1). */
  concurrency?: number;
  onProgress?: (progress: AnalyzeProgress) => void;
}

/** A scene with everything the analysis found. VideoScene's fields, plus frames and provenance. */
export interface AnalyzedScene extends VideoScene {
  start_frame: number;
  /** Exclusive. */
  end_frame: number;
  /** The boundary that opened this scene (null for the first scene). */
  boundary: { kind: Boundary['kind']; confidence: number } | null;
  /** Time of the keyframe the thumbnail and models used. */
  keyframe_time: number;
  /** Absolute path of the thumbnail, or null when it failed. */
  thumbnail_path: string | null;
  embedding: { model: string; dimension: number; vector: number[] } | null;
  /** Every tag with its score and source, plus weaker candidates not in `tags` (see docs/enrich.md). */
  tag_scores: TagScore[];
  /** Steps that failed for this scene, with the reason; the rest of the analysis went on. */
  failures: EnrichFailure[];
  /** Models whose output this scene used. */
  models_used: string[];
  /** Each line of on-screen text with when it was first and last seen, who read it, and whether it is persistent. */
  text_lines: SceneTextLine[] | null;
}

/** What analyzeFile returns (schema_version 1). */
export interface AnalysisResult {
  schema_version: 1;
  video: VideoMetadata;
  frame_count: number;
  frame_rate: number;
  boundaries: Boundary[];
  scenes: AnalyzedScene[];
  /** Every model the analysis knows, with its status; missing ones say how to install them. */
  models: EnricherModelStatus[];
  /** The thumbnail folder `thumbnail_url` is relative to. */
  thumbnails_dir: string;
  /**
   * What the analysis could not do because a model is missing or failed to load, with the command that
   * installs it; empty when everything the pipeline uses was there. The library never prints: the CLI shows it.
   */
  degraded: DegradedFeature[];
  /** Absolute path of the embeddings file (with `embeddings: 'file'`), else null. */
  embeddings_file: string | null;
}

/** The document written with `embeddings: 'file'`: one entry a scene, in scene order. */
export interface EmbeddingsFile {
  schema_version: 1;
  video: string;
  scenes: { scene_id: string; scene_index: number; model: string; dimension: number; vector: number[] }[];
}

const ENRICH_KEYS = ['modelsDir', 'ocr', 'ocrLanguages', 'caption', 'captionModelDir', 'thumbnailsDir', 'thumbnailFormat', 'thumbnailWidth', 'concurrency', 'onProgress', 'embeddings', 'embeddingsFile'] as const;
const DETECT_KEYS = [...DETECTION_OPTION_KEYS, 'statsFile', 'backend', 'workerThreads', 'decoderThreads', 'batchFrames', 'analysisArea', 'skipLoopFilter', 'start', 'end', 'ffmpegPath', 'ffprobePath', 'maxFrames', 'timeLimitMs', 'signal'] as const;

/** The default data folder (decided in one place, src/util/paths.ts: SCENESCOPE_DATA_DIR, XDG_DATA_HOME, platform folders). */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return dataDir({ env });
}

interface Resolved {
  detect: DetectOptions;
  enrich: EnricherOptions;
  thumbnailsDir: string | undefined;
  embeddings: 'inline' | 'none' | 'file';
  embeddingsFile: string | undefined;
  onProgress: ((p: AnalyzeProgress) => void) | undefined;
  signal: AbortSignal | undefined;
}

function resolveAnalyzeOptions(input: unknown): Resolved {
  const o = plainOptions('analyzeFile options', input, [...DETECT_KEYS, ...ENRICH_KEYS]);
  const detect: Record<string, unknown> = {};
  for (const key of DETECT_KEYS) if (o[key] !== undefined) detect[key] = o[key];
  const enrich: EnricherOptions = {
    ocr: opt(o, 'ocr', true, bool),
    caption: opt(o, 'caption', true, bool),
  };
  const modelsDir = opt<string | undefined>(o, 'modelsDir', undefined, string);
  if (modelsDir !== undefined) enrich.modelsDir = modelsDir;
  const captionModelDir = opt<string | undefined>(o, 'captionModelDir', undefined, string);
  if (captionModelDir !== undefined) enrich.captionModelDir = captionModelDir;
  const concurrency = opt<number | undefined>(o, 'concurrency', undefined, (n, v) => integerIn(n, v, 1, 64));
  if (concurrency !== undefined) enrich.concurrency = concurrency;
  if (o['signal'] instanceof AbortSignal) enrich.signal = o['signal'];
  if (typeof o['ffmpegPath'] === 'string') enrich.ffmpegPath = o['ffmpegPath'];
  // Validated by the enricher (createEnricher), the one place that knows the languages.
  if (o['ocrLanguages'] !== undefined) enrich.ocrLanguages = o['ocrLanguages'] as string[];
  const format = opt(o, 'thumbnailFormat', 'jpeg', (n, v) => oneOf(n, v, ['jpeg', 'webp'] as const));
  const width = opt(o, 'thumbnailWidth', 320, (n, v) => integerIn(n, v, 16, 4096));
  const thumbnailsDir = opt<string | undefined>(o, 'thumbnailsDir', undefined, string);
  enrich.thumbnails = { dir: thumbnailsDir ?? '', format, width };
  const embeddings = opt(o, 'embeddings', 'inline' as const, (n, v) => oneOf(n, v, ['inline', 'none', 'file'] as const));
  const embeddingsFile = opt<string | undefined>(o, 'embeddingsFile', undefined, (n, v) => path.resolve(string(n, v)));
  if (embeddings === 'file' && embeddingsFile === undefined) throw new OptionError('Expected a file path for embeddingsFile with embeddings "file" but received undefined');
  if (embeddings !== 'file' && embeddingsFile !== undefined) throw new OptionError(`embeddingsFile applies only to embeddings "file", not "${embeddings}"`);
  if (embeddings === 'none') enrich.embedding = false;
  return {
    detect: detect as DetectOptions,
    enrich,
    thumbnailsDir,
    embeddings,
    embeddingsFile,
    onProgress: typeof o['onProgress'] === 'function' ? (o['onProgress'] as (p: AnalyzeProgress) => void) : undefined,
    signal: o['signal'] instanceof AbortSignal ? o['signal'] : undefined,
  };
}

/** What identifies a file for scene ids: its path, size and mtime (read once per analysis). */
async function fileKey(filePath: string): Promise<string> {
  const info = await stat(filePath);
  return `${filePath}\0${info.size}\0${Math.floor(info.mtimeMs)}`;
}

/** A stable id for a scene of a file: the same file and frames give the same id. */
function sceneIdFor(key: string, scene: Scene): string {
  return createHash('sha1').update(`${key}\0${scene.start_frame}\0${scene.end_frame}`).digest('hex').slice(0, 20);
}

/** The per-frame facts keyframe choice needs, for the frames of one scene. */
export function sceneFrames(result: DetectResult, scene: Scene): EnrichFrame[] {
  // One window per scene: the whole series of a long video never comes onto the heap. Scene frames are
  // whole-video frame numbers; the features start at frameOffset (a `start` range).
  const f = result.readFeatures(scene.start_frame - result.frameOffset, scene.end_frame - result.frameOffset);
  const at = (i: number, name: (typeof SCALAR_NAMES)[number]): number => f.scalars[i * SCALAR_COUNT + SCALAR_NAMES.indexOf(name)]!;
  const frames: EnrichFrame[] = [];
  for (let i = 0; i < f.count; i++) {
    frames.push({ time: f.times[i]!, mean_luma: at(i, 'mean_luma'), std_luma: at(i, 'std_luma'), sharpness: at(i, 'sharpness'), delta_lum: at(i, 'delta_lum') });
  }
  return frames;
}

/** The weaker confidence of a scene's two boundaries; 1 at the start and end of the video. */
export function sceneBoundaryConfidence(result: DetectResult, scene: Scene): number {
  const opening = result.boundaries.find((b) => b.frame === scene.start_frame);
  const closing = result.boundaries.find((b) => b.frame === scene.end_frame);
  return Math.min(opening?.confidence ?? 1, closing?.confidence ?? 1);
}

function toAnalyzedScene(result: DetectResult, scene: Scene, id: string, e: SceneEnrichment, thumbsDir: string): AnalyzedScene {
  const opening = result.boundaries.find((b) => b.frame === scene.start_frame);
  return {
    scene_id: id,
    scene_index: scene.scene_index,
    start_time: scene.start_time,
    end_time: scene.end_time,
    time_range_formatted: scene.time_range_formatted,
    description: e.description,
    tags: e.tags,
    tag_scores: e.tag_scores,
    visible_text: e.visible_text,
    text_lines: e.text_lines,
    confidence_score: e.confidence_score,
    embedding_status: e.embedding_status,
    thumbnail_url: e.thumbnail_path,
    created_at: new Date().toISOString(),
    start_frame: scene.start_frame,
    end_frame: scene.end_frame,
    boundary: opening === undefined ? null : { kind: opening.kind, confidence: opening.confidence },
    keyframe_time: e.keyframe_time,
    thumbnail_path: e.thumbnail_path === null ? null : path.resolve(thumbsDir, e.thumbnail_path),
    embedding: e.embedding === null ? null : { model: e.embedding.model, dimension: e.embedding.dimension, vector: Array.from(e.embedding.vector, (v) => Number(v.toPrecision(7))) },
    failures: e.failures,
    models_used: e.models_used,
  };
}

/**
 * The analysis result as JSON for people: indented like `JSON.stringify(value, null, indent)`, except that each
 * embedding vector stays on one line (1280 numbers one a line made a 6-scene result 170 KB to scroll through).
 */
export function stringifyAnalysis(value: unknown, indent = 2): string {
  const vectors: string[] = [];
  const marker = '\u0000vector:';
  const json = JSON.stringify(
    value,
    (key, v: unknown) => {
      if (key === 'vector' && Array.isArray(v)) {
        vectors.push(JSON.stringify(v));
        return `${marker}${vectors.length - 1}`;
      }
      return v;
    },
    indent,
  );
  return json.replace(/"\\u0000vector:(\d+)"/g, (_, i: string) => vectors[Number(i)]!);
}

async function writeEmbeddingsFile(file: string, doc: EmbeddingsFile): Promise<void> {
  try {
    await writeFile(file, stringifyAnalysis(doc) + '\n');
  } catch (error) {
    throw new ScenescopeError('WRITE_FAILED', `Cannot write the embeddings file ${file}: ${(error as Error).message}`, { cause: error, details: { path: file } });
  }
}

/** Enrich the scenes of a detection result; yields each scene as soon as it (and every scene before it) is done. */
export async function* enrichScenes(result: DetectResult, options: AnalyzeOptions = {}, onProgress?: (done: number, total: number) => void): AsyncGenerator<AnalyzedScene, EnricherModelStatus[]> {
  const resolved = resolveAnalyzeOptions(options);
  const videoKey = createHash('sha1').update(result.probe.path).digest('hex').slice(0, 12);
  const thumbsDir = path.resolve(resolved.thumbnailsDir ?? path.join(defaultThumbnailsDir(), videoKey));
  resolved.enrich.thumbnails = { ...resolved.enrich.thumbnails!, dir: thumbsDir };
  // Concurrent analyses with the same enrichment options share one enricher: one set of model sessions.
  const lease = await acquireEnricher(resolved.enrich);
  const enricher = lease.enricher;
  const total = result.scenes.length;
  const key = await fileKey(result.probe.path);
  let done = 0;
  try {
    // One decoding pass over the video serves every scene's samples (enrichScenes, src/enrich/frame-stream.ts).
    const inputs = result.scenes.map((scene) => ({ videoPath: result.probe.path, rotation: result.probe.stream.rotation, scene, frames: sceneFrames(result, scene), boundaryConfidence: sceneBoundaryConfidence(result, scene), thumbnailsDir: thumbsDir, ...(resolved.signal ? { signal: resolved.signal } : {}) }));
    const enriched = enricher.enrichScenes(inputs);
    const jobs = result.scenes.map(async (scene, i) => {
      const e = await enriched[i]!;
      onProgress?.(++done, total);
      return toAnalyzedScene(result, scene, sceneIdFor(key, scene), e, thumbsDir);
    });
    jobs.forEach((j) => j.catch(() => undefined));
    for (const job of jobs) {
      throwIfAborted(resolved.signal);
      yield await job;
    }
    return enricher.models();
  } finally {
    lease.release();
  }
}

/** A running analysis: iterate it for scenes as they are enriched; `result` resolves when all are done. */
export interface AnalysisRun extends AsyncIterable<AnalyzedScene> {
  result: Promise<AnalysisResult>;
}

/**
 * Analyse a video: probe, detect scenes, then give every scene a thumbnail, visible text, a description, tags and
 * an embedding. Without models it still completes (description from visual facts and text; `models` says what
 * is missing and how to install it).
 * @throws InputError for bad files (see docs/errors.md), OptionError, ModelError MODELS_DIR_NOT_FOUND when
 *   `modelsDir` is given but is not a folder, ScenescopeError WRITE_FAILED when the embeddings file cannot be
 *   written, AbortError.
 */
export function analyzeScenes(filePath: string | URL, options: AnalyzeOptions = {}): AnalysisRun {
  const file = inputPath('the video path', filePath);
  const resolved = resolveAnalyzeOptions(options);
  const queue: AnalyzedScene[] = [];
  const waiter: { wake: (() => void) | null } = { wake: null };
  let finished = false;
  let failure: unknown = null;
  let last = 0;
  const progress = (percent: number, currentStep: string, phase: AnalyzeProgress['phase']): void => {
    last = Math.max(last, Math.min(100, percent));
    resolved.onProgress?.({ percent: last, currentStep, phase });
  };
  // The whole analysis (detection and enrichment) holds one of the process's analysis slots (api/limit.ts).
  const analyse = async (): Promise<AnalysisResult> => {
    let detected: DetectResult | undefined;
    try {
      // Checked first: a mistyped folder should fail in a second, not after detection.
      if (resolved.enrich.modelsDir !== undefined) await requireModelsDir(path.resolve(resolved.enrich.modelsDir));
      detected = await detectScenes(file, { ...resolved.detect, onProgress: (p) => progress(p.percent * 0.4, p.currentStep, 'detect') });
      const scenes: AnalyzedScene[] = [];
      const iterator = enrichScenes(detected, options, (done, total) => progress(40 + (60 * done) / total, `Enriching scenes (${done}/${total})`, 'enrich'));
      progress(40, `Enriching scenes (0/${detected.scenes.length})`, 'enrich');
      const vectors: EmbeddingsFile = { schema_version: 1, video: detected.probe.path, scenes: [] };
      let step = await iterator.next();
      while (step.done !== true) {
        const e = step.value.embedding;
        if (resolved.embeddings === 'file' && e !== null) {
          vectors.scenes.push({ scene_id: step.value.scene_id, scene_index: step.value.scene_index, ...e });
          step.value.embedding = null;
        }
        scenes.push(step.value);
        queue.push(step.value);
        waiter.wake?.();
        step = await iterator.next();
      }
      const first = scenes[0];
      const models = step.value;
      let embeddingsFile: string | null = null;
      if (resolved.embeddings === 'file') {
        embeddingsFile = resolved.embeddingsFile!;
        await writeEmbeddingsFile(embeddingsFile, vectors);
      }
      return {
        schema_version: 1,
        video: detected.video,
        frame_count: detected.frame_count,
        frame_rate: detected.frame_rate,
        boundaries: detected.boundaries,
        scenes,
        models,
        thumbnails_dir: first?.thumbnail_path ? path.dirname(first.thumbnail_path) : path.resolve(resolved.thumbnailsDir ?? defaultDataDir()),
        degraded: degradedFeatures(models, resolved.enrich.modelsDir === undefined ? undefined : path.resolve(resolved.enrich.modelsDir)),
        embeddings_file: embeddingsFile,
      };
    } finally {
      // The per-frame features are in a temporary file: give its space back now rather than at GC.
      detected?.release();
    }
  };
  const result = (async (): Promise<AnalysisResult> => {
    try {
      return await withAnalysisSlot(resolved.signal, analyse);
    } catch (error) {
      failure = resolved.signal?.aborted === true ? new AbortError(undefined, { cause: resolved.signal.reason }) : error;
      throw failure;
    } finally {
      finished = true;
      waiter.wake?.();
    }
  })();
  result.catch(() => undefined);
  return {
    result,
    async *[Symbol.asyncIterator](): AsyncGenerator<AnalyzedScene> {
      for (;;) {
        if (queue.length > 0) {
          yield queue.shift()!;
          continue;
        }
        if (failure !== null) throw failure;
        if (finished) return;
        await new Promise<void>((resolve) => (waiter.wake = resolve));
        waiter.wake = null;
      }
    },
  };
}

/** Analyse a video and resolve with the whole result. See analyzeScenes(). */
export function analyzeFile(filePath: string | URL, options: AnalyzeOptions = {}): Promise<AnalysisResult> {
  try {
    return analyzeScenes(filePath, options).result;
  } catch (error) {
    // Bad options reject like every other failure of a promise-returning call.
    return Promise.reject(error);
  }
}
