/**
 * Public types of the media library that the hosted API's "Video Types" do not cover: upload results, the
 * processing status of a file, search results, options. Data fields are snake_case like the hosted API's;
 * methods and options are camelCase.
 */
import type { AnalysisPipeline, AnalysisType } from '../jobs/pipeline.js';
import type { DegradedRecord, LibraryStore, SceneTextLineRecord, TagScoreRecord } from '../store/types.js';
import type { VideoAnalysisJobStatus, VideoMetadata, VideoScene, VideoSceneList, VideoUploadStatus } from '../types.js';

/** Options of openLibrary(). All optional. */
export interface LibraryOptions {
  /**
   * The library database file. Default: `SCENESCOPE_LIBRARY`, else the per-user data folder
   * (`$XDG_DATA_HOME/scenescope/library.db`, i.e. `~/.local/share/scenescope/library.db` on Linux;
   * `~/Library/Application Support/scenescope/library.db` on macOS; `%LOCALAPPDATA%\scenescope\library.db` on
   * Windows). Thumbnails, posters and copied files go to `<name>.assets/` next to it.
   */
  path?: string;
  /**
   * The library's database: a `postgres://user@host:5432/db` URL (a library shared by workers on many hosts,
   * see docs/library.md) or a SQLite file path. Same as `path`; give one of them.
   */
  database?: string;
  /**
   * Create the library when there is none (default true). False: a missing SQLite file (or a PostgreSQL
   * database without scenescope's tables) is StoreError LIBRARY_NOT_FOUND, and nothing is created (what
   * read-only commands use, so that a mistyped path is an error, not an empty library).
   */
  create?: boolean;
  /**
   * A job store and catalog to use instead of the SQLite file (a server database, see docs/library.md). The
   * library closes it on close().
   */
  store?: LibraryStore;
  /** Folder of thumbnails, posters and copied files. Default `<name>.assets/` beside the database file. */
  assetsDir?: string;
  /** Jobs run at the same time in this process. 0: none (queue only; `scenescope worker` processes run them). Default 1. */
  workers?: number;
  /** The analysis pipeline. Default: the real engine (probe, detectScenes, thumbnails / enrichment). */
  pipeline?: AnalysisPipeline;
  /** max_retries of new jobs. Default 3. */
  maxRetries?: number;
  /** Lease of a claimed job: a worker silent this long loses it to another. Default 5000 ms. */
  leaseMs?: number;
  /** Heartbeat period of running jobs (lease, progress, cancel check). Default 200 ms. */
  heartbeatMs?: number;
  /** Queue poll period of idle workers. Default 500 ms. */
  pollMs?: number;
  /** How long a statement waits for another process's lock. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** Path to ffmpeg / ffprobe (default: environment, then the bundled binaries). */
  ffmpegPath?: string;
  ffprobePath?: string;
  /**
   * A video longer than this many seconds is detected in chunks of about this length, which every worker of
   * the library may decode at once (the boundaries are those of one pass; see docs/library.md). 0: never.
   * Default 600 (10 minutes). Used by the default pipeline.
   */
  chunkSeconds?: number;
  /**
   * Decode budget of every job's detect step (the default pipeline's): a video that decodes more frames than
   * this fails with BUDGET_EXCEEDED (a decode bomb: a tiny file that claims hours of 8K). Chunked videos are held
   * to it per chunk and once merged. Default: no limit.
   */
  maxFrames?: number;
  /**
   * Decode budget in milliseconds of wall clock: one pass, or each chunk of a chunked video, that decodes longer
   * fails with BUDGET_EXCEEDED. Default: no limit.
   */
  timeLimitMs?: number;
}

/** Options of media.upload(). */
export interface UploadOptions {
  /** Queue an analysis job once the file is registered. Default true. */
  autoAnalyze?: boolean;
  /** Copy the file into the library's folder instead of referencing it in place. Default false. */
  copy?: boolean;
  /** Analysis type of the queued job. Default "full". */
  analysisType?: AnalysisType;
  /** Priority of the queued job (higher first). Default 0. */
  priority?: number;
  signal?: AbortSignal;
  /** Hashing/copy progress. */
  onProgress?: (progress: { bytes: number; total_bytes: number; upload_status: VideoUploadStatus }) => void;
}

/** Options of media.uploadFolder(). */
export interface UploadFolderOptions extends Omit<UploadOptions, 'onProgress'> {
  /** Walk sub-folders. Default true. */
  recursive?: boolean;
  /** One file done. */
  onFile?: (result: MediaUploadResult) => void;
}

/** A registered file, as upload() returns it. */
export interface MediaUploadResult {
  media_id: string;
  file_name: string;
  /** The file analysed (the library's copy when copied). */
  file_path: string;
  upload_status: VideoUploadStatus;
  /** True when a file with the same content was already in the library: this is that record. */
  duplicate: boolean;
  sha256: string | null;
  video_metadata: VideoMetadata | null;
  error_code: string | null;
  error_message: string | null;
  /** The queued (or already active) analysis job, or null without autoAnalyze. */
  analysis_job_id: string | null;
  queue_position: number | null;
  estimated_start_time: string | null;
}

/** What uploadFolder() returns. */
export interface MediaUploadBatch {
  items: MediaUploadResult[];
  /** Files that could not be registered at all. */
  errors: Array<{ path: string; error_code: string; error_message: string }>;
}

/** The processing status of a file: its record, metadata and latest analysis. */
export interface MediaProcessingStatus {
  media_id: string;
  file_name: string;
  file_path: string;
  source_path: string;
  copied: boolean;
  sha256: string | null;
  upload_status: VideoUploadStatus;
  /** Set as soon as probing ends (seconds after upload), long before analysis ends. */
  video_metadata: VideoMetadata | null;
  /** file: URL of the poster JPEG, or null. */
  poster_url: string | null;
  error_code: string | null;
  error_message: string | null;
  created_at: string;
  updated_at: string;
  /** The latest analysis job, or null. */
  analysis: VideoAnalysisJobStatus | null;
}

/** Options of videoAnalysis.queue(). */
export interface QueueOptions {
  /** "full" (default) or "scenes" (stop after scene detection). */
  analysisType?: AnalysisType;
  /** Higher runs first. Default 0. */
  priority?: number;
}

/** Options of videoAnalysis.waitForCompletion(). */
export interface WaitOptions {
  /** Give up after this long (JobError TIMEOUT carrying the last status). Default 3 600 000 (1 h). */
  timeoutMs?: number;
  /** Stop waiting (AbortError). Does not cancel the job: use cancel() for that. */
  signal?: AbortSignal;
  /** Called with each changed status. */
  onProgress?: (status: VideoAnalysisJobStatus) => void;
  /** First poll interval; grows x1.5 up to maxPollIntervalMs. Default 250 ms. */
  pollIntervalMs?: number;
  /** Default 5000 ms. */
  maxPollIntervalMs?: number;
  /**
   * Fail (JobError TIMEOUT, details.stalled = true) when no worker has held the job for this long: pending
   * with no live worker, or running with an expired lease. Default 60 000 ms.
   */
  stallTimeoutMs?: number;
}

/** Options of videoScenes.list(). */
export interface SceneListOptions {
  /** Default 100, at most 10 000. */
  limit?: number;
  /** Default 0. */
  offset?: number;
}

/** Options of search.scenes(). */
export interface SceneSearchOptions {
  /** Scenes returned at most (before grouping). Default 20, at most 1000. */
  limit?: number;
  /** Only these videos. */
  mediaIds?: readonly string[];
  /** "all" words must match (default) or "any". The last word also matches as a prefix. */
  match?: 'all' | 'any';
}

/** A scene found by search. */
export interface SceneSearchHit extends VideoScene {
  video_id: string;
  /** Relevance, higher is better (FTS5 bm25, negated; comparable within one query only). */
  score: number;
  /** The matching text with the matched words in [brackets]. */
  highlight: string;
}

/** Hits of one video. */
export interface SceneSearchGroup {
  video_id: string;
  file_name: string;
  /** The best score of its scenes. */
  score: number;
  scenes: SceneSearchHit[];
}

/** Result of search.scenes(): hits grouped by video, best video first. */
export interface SceneSearchResult {
  query: string;
  /** All matching scenes (the items hold at most `limit`). */
  total_count: number;
  items: SceneSearchGroup[];
}

/** Options of search.similar(). */
export interface SimilarOptions {
  /** Default 10, at most 1000. */
  limit?: number;
  mediaIds?: readonly string[];
  /** Embedding model to compare with. Default: the scene's newest embedding. */
  modelId?: string;
}

/** A scene found by similarity. */
export interface SimilarSceneHit extends VideoScene {
  video_id: string;
  /** Cosine similarity, -1..1. */
  score: number;
}

/** Result of search.similar(). */
export interface SimilarScenesResult {
  scene_id: string;
  model_id: string;
  items: SimilarSceneHit[];
}

/** Export formats. */
export const EXPORT_FORMATS = ['json', 'csv', 'edl', 'vtt'] as const;
/** One of {@link EXPORT_FORMATS}. */
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Events of the library's in-process workers. */
export interface LibraryEvents {
  /** Progress of a job running in this process (throttled to ~10/s). */
  progress: (status: { analysis_job_id: string; media_id: string; status: string; progress_percent: number; current_step: string }) => void;
  /** A job of this process reached a terminal status or was handed back. */
  job: (event: { analysis_job_id: string; media_id: string; outcome: 'completed' | 'failed' | 'cancelled' | 'released' | 'lost'; error_code: string | null; error_message: string | null }) => void;
  /**
   * A chunk of a long video (any job's) was done in this process, or given up; `kind` is the step it is part
   * of: "detect" (decoding features) or "enrich" (a group of scenes).
   */
  chunk: (event: { analysis_job_id: string; media_id: string; chunk_index: number; kind: string; outcome: 'done' | 'failed' | 'released' | 'lost' | 'cancelled'; duration_ms: number }) => void;
  /** A background error (database trouble in the worker loop). */
  error: (error: unknown) => void;
}

/** A scene of the library: the hosted VideoScene plus the OCR lines and scored tags analyzeFile returns. */
export interface LibraryScene extends VideoScene {
  /** Each line of on-screen text with its engine, confidence, first/last seen and persistence; null without OCR. */
  text_lines: SceneTextLineRecord[] | null;
  /** Every tag with its score and source, plus weaker candidates not in `tags`. */
  tag_scores: TagScoreRecord[];
}

/** videoScenes.list(): the hosted VideoSceneList with library scenes and what the analysis did without. */
export interface LibrarySceneList extends VideoSceneList {
  items: LibraryScene[];
  /** As analyzeFile's `degraded`: missing or failed models of the analysis the scenes come from (empty: none). */
  degraded: DegradedRecord[];
}
