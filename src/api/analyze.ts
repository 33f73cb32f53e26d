/**
 * analyzeFile(path): probe -> detect -> enrich, returning the hosted API's VideoMetadata and VideoScene types
 * (plus frames, the thumbnail path, the embedding and what failed per scene). analyzeScenes() yields each scene
 * as soon as it is enriched, in scene order. Enrichment (sharp, onnxruntime-node, tesseract.js) loads lazily.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { AbortError, throwIfAborted } from '../errors.js';
import { SCALAR_COUNT, SCALAR_NAMES } from '../features/types.js';
import type { Boundary, Scene } from '../detect/types.js';
import type { EnricherModelStatus, EnricherOptions, EnrichFailure, EnrichFrame, SceneEnrichment, SceneTextLine } from '../enrich/types.js';
import type { VideoMetadata, VideoScene } from '../types.js';
import { bool, integerIn, oneOf, opt, plainOptions, string } from '../util/validate.js';
import { DETECTION_OPTION_KEYS } from '../detect/index.js';
import { detectScenes, type DetectOptions, type DetectResult } from './detect.js';

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
  /** Scenes enriched at once. Default: the enricher's (cores - 1, at least 1). */
  concurrency?: number;
  /** Languages of on-screen text as tesseract codes, e.g. ["eng", "deu"] (see EnricherOptions.ocrLanguages). Default ["eng"]. */
  ocrLanguages?: string[];
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
}

const ENRICH_KEYS = ['modelsDir', 'ocr', 'caption', 'captionModelDir', 'thumbnailsDir', 'thumbnailFormat', 'thumbnailWidth', 'concurrency', 'onProgress', 'ocrLanguages'] as const;
const DETECT_KEYS = [...DETECTION_OPTION_KEYS, 'statsFile', 'backend', 'workerThreads', 'decoderThreads', 'batchFrames', 'analysisArea', 'skipLoopFilter', 'ffmpegPath', 'ffprobePath', 'signal'] as const;

/** The default data folder: $XDG_DATA_HOME/scenescope, else ~/.local/share/scenescope (%LOCALAPPDATA% on Windows). */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (process.platform === 'win32') return path.join(env['LOCALAPPDATA'] ?? path.join(homedir(), 'AppData', 'Local'), 'scenescope');
  return path.join(env['XDG_DATA_HOME'] ?? path.join(homedir(), '.local', 'share'), 'scenescope');
}

interface Resolved {
  detect: DetectOptions;
  enrich: EnricherOptions;
  thumbnailsDir: string | undefined;
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
  return {
    detect: detect as DetectOptions,
    enrich,
    thumbnailsDir,
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
  const f = result.features;
  const at = (i: number, name: (typeof SCALAR_NAMES)[number]): number => f.scalars[i * SCALAR_COUNT + SCALAR_NAMES.indexOf(name)]!;
  const frames: EnrichFrame[] = [];
  for (let i = scene.start_frame; i < scene.end_frame; i++) {
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

/** Enrich the scenes of a detection result; yields each scene as soon as it (and every scene before it) is done. */
export async function* enrichScenes(result: DetectResult, options: AnalyzeOptions = {}, onProgress?: (done: number, total: number) => void): AsyncGenerator<AnalyzedScene, EnricherModelStatus[]> {
  const resolved = resolveAnalyzeOptions(options);
  const videoKey = createHash('sha1').update(result.probe.path).digest('hex').slice(0, 12);
  const thumbsDir = path.resolve(resolved.thumbnailsDir ?? path.join(defaultDataDir(), 'thumbnails', videoKey));
  resolved.enrich.thumbnails = { ...resolved.enrich.thumbnails!, dir: thumbsDir };
  const { createEnricher } = await import('../enrich/index.js');
  const enricher = await createEnricher(resolved.enrich);
  const total = result.scenes.length;
  const key = await fileKey(result.probe.path);
  let done = 0;
  try {
    const jobs = result.scenes.map(async (scene) => {
      const e = await enricher.enrichScene({ videoPath: result.probe.path, rotation: result.probe.stream.rotation, scene, frames: sceneFrames(result, scene), boundaryConfidence: sceneBoundaryConfidence(result, scene), ...(resolved.signal ? { signal: resolved.signal } : {}) });
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
    await enricher.close();
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
 * @throws InputError for bad files (see docs/errors.md), OptionError, AbortError.
 */
export function analyzeScenes(filePath: string, options: AnalyzeOptions = {}): AnalysisRun {
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
  const result = (async (): Promise<AnalysisResult> => {
    try {
      const detected = await detectScenes(filePath, { ...resolved.detect, onProgress: (p) => progress(p.percent * 0.4, p.currentStep, 'detect') });
      const scenes: AnalyzedScene[] = [];
      const iterator = enrichScenes(detected, options, (done, total) => progress(40 + (60 * done) / total, `Enriching scenes (${done}/${total})`, 'enrich'));
      progress(40, `Enriching scenes (0/${detected.scenes.length})`, 'enrich');
      let step = await iterator.next();
      while (step.done !== true) {
        scenes.push(step.value);
        queue.push(step.value);
        waiter.wake?.();
        step = await iterator.next();
      }
      const first = scenes[0];
      return {
        schema_version: 1,
        video: detected.video,
        frame_count: detected.frame_count,
        frame_rate: detected.frame_rate,
        boundaries: detected.boundaries,
        scenes,
        models: step.value,
        thumbnails_dir: first?.thumbnail_path ? path.dirname(first.thumbnail_path) : path.resolve(resolved.thumbnailsDir ?? defaultDataDir()),
      };
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
export function analyzeFile(filePath: string, options: AnalyzeOptions = {}): Promise<AnalysisResult> {
  return analyzeScenes(filePath, options).result;
}
