/**
 * The types of scene enrichment: what the enricher takes for one scene and what it returns. Kept apart from the
 * code so that importing them costs nothing (no sharp, onnxruntime or tesseract).
 */

import type { DescribeInput, TagScore } from './describe.js';

/** An 8-bit RGB image, packed row-major, 3 bytes a pixel. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
  /** Always 3. */
  channels: 3;
}

/** The per-frame features the enricher reads (a subset of the detector's scalars, see src/features/types.ts). */
export interface EnrichFrame {
  /** Presentation time in seconds, first frame of the video at 0. */
  time: number;
  /** Mean luma 0..255. */
  mean_luma: number;
  /** Standard deviation of luma. */
  std_luma: number;
  /** Mean absolute Laplacian of luma (higher is sharper). */
  sharpness: number;
  /** Mean absolute brightness difference to the previous frame (0..255). */
  delta_lum: number;
}

/** The scene being enriched (fields as in src/detect/types.ts `Scene`). */
export interface EnrichSceneRef {
  scene_index: number;
  start_frame: number;
  /** Exclusive. */
  end_frame: number;
  start_time: number;
  /** Exclusive. */
  end_time: number;
}

/** Input of {@link Enricher.enrichScene}. */
export interface EnrichSceneInput {
  /** The video file. */
  videoPath: string;
  /**
   * Display rotation in degrees from the probe. Informational: ffmpeg applies the display matrix itself
   * (autorotate), so decoded frames are already upright.
   */
  rotation?: number;
  scene: EnrichSceneRef;
  /** The scene's frames, in order (from `start_frame` to `end_frame - 1`). May be empty for a scene too short to measure. */
  frames: readonly EnrichFrame[];
  /**
   * 0..1: how clear the scene's boundaries are. The caller passes the smaller confidence of the boundaries that
   * open and close the scene (1 for the start and end of the video). See docs/confidence.md.
   */
  boundaryConfidence: number;
  /**
   * Folder for this scene's thumbnail, instead of the enricher's `thumbnails.dir` (so one enricher, and one set
   * of model sessions, can serve several videos at once).
   */
  thumbnailsDir?: string;
  signal?: AbortSignal;
}

/** The steps of enrichment that can fail on their own without failing the scene. */
export type EnrichStep = 'keyframe' | 'thumbnail' | 'ocr' | 'objects' | 'labels' | 'caption' | 'embedding';

/** One failed step of one scene. */
export interface EnrichFailure {
  step: EnrichStep;
  /** An error code from src/errors.ts (for example OCR_FAILED, MODEL_FAILED). */
  code: string;
  message: string;
}

/** A scene embedding with the model that made it. */
export interface SceneEmbedding {
  /** Model id: a manifest id (for example "mobilenetv2-int8") or "scenescope-colour-layout-v1". */
  model: string;
  dimension: number;
  /** L2-normalised. */
  vector: Float32Array;
}

/** What the enricher produces for one scene. */
export interface SceneEnrichment {
  /** Time of the representative frame (seconds, a real frame's presentation time). */
  keyframe_time: number;
  /** Thumbnail path relative to the thumbnails folder, or null when no thumbnails were asked for or writing failed. */
  thumbnail_path: string | null;
  /** One plain English sentence. Never empty. */
  description: string;
  /** Lower-case, deduplicated: stated nouns, likely ones and measured facts (see src/enrich/describe.ts). */
  tags: string[];
  /**
   * Every tag with its score (the model's, or 1 for a measured fact) and source, plus weaker candidates that
   * are neither in the sentence nor in `tags`: filter on the score to trade recall for precision.
   */
  tag_scores: TagScore[];
  /**
   * Lines of on-screen text joined by "\n", or null when none was read: the scene's own lines in reading order,
   * then persistent ones (logos, tickers).
   */
  visible_text: string | null;
  /** Each line of on-screen text with when it was seen and who read it; null when OCR did not run or failed. */
  text_lines: SceneTextLine[] | null;
  /**
   * Where each line of `text_lines` is on the frame (fractions of its width and height, in the same order), so
   * that lines can be matched across scenes again later (persistent lines over a video enriched in parts).
   */
  text_boxes?: TextBox[] | null;
  /**
   * What the description and tags were composed from (src/enrich/describe.ts), so that they can be composed
   * again when the visible text changes (its persistent lines marked over the whole video).
   */
  facts?: DescribeInput;
  /** 0..1, see docs/confidence.md. */
  confidence_score: number;
  embedding: SceneEmbedding | null;
  embedding_status: 'completed' | 'failed' | 'skipped';
  failures: EnrichFailure[];
  /** Milliseconds spent per step for this scene (keys: decode, thumbnail, ocr_det, ocr_rec, objects, labels, caption, describe). */
  timings: Record<string, number>;
  /** The models that contributed to this scene (ids), for provenance. */
  models_used: string[];
}

/** The place of a line of text on the frame: fractions of the frame's height (top, height) and width (left, width). */
export interface TextBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** One line of on-screen text of a scene. */
export interface SceneTextLine {
  text: string;
  /** Seconds from the start of the video: the first and the last sample of the scene the line was read in. */
  first_seen: number;
  last_seen: number;
  /** "ppocr" (PP-OCRv4, the default) or "tesseract" (lines PP-OCR was unsure of, or languages it lacks). */
  engine: 'ppocr' | 'tesseract';
  /** 0..1: the reading's mean character probability (PP-OCR) or tesseract's confidence / 100. */
  confidence: number;
  /** The same line is on screen at the same place in at least three scenes (a logo, a ticker, a watermark). */
  persistent: boolean;
}

/** Status of one model or engine the enricher uses. */
export interface EnricherModelStatus {
  id: string;
  task: string;
  version: string;
  status: 'loaded' | 'missing' | 'failed' | 'disabled';
  reason?: string;
  hint?: string;
}

/** Thumbnail settings. */
export interface ThumbnailOptions {
  /** Folder the thumbnails are written to (created when missing). */
  dir: string;
  /** Default "jpeg". */
  format?: 'jpeg' | 'webp';
  /** Width in pixels, 16..4096. Default 320. Height follows the display aspect ratio. */
  width?: number;
  /** Quality 1..100. Default 82. */
  quality?: number;
}

/** Options of {@link createEnricher}. All optional. */
export interface EnricherOptions {
  /** The models folder (default: the registry's default, `SCENESCOPE_MODELS_DIR` or the per-user folder). */
  modelsDir?: string;
  /** Read on-screen text. Default true. */
  ocr?: boolean;
  /** Use an installed image captioner for the description. Default true. */
  caption?: boolean;
  /**
   * A caption model folder to use instead of looking in the models folder (Optimum's VisionEncoderDecoder ONNX
   * layout, see src/caption). Not in the manifest, so not verified.
   */
  captionModelDir?: string;
  /** Write a thumbnail per scene. Default: none. */
  thumbnails?: ThumbnailOptions;
  /** Scenes enriched at once (sizes the OCR worker pool and ONNX threads). 1..16, default min(2, cores). */
  concurrency?: number;
  /** Recycle a tesseract worker after this many images (its memory grows). Default 400. */
  ocrRecycleAfter?: number;
  /** Compute an embedding per scene. Default true; false gives embedding_status "skipped". */
  embedding?: boolean;
  /** onnxruntime intra-op threads per session. Default 1 (inference runs on the calling thread; OCR workers use the other cores). */
  onnxThreads?: number;
  /**
   * Languages of on-screen text, as tesseract codes (for example ["eng", "deu"]). Default ["eng"]. English (and
   * Chinese, "chi_sim"/"chi_tra") is read by PP-OCRv4; for any other language tesseract reads every line as
   * well, with the data of the `@tesseract.js-data/<lang>` package, which must be installed
   * (`npm install @tesseract.js-data/deu`); createEnricher throws ModelError OCR_LANGUAGE_MISSING otherwise.
   */
  ocrLanguages?: string[];
  /**
   * Seconds between OCR samples across a scene, 0.1..10. Default 1 (0.5 read the caption corpus no better and cost
   * 40 % more CPU, benchmarks/analyze.ts --subtitled). The last frame of each scene is always
   * read, so a caption shown only at the end of a scene is found whatever the interval; a longer interval costs
   * less (one text detection per sample) but can miss short captions in the middle of a scene.
   */
  ocrInterval?: number;
  /** Longest side of the frame fed to the text detector, 320..2048. Default 640 (PaddleOCR uses 960; 640 costs 61 % of 736 and read the caption corpus as well, see ocr-detect.ts). */
  textDetectorSide?: number;
  /** Aborting closes the enricher (terminates OCR workers, releases sessions). */
  signal?: AbortSignal;
  /** Path to ffmpeg (default: `SCENESCOPE_FFMPEG_PATH`, then the bundled binary). */
  ffmpegPath?: string;
}

/** A scene enricher: models loaded once, reused for every scene. */
export interface Enricher {
  /** The models and engines the enricher uses, with their status. */
  models(): EnricherModelStatus[];
  /**
   * Enrich one scene. Steps that fail (OCR, caption, a model) are listed in `failures` and the rest goes on.
   * @throws AbortError when the scene's or the enricher's signal is aborted; InputError DECODE_FAILED when no
   *   frame of the scene can be decoded; JobError INVALID_STATE after close().
   */
  enrichScene(input: EnrichSceneInput): Promise<SceneEnrichment>;
  /**
   * Enrich the scenes of one video, decoding the frames they read in one pass over the video (frame-stream.ts)
   * instead of one ffmpeg process per scene: a promise per scene, in the order given. Scenes run at the
   * enricher's concurrency, in time order.
   * @throws OptionError INVALID_OPTION when the scenes are not all of one video; JobError INVALID_STATE after
   *   close(). Each promise rejects as {@link enrichScene} does.
   */
  enrichScenes(inputs: readonly EnrichSceneInput[]): Promise<SceneEnrichment>[];
  /** Terminate OCR workers and release model sessions. Idempotent. */
  close(): Promise<void>;
}
