/**
 * The two narrow interfaces of the library's persistence, and the records they exchange.
 *
 * - {@link JobStore} is the queue: enqueue, claim with a lease, heartbeat, complete a step (its results and
 *   progress in one transaction), complete / fail / release a job, cancel, retry, queue snapshot and speed.
 *   Every method is async and every state change is a single conditional write, so a server database
 *   (PostgreSQL `UPDATE ... WHERE ... RETURNING` with `FOR UPDATE SKIP LOCKED`) can implement it unchanged.
 * - {@link CatalogStore} is what the API reads and the upload path writes: media records, scenes, embeddings,
 *   full-text search.
 *
 * Nothing here imports better-sqlite3: the SQLite implementation is in `sqlite-store.ts`.
 * Records are snake_case like the columns; times are epoch milliseconds.
 */
import type { VideoAnalysisStatus, VideoMetadata, VideoUploadStatus } from '../types.js';

/** Job statuses in which a worker holds the job. */
export const RUNNING_STATUSES: readonly VideoAnalysisStatus[] = ['processing', 'uploading_to_vlm'];
/** Job statuses that count as "active" for queue idempotence. */
export const ACTIVE_STATUSES: readonly VideoAnalysisStatus[] = ['pending', 'processing', 'uploading_to_vlm'];
/** Terminal job statuses. */
export const TERMINAL_STATUSES: readonly VideoAnalysisStatus[] = ['completed', 'failed', 'cancelled'];

/** A media row. */
export interface MediaRecord {
  media_id: string;
  file_path: string;
  source_path: string;
  file_name: string;
  copied: boolean;
  sha256: string | null;
  file_size_bytes: number | null;
  upload_status: VideoUploadStatus;
  video_metadata: VideoMetadata | null;
  poster_path: string | null;
  error_code: string | null;
  error_message: string | null;
  owner: string | null;
  created_at: number;
  updated_at: number;
}

/** A job row. */
export interface JobRecord {
  job_id: string;
  media_id: string;
  analysis_type: string;
  priority: number;
  status: VideoAnalysisStatus;
  progress_percent: number;
  current_step: string | null;
  created_at: number;
  queued_at: number;
  started_at: number | null;
  completed_at: number | null;
  error_code: string | null;
  error_message: string | null;
  retry_count: number;
  max_retries: number;
  estimated_completion_at: number | null;
  worker_id: string | null;
  claim_token: string | null;
  lease_expires_at: number | null;
  heartbeat_at: number | null;
  attempts: number;
  lease_losses: number;
  run_ms: number;
  video_seconds: number | null;
  /** What the analysis did without (set by the enrich step); null before it or when nothing was missing. */
  degraded: DegradedRecord[] | null;
  updated_at: number;
}

/** A step row. */
export interface StepRecord {
  job_id: string;
  step: string;
  step_index: number;
  status: 'running' | 'done';
  /** Parsed JSON output (null while running). */
  output: unknown;
  started_at: number;
  completed_at: number | null;
  duration_ms: number | null;
  attempts: number;
  worker_id: string | null;
}

/** A scene row. */
export interface SceneRecord {
  id: number;
  scene_id: string;
  media_id: string;
  job_id: string;
  scene_index: number;
  start_frame: number | null;
  end_frame: number | null;
  start_time: number;
  end_time: number;
  time_range_formatted: string | null;
  description: string | null;
  tags: string[];
  visible_text: string | null;
  confidence_score: number | null;
  embedding_status: string;
  thumbnail_path: string | null;
  errors: SceneIssue[];
  /** Each line of on-screen text (OCR engine, confidence, first/last seen, persistent); null when OCR did not run. */
  text_lines: SceneTextLineRecord[] | null;
  /** Every tag with its score and source, plus weaker candidates (see docs/enrich.md). */
  tag_scores: TagScoreRecord[];
  created_at: number;
}

/** One line of on-screen text of a scene, as the enricher reports it (src/enrich/types.ts SceneTextLine). */
export interface SceneTextLineRecord {
  text: string;
  first_seen: number;
  last_seen: number;
  engine: string;
  confidence: number;
  persistent: boolean;
}

/** A scored tag, as the enricher reports it (src/enrich/describe.ts TagScore). */
export interface TagScoreRecord {
  tag: string;
  score: number;
  source: string;
}

/** A feature the analysis did without (src/enrich/degraded.ts DegradedFeature). */
export interface DegradedRecord {
  model: string;
  status: string;
  feature: string;
  reason: string;
  install: string;
  optional: boolean;
}

/** What went wrong for one scene in one stage (captioning, OCR, embedding...). */
export interface SceneIssue {
  stage: string;
  code: string;
  message: string;
}

/** A scene as a step writes it. */
export interface SceneInput {
  scene_index: number;
  start_frame?: number | null;
  end_frame?: number | null;
  start_time: number;
  end_time: number;
  time_range_formatted?: string | null;
  confidence_score?: number | null;
}

/** An embedding to store: float32 values and the model that made them. */
export interface EmbeddingInput {
  model_id: string;
  vector: ArrayLike<number>;
}

/** Changes a step makes to one scene of its job, by scene_index. Absent fields are left as they are. */
export interface SceneUpdate {
  scene_index: number;
  description?: string | null;
  tags?: string[];
  visible_text?: string | null;
  confidence_score?: number | null;
  thumbnail_path?: string | null;
  embedding_status?: string;
  embedding?: EmbeddingInput | null;
  errors?: SceneIssue[];
  text_lines?: SceneTextLineRecord[] | null;
  tag_scores?: TagScoreRecord[];
}

/** The database side effects of a finished step, written in the same transaction as its output. */
export interface StepEffects {
  /** Probe results: stored on the media record (and the job's video_seconds). */
  metadata?: VideoMetadata;
  /** Replace the job's scenes with these. */
  scenes?: SceneInput[];
  /** Update the job's scenes. */
  sceneUpdates?: SceneUpdate[];
  /** What the analysis did without (missing or failed models): stored on the job. */
  degraded?: DegradedRecord[];
  /** Drop the job's chunks (their results were merged by this step). */
  clearChunks?: boolean;
}

/** A finished step, as the runner reports it. */
export interface StepCompletion {
  step: string;
  stepIndex: number;
  /** JSON-serialisable output, read back by later steps after a resume. */
  output: unknown;
  durationMs: number;
  progressPercent: number;
  currentStep: string;
  estimatedCompletionAt: number | null;
  leaseMs: number;
  effects?: StepEffects;
}

/** A claimed job: the lease holder's view. */
export interface ClaimedJob {
  job: JobRecord;
  media: MediaRecord;
  /** Steps already finished (with outputs), in step_index order. */
  doneSteps: StepRecord[];
  /** Token to pass to every later call: it proves this claim is still the current one. */
  token: string;
  /** True when the job was taken over from a worker whose lease expired. */
  resumed: boolean;
}

/** Progress written by a heartbeat. */
export interface ProgressUpdate {
  progressPercent: number;
  currentStep: string;
  estimatedCompletionAt: number | null;
  /** 'processing' or 'uploading_to_vlm'. */
  status?: VideoAnalysisStatus;
}

/**
 * What a heartbeat learned: `ok` (lease extended), `cancelled` (someone cancelled the job: abort it), `lost`
 * (the lease was taken over or the job was reset: stop without writing anything).
 */
export type HeartbeatResult = 'ok' | 'cancelled' | 'lost';

/** Options of {@link JobStore.enqueue}. */
export interface EnqueueInput {
  mediaId: string;
  analysisType: string;
  priority: number;
  maxRetries: number;
}

/** Options of {@link JobStore.claim}. */
export interface ClaimOptions {
  workerId: string;
  leaseMs: number;
  /** Only these jobs (a CLI `add --wait` runs its own jobs only). */
  jobIds?: readonly string[];
  /** A job whose lease expired this many times in one attempt is failed with WORKER_FAILED. Default 3. */
  maxLeaseLosses?: number;
}

/** The queue as estimates need it. */
export interface QueueSnapshot {
  /** Pending jobs in claim order. */
  pending: Array<{ job_id: string; video_seconds: number | null }>;
  /** Jobs held by a worker. */
  running: Array<{ job_id: string; progress_percent: number; estimated_completion_at: number | null; video_seconds: number | null; started_at: number | null }>;
  /** Jobs whose worker's lease expired (waiting to be taken over). */
  orphaned: number;
  /** Workers with a fresh heartbeat, and their total concurrency. */
  workers: number;
  slots: number;
}

/** Measured speed of finished jobs (the last 50). */
export interface SpeedStats {
  /** Completed jobs measured. */
  samples: number;
  /** Seconds of video analysed per second of work; null without samples. */
  videoSecondsPerSecond: number | null;
  /** Mean wall time of a job in ms; null without samples. */
  meanJobMs: number | null;
  /** Mean cost of each step in ms per second of video (for progress weights). */
  stepMsPerVideoSecond: Record<string, number>;
}

/** A live worker row. */
export interface WorkerRecord {
  worker_id: string;
  host: string;
  pid: number;
  concurrency: number;
  started_at: number;
  heartbeat_at: number;
  stopped_at: number | null;
}

/**
 * The job queue. Every method that changes a held job takes the claim token and does nothing (returns false /
 * 'lost') when the token is no longer the job's: a worker that lost its lease cannot overwrite the worker
 * that took over.
 */
export interface JobStore {
  /** Create a pending job, or return the media's active job (`created: false`). NOT_FOUND without media. */
  enqueue(input: EnqueueInput): Promise<{ job: JobRecord; created: boolean }>;
  /** Atomically take the first pending job (or one whose lease expired), or null. */
  claim(options: ClaimOptions): Promise<ClaimedJob | null>;
  /** Extend the lease and store progress; says whether to go on. */
  heartbeat(jobId: string, token: string, leaseMs: number, progress?: ProgressUpdate): Promise<HeartbeatResult>;
  /** Mark a step as started (status/current_step of the job too). False if the claim is gone. */
  startStep(jobId: string, token: string, step: string, stepIndex: number, progress: ProgressUpdate): Promise<boolean>;
  /** Store a step's output, effects and progress in one transaction. False if the claim is gone. */
  completeStep(jobId: string, token: string, completion: StepCompletion): Promise<boolean>;
  /** Mark the job completed; older scenes of the media are dropped. Returns the superseded job ids or null. */
  completeJob(jobId: string, token: string, currentStep: string): Promise<string[] | null>;
  /** Mark the job failed. */
  failJob(jobId: string, token: string, code: string, message: string): Promise<boolean>;
  /** Give the job back to the queue (shutdown): it resumes at its first unfinished step. */
  releaseJob(jobId: string, token: string, currentStep: string): Promise<boolean>;
  /** Cancel a pending or running job. Throws INVALID_STATE from completed/failed, NOT_FOUND. */
  cancelJob(jobId: string): Promise<JobRecord>;
  /** Reset a failed or cancelled job to pending. Throws INVALID_STATE, RETRY_LIMIT, NOT_FOUND. */
  retryJob(jobId: string): Promise<JobRecord>;
  /** A job, or null. */
  getJob(jobId: string): Promise<JobRecord | null>;
  /** The latest job of a media, or null. */
  getLatestJob(mediaId: string): Promise<JobRecord | null>;
  /** Jobs, newest first. */
  listJobs(options: { statuses?: readonly VideoAnalysisStatus[]; limit: number }): Promise<JobRecord[]>;
  /** Steps of a job, in order. */
  getSteps(jobId: string): Promise<StepRecord[]>;
  /** The queue, for positions and estimates. */
  queueSnapshot(): Promise<QueueSnapshot>;
  /** Speeds measured on completed jobs. */
  speedStats(): Promise<SpeedStats>;
  /** Register or refresh a worker. */
  workerHeartbeat(worker: Omit<WorkerRecord, 'heartbeat_at' | 'stopped_at' | 'started_at'>): Promise<void>;
  /** Mark a worker stopped. */
  workerStopped(workerId: string): Promise<void>;
  /** Workers whose heartbeat is younger than maxAgeMs. */
  liveWorkers(maxAgeMs: number): Promise<WorkerRecord[]>;
  /**
   * Give a running job its chunks (idempotent: the same plan again, after a resume or a retry, keeps the done
   * chunks and puts failed ones back to pending; a different plan replaces them). False if the claim is gone.
   * `inputs[i]` (optional) are bytes handed to whoever claims chunk i ({@link ClaimedChunk.input}): what the
   * chunk needs from the holder that only the holder has (its disk is not shared). The same plan again keeps
   * the inputs stored with it.
   */
  planChunks(jobId: string, token: string, specs: readonly unknown[], inputs?: readonly (Buffer | null)[]): Promise<boolean>;
  /**
   * Atomically take a pending chunk (or one whose lease expired) of a running job, or null. Chunks of the
   * job with the oldest claim first, so one long video finishes before the next one's chunks start.
   */
  claimChunk(options: { workerId: string; leaseMs: number; jobIds?: readonly string[] }): Promise<ClaimedChunk | null>;
  /**
   * Extend a chunk's lease and store its progress: `ok`, `cancelled` (its job was cancelled, failed or
   * completed: stop) or `lost` (the chunk was taken over or re-planned).
   */
  heartbeatChunk(jobId: string, chunkIndex: number, token: string, leaseMs: number, progress: number): Promise<HeartbeatResult>;
  /** Mark a chunk failed (its job's holder then fails the job with the code). False if its claim is gone. */
  failChunk(jobId: string, chunkIndex: number, token: string, code: string, message: string): Promise<boolean>;
  /** Give a chunk back (shutdown, or a host that cannot read the file): another worker takes it. */
  releaseChunk(jobId: string, chunkIndex: number, token: string): Promise<boolean>;
  /** Store a chunk's result. False if its claim is gone. */
  completeChunk(jobId: string, chunkIndex: number, token: string, data: Buffer, durationMs: number): Promise<boolean>;
  /** The chunks of a job (without their results), in order. */
  listChunks(jobId: string): Promise<ChunkRecord[]>;
  /** A done chunk's result, or null. */
  readChunk(jobId: string, chunkIndex: number): Promise<Buffer | null>;
  /**
   * Be told when a job changes in any process or host (a server store's LISTEN/NOTIFY). Returns a function
   * that stops listening. Absent when the store cannot tell (SQLite): callers poll.
   */
  watchJobs?(listener: (change: JobChange) => void): () => void;
}

/**
 * A chunk of a running job's work that any worker may claim (a stretch of a long video to decode): what to do
 * (`spec`, JSON) and its state, with a lease of its own.
 */
export interface ChunkRecord {
  job_id: string;
  chunk_index: number;
  spec: unknown;
  status: 'pending' | 'running' | 'done' | 'failed';
  /** 0..1 while running. */
  progress: number;
  worker_id: string | null;
  attempts: number;
  duration_ms: number | null;
  /** Why a failed chunk failed (a stable error code and a message). */
  error_code: string | null;
  error_message: string | null;
}

/** A claimed chunk: what the worker that took it needs. */
export interface ClaimedChunk {
  job_id: string;
  media_id: string;
  file_path: string;
  chunk_index: number;
  spec: unknown;
  /** The bytes planChunks stored with the chunk, or null. */
  input: Buffer | null;
  /** Token to pass to heartbeatChunk and completeChunk. */
  token: string;
}

/** A change of one job, as {@link JobStore.watchJobs} reports it. */
export interface JobChange {
  jobId: string;
  status: VideoAnalysisStatus;
}

/** Free-text search terms: every word (or any), the last one also as a prefix. */
export interface SceneTextQuery {
  /** Words of letters, digits and underscores only. At least one. */
  words: readonly string[];
  match: 'all' | 'any';
}

/** A full-text hit. */
export interface SceneHit {
  scene: SceneRecord;
  /** Higher is better (negated FTS5 bm25; ts_rank on PostgreSQL). */
  score: number;
  /** The matched text with the terms in [brackets]. */
  snippet: string;
}

/** A nearest-neighbour hit. */
export interface SimilarHit {
  scene: SceneRecord;
  /** Cosine similarity, -1..1. */
  score: number;
}

/** Media, scenes, embeddings and search. */
export interface CatalogStore {
  insertMedia(record: MediaRecord): Promise<void>;
  /** Update some fields of a media row. */
  updateMedia(mediaId: string, fields: Partial<Omit<MediaRecord, 'media_id' | 'created_at'>>): Promise<void>;
  /**
   * Set the hash of a freshly hashed upload. If another media has the same hash, the fresh row is deleted and
   * the other one returned (`duplicate`); otherwise the row is updated with `fields`.
   */
  settleHash(mediaId: string, sha256: string, fields: Partial<Omit<MediaRecord, 'media_id' | 'created_at' | 'sha256'>>): Promise<{ media: MediaRecord; duplicate: boolean }>;
  getMedia(mediaId: string): Promise<MediaRecord | null>;
  listMedia(options: { limit: number; offset: number }): Promise<{ items: MediaRecord[]; total: number }>;
  /** Media left uploading/processing by a process of this host that no longer runs: mark them aborted. */
  abortOrphanUploads(host: string, isAlive: (pid: number) => boolean): Promise<number>;
  /** Visible scenes of a media (those of its latest completed job). */
  listScenes(mediaId: string, options: { limit: number; offset: number }): Promise<{ items: SceneRecord[]; total: number }>;
  getScene(sceneId: string): Promise<SceneRecord | null>;
  /** Full-text search over visible scenes. */
  searchScenes(query: SceneTextQuery, options: { limit: number; mediaIds?: readonly string[] }): Promise<{ hits: SceneHit[]; total: number }>;
  /** Models that embedded a scene, newest first. */
  sceneEmbeddingModels(sceneId: string): Promise<Array<{ model_id: string; dimension: number }>>;
  /** Nearest visible scenes by cosine similarity, same model and dimension only. */
  similarScenes(sceneId: string, modelId: string, options: { limit: number; mediaIds?: readonly string[] }): Promise<SimilarHit[]>;
  /** Store (or replace) a scene's embedding for a model. */
  putEmbedding(sceneId: string, embedding: EmbeddingInput): Promise<void>;
  /**
   * The bytes of a stored asset (a thumbnail or poster) named by a `sha256:<hex>` reference, as a server store
   * writes into thumbnail_path / poster_path; null when the store has no such asset (SQLite keeps files).
   */
  readAsset(ref: string): Promise<Buffer | null>;
  /** `PRAGMA integrity_check` result lines ("ok" when healthy). */
  integrityCheck(): Promise<string[]>;
  /** Counts and sizes, for benchmarks and `status`. */
  stats(): Promise<{ media: number; jobs: number; scenes: number; embeddings: number; databaseBytes: number }>;
}

/** Both interfaces plus lifecycle. */
export interface LibraryStore extends JobStore, CatalogStore {
  /** Where the data lives (a file path for SQLite). */
  readonly location: string;
  /** Close the connection. Idempotent. */
  close(): void;
}
