/**
 * The SQLite implementation of {@link LibraryStore}: one file shared by the library and any number of worker
 * processes.
 *
 * Concurrency model: every state change is one statement or one `BEGIN IMMEDIATE` transaction (the write lock
 * is taken at BEGIN, so two processes never both read "pending" and both take the job). Held jobs are guarded
 * by their claim token: `UPDATE ... WHERE job_id = ? AND claim_token = ? AND status IN (running)`. A worker
 * whose lease expired and was taken over finds zero rows changed and stops. better-sqlite3 is synchronous;
 * the methods are async only so that the interface fits a server database.
 *
 * The file's identity (device and inode) is taken at open and checked before every write: a library file
 * deleted or replaced under a running worker would otherwise keep taking writes into the unlinked inode, and
 * every result would vanish when the process exits. Such a write fails with LIBRARY_GONE instead.
 */
import { existsSync, statSync } from 'node:fs';
import type { Statement } from 'better-sqlite3';
import { JobError, StoreError } from '../errors.js';
import type { VideoAnalysisStatus } from '../types.js';
import { openDatabase, type OpenDatabaseOptions, type SqliteDatabase } from './database.js';
import { ACTIVE_SQL, CHUNK_COLUMNS, chunkFromRow, clampFraction, clampPercent, MEDIA_COLUMNS, RUNNING_SQL, sceneFromRow as sceneOf, SPEED_WINDOW, WORKER_FRESH_MS } from './common.js';
import { newId } from './ids.js';
import type {
  ChunkRecord,
  ClaimedChunk,
  ClaimedJob,
  ClaimOptions,
  EmbeddingInput,
  EnqueueInput,
  HeartbeatResult,
  JobRecord,
  LibraryStore,
  MediaRecord,
  ProgressUpdate,
  QueueSnapshot,
  SceneHit,
  SceneInput,
  SceneRecord,
  SceneTextQuery,
  SceneUpdate,
  SimilarHit,
  SpeedStats,
  StepCompletion,
  StepRecord,
  WorkerRecord,
} from './types.js';

const RUNNING = RUNNING_SQL;
const ACTIVE = ACTIVE_SQL;

type Row = Record<string, unknown>;


function parseJson<T>(text: unknown, fallback: T): T {
  if (typeof text !== 'string') return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

function mediaFromRow(row: Row): MediaRecord {
  return {
    media_id: row.media_id as string,
    file_path: row.file_path as string,
    source_path: row.source_path as string,
    file_name: row.file_name as string,
    copied: row.copied === 1,
    sha256: (row.sha256 as string | null) ?? null,
    file_size_bytes: (row.file_size_bytes as number | null) ?? null,
    upload_status: row.upload_status as MediaRecord['upload_status'],
    video_metadata: parseJson(row.video_metadata, null),
    poster_path: (row.poster_path as string | null) ?? null,
    error_code: (row.error_code as string | null) ?? null,
    error_message: (row.error_message as string | null) ?? null,
    owner: (row.owner as string | null) ?? null,
    created_at: row.created_at as number,
    updated_at: row.updated_at as number,
  };
}

function mediaToRow(fields: Partial<MediaRecord>): Row {
  const row: Row = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (key === 'copied') row[key] = value === true ? 1 : 0;
    else if (key === 'video_metadata') row[key] = value === null ? null : JSON.stringify(value);
    else row[key] = value;
  }
  return row;
}

function jobFromRow(row: Row): JobRecord {
  return { ...(row as unknown as JobRecord), degraded: parseJson(row.degraded, null) };
}

function chunkOf(row: Row): ChunkRecord {
  return chunkFromRow(row, parseJson(row.spec, null));
}

function stepFromRow(row: Row): StepRecord {
  return { ...(row as unknown as StepRecord), output: parseJson(row.output, null) };
}

function sceneFromRow(row: Row): SceneRecord {
  return sceneOf(row, parseJson);
}

/**
 * The FTS5 MATCH expression of a query: each word quoted (so no FTS syntax leaks in), all words required (or
 * any), the last word also matched as a prefix ("sun" finds "sunset" while typing).
 */
export function ftsMatch(query: SceneTextQuery): string {
  const terms = query.words.map((w, i) => (i === query.words.length - 1 ? `"${w.replaceAll('"', '')}"*` : `"${w.replaceAll('"', '')}"`));
  return terms.join(query.match === 'all' ? ' AND ' : ' OR ');
}

/** float32 values as a BLOB (platform byte order: little-endian on every CPU Node supports in practice). */
function vectorToBlob(vector: ArrayLike<number>): { blob: Buffer; norm: number } {
  const values = Float32Array.from(vector);
  let sum = 0;
  for (const v of values) sum += v * v;
  return { blob: Buffer.from(values.buffer, values.byteOffset, values.byteLength), norm: Math.sqrt(sum) };
}

function blobToVector(blob: Buffer): Float32Array {
  if (blob.byteOffset % 4 === 0) return new Float32Array(blob.buffer, blob.byteOffset, blob.byteLength / 4);
  return new Float32Array(Uint8Array.from(blob).buffer);
}

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions extends OpenDatabaseOptions {}

/**
 * Open a library database file as a {@link LibraryStore}. Creates the file and its folder if needed and
 * applies migrations. Throws STORE_FAILED.
 */
export function openSqliteStore(file: string, options: SqliteStoreOptions = {}): SqliteLibraryStore {
  return new SqliteLibraryStore(file, options);
}

/** See {@link openSqliteStore}. */
export class SqliteLibraryStore implements LibraryStore {
  readonly location: string;
  readonly #db: SqliteDatabase;
  readonly #now: () => number;
  readonly #statements = new Map<string, Statement>();
  readonly #identity: { dev: number; ino: number } | null;
  #closed = false;

  constructor(file: string, options: SqliteStoreOptions = {}) {
    this.location = file;
    this.#now = options.now ?? Date.now;
    this.#db = openDatabase(file, options);
    this.#identity = file === ':memory:' || file === '' ? null : fileIdentity(file);
  }

  /**
   * Throw LIBRARY_GONE when the database file is no longer the one opened (deleted, or replaced by another
   * file). Every write checks it; workers also call it on each poll.
   */
  checkFile(): void {
    if (this.#identity === null) return;
    const now = fileIdentity(this.location);
    if (now === null || now.dev !== this.#identity.dev || now.ino !== this.#identity.ino) {
      throw new StoreError('LIBRARY_GONE', `The library file ${this.location} was ${now === null ? 'deleted' : 'replaced by another file'} while open; stopping so that no result is written into the lost file`, {
        details: { path: this.location },
      });
    }
  }

  #sql(text: string): Statement {
    if (this.#closed) throw new StoreError('STORE_FAILED', 'The library is closed');
    let statement = this.#statements.get(text);
    if (statement === undefined) {
      statement = this.#db.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }

  /** Run fn in a BEGIN IMMEDIATE transaction, turning SQLite errors into STORE_FAILED. */
  #write<T>(fn: () => T): T {
    return this.#guard(() => {
      // Inside the write lock, so no other process can swap the file between the check and the commit.
      return this.#db.transaction(() => {
        this.checkFile();
        return fn();
      }).immediate();
    });
  }

  #guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (error instanceof StoreError || error instanceof JobError) throw error;
      const code = (error as { code?: unknown }).code;
      throw new StoreError('STORE_FAILED', `Library database error: ${(error as Error).message}`, { cause: error, details: { sqlite_code: typeof code === 'string' ? code : null } });
    }
  }

  #jobOrThrow(jobId: string): JobRecord {
    const row = this.#sql('SELECT * FROM jobs WHERE job_id = ?').get(jobId) as Row | undefined;
    if (row === undefined) throw new JobError('NOT_FOUND', `No analysis job ${jobId}`, { details: { analysis_job_id: jobId } });
    return jobFromRow(row);
  }

  // ---------------------------------------------------------------- JobStore

  async enqueue(input: EnqueueInput): Promise<{ job: JobRecord; created: boolean }> {
    return this.#write(() => {
      const media = this.#sql('SELECT media_id, video_metadata FROM media WHERE media_id = ?').get(input.mediaId) as Row | undefined;
      if (media === undefined) throw new StoreError('NOT_FOUND', `No media ${input.mediaId}`, { details: { media_id: input.mediaId } });
      const active = this.#sql(`SELECT * FROM jobs WHERE media_id = ? AND status IN ${ACTIVE} LIMIT 1`).get(input.mediaId) as Row | undefined;
      if (active !== undefined) return { job: jobFromRow(active), created: false };
      const now = this.#now();
      const duration = parseJson<{ duration_seconds?: number | null } | null>(media.video_metadata, null)?.duration_seconds ?? null;
      const row = this.#sql(
        `INSERT INTO jobs (job_id, media_id, analysis_type, priority, status, progress_percent, current_step, created_at, queued_at, max_retries, video_seconds, updated_at)
         VALUES (?, ?, ?, ?, 'pending', 0, 'Queued', ?, ?, ?, ?, ?) RETURNING *`,
      ).get(newId('job'), input.mediaId, input.analysisType, input.priority, now, now, input.maxRetries, duration, now) as Row;
      return { job: jobFromRow(row), created: true };
    });
  }

  async claim(options: ClaimOptions): Promise<ClaimedJob | null> {
    const maxLosses = options.maxLeaseLosses ?? 3;
    return this.#write(() => {
      const now = this.#now();
      // A job whose worker died again and again is more likely to kill workers than to finish: fail it.
      this.#sql(
        `UPDATE jobs SET status = 'failed', error_code = 'WORKER_FAILED',
           error_message = 'The worker running this job stopped responding ' || (lease_losses + 1) || ' times',
           completed_at = ?, estimated_completion_at = NULL, worker_id = NULL, claim_token = NULL, lease_expires_at = NULL, updated_at = ?
         WHERE status IN ${RUNNING} AND lease_expires_at < ? AND lease_losses + 1 >= ?`,
      ).run(now, now, now, maxLosses);
      const only = options.jobIds === undefined ? null : JSON.stringify(options.jobIds);
      const candidate = this.#sql(
        `SELECT job_id, status FROM jobs
         WHERE (status = 'pending' OR (status IN ${RUNNING} AND lease_expires_at < @now))
           AND (@only IS NULL OR job_id IN (SELECT value FROM json_each(@only)))
         ORDER BY priority DESC, queued_at, rowid LIMIT 1`,
      ).get({ now, only }) as { job_id: string; status: VideoAnalysisStatus } | undefined;
      if (candidate === undefined) return null;
      const resumed = candidate.status !== 'pending';
      const token = newId('clm');
      const row = this.#sql(
        `UPDATE jobs SET status = 'processing', worker_id = @worker, claim_token = @token, lease_expires_at = @lease,
           heartbeat_at = @now, attempts = attempts + 1, lease_losses = lease_losses + @lost,
           started_at = COALESCE(started_at, @now), current_step = @step, error_code = NULL, error_message = NULL, updated_at = @now
         WHERE job_id = @id RETURNING *`,
      ).get({ worker: options.workerId, token, lease: now + options.leaseMs, now, lost: resumed ? 1 : 0, step: resumed ? 'Resuming' : 'Starting', id: candidate.job_id }) as Row;
      const job = jobFromRow(row);
      const media = mediaFromRow(this.#sql('SELECT * FROM media WHERE media_id = ?').get(job.media_id) as Row);
      const doneSteps = (this.#sql(`SELECT * FROM job_steps WHERE job_id = ? AND status = 'done' ORDER BY step_index`).all(job.job_id) as Row[]).map(stepFromRow);
      return { job, media, doneSteps, token, resumed };
    });
  }

  async heartbeat(jobId: string, token: string, leaseMs: number, progress?: ProgressUpdate): Promise<HeartbeatResult> {
    return this.#guard(() => {
      this.checkFile();
      const now = this.#now();
      const row = this.#sql(
        `UPDATE jobs SET lease_expires_at = @lease, heartbeat_at = @now, updated_at = @now,
           progress_percent = MAX(progress_percent, COALESCE(@progress, 0)),
           current_step = COALESCE(@step, current_step),
           estimated_completion_at = CASE WHEN @hasProgress THEN @eta ELSE estimated_completion_at END,
           status = COALESCE(@status, status)
         WHERE job_id = @id AND claim_token = @token AND status IN ${RUNNING} RETURNING status`,
      ).get({
        lease: now + leaseMs,
        now,
        progress: progress === undefined ? null : clampPercent(progress.progressPercent),
        step: progress?.currentStep ?? null,
        hasProgress: progress === undefined ? 0 : 1,
        eta: progress?.estimatedCompletionAt ?? null,
        status: progress?.status ?? null,
        id: jobId,
        token,
      }) as Row | undefined;
      if (row !== undefined) return 'ok';
      const current = this.#sql('SELECT status, claim_token FROM jobs WHERE job_id = ?').get(jobId) as Row | undefined;
      return current?.status === 'cancelled' && current.claim_token === token ? 'cancelled' : 'lost';
    });
  }

  async startStep(jobId: string, token: string, step: string, stepIndex: number, progress: ProgressUpdate): Promise<boolean> {
    return this.#write(() => {
      const now = this.#now();
      const changed = this.#sql(
        `UPDATE jobs SET current_step = ?, progress_percent = MAX(progress_percent, ?), estimated_completion_at = ?, status = COALESCE(?, status), updated_at = ?
         WHERE job_id = ? AND claim_token = ? AND status IN ${RUNNING}`,
      ).run(progress.currentStep, clampPercent(progress.progressPercent), progress.estimatedCompletionAt, progress.status ?? null, now, jobId, token).changes;
      if (changed === 0) return false;
      const job = this.#sql('SELECT worker_id FROM jobs WHERE job_id = ?').get(jobId) as Row;
      this.#sql(
        `INSERT INTO job_steps (job_id, step, step_index, status, started_at, worker_id) VALUES (?, ?, ?, 'running', ?, ?)
         ON CONFLICT (job_id, step) DO UPDATE SET status = 'running', output = NULL, started_at = excluded.started_at,
           completed_at = NULL, duration_ms = NULL, attempts = attempts + 1, worker_id = excluded.worker_id`,
      ).run(jobId, step, stepIndex, now, job.worker_id ?? null);
      return true;
    });
  }

  async completeStep(jobId: string, token: string, completion: StepCompletion): Promise<boolean> {
    return this.#write(() => {
      const now = this.#now();
      const effects = completion.effects ?? {};
      const videoSeconds = effects.metadata?.duration_seconds ?? null;
      const job = this.#sql(
        `UPDATE jobs SET progress_percent = MAX(progress_percent, @progress), current_step = @step, run_ms = run_ms + @duration,
           estimated_completion_at = @eta, lease_expires_at = @lease, heartbeat_at = @now, updated_at = @now,
           video_seconds = COALESCE(@videoSeconds, video_seconds)
         WHERE job_id = @id AND claim_token = @token AND status IN ${RUNNING} RETURNING media_id`,
      ).get({
        progress: clampPercent(completion.progressPercent),
        step: completion.currentStep,
        duration: Math.max(0, Math.round(completion.durationMs)),
        eta: completion.estimatedCompletionAt,
        lease: now + completion.leaseMs,
        now,
        videoSeconds,
        id: jobId,
        token,
      }) as { media_id: string } | undefined;
      if (job === undefined) return false;
      this.#sql(
        `INSERT INTO job_steps (job_id, step, step_index, status, output, started_at, completed_at, duration_ms)
         VALUES (@id, @step, @index, 'done', @output, @started, @now, @duration)
         ON CONFLICT (job_id, step) DO UPDATE SET status = 'done', output = excluded.output, completed_at = excluded.completed_at, duration_ms = excluded.duration_ms`,
      ).run({
        id: jobId,
        step: completion.step,
        index: completion.stepIndex,
        output: JSON.stringify(completion.output ?? null),
        started: now - Math.round(completion.durationMs),
        now,
        duration: Math.round(completion.durationMs),
      });
      if (effects.metadata !== undefined) {
        this.#sql('UPDATE media SET video_metadata = ?, updated_at = ? WHERE media_id = ?').run(JSON.stringify(effects.metadata), now, job.media_id);
      }
      if (effects.scenes !== undefined) this.#replaceScenes(jobId, job.media_id, effects.scenes, now);
      if (effects.sceneUpdates !== undefined) {
        for (const update of effects.sceneUpdates) this.#updateScene(jobId, update, now);
      }
      if (effects.degraded !== undefined) this.#sql('UPDATE jobs SET degraded = ? WHERE job_id = ?').run(effects.degraded.length === 0 ? null : JSON.stringify(effects.degraded), jobId);
      if (effects.clearChunks === true) this.#sql('DELETE FROM job_chunks WHERE job_id = ?').run(jobId);
      return true;
    });
  }

  #replaceScenes(jobId: string, mediaId: string, scenes: readonly SceneInput[], now: number): void {
    // A resumed step rewrites its whole output: delete first, so a repeat never duplicates a scene.
    this.#sql('DELETE FROM scenes WHERE job_id = ?').run(jobId);
    const insert = this.#sql(
      `INSERT INTO scenes (scene_id, media_id, job_id, scene_index, start_frame, end_frame, start_time, end_time, time_range_formatted, confidence_score, created_at)
       VALUES (@scene_id, @media_id, @job_id, @scene_index, @start_frame, @end_frame, @start_time, @end_time, @time_range_formatted, @confidence_score, @created_at)`,
    );
    for (const scene of scenes) {
      insert.run({
        scene_id: newId('scn'),
        media_id: mediaId,
        job_id: jobId,
        scene_index: scene.scene_index,
        start_frame: scene.start_frame ?? null,
        end_frame: scene.end_frame ?? null,
        start_time: scene.start_time,
        end_time: scene.end_time,
        time_range_formatted: scene.time_range_formatted ?? null,
        confidence_score: scene.confidence_score ?? null,
        created_at: now,
      });
    }
  }

  #updateScene(jobId: string, update: SceneUpdate, now: number): void {
    const row = this.#sql('SELECT * FROM scenes WHERE job_id = ? AND scene_index = ?').get(jobId, update.scene_index) as Row | undefined;
    if (row === undefined) throw new StoreError('STORE_FAILED', `Step output refers to scene ${update.scene_index}, which job ${jobId} does not have`);
    const scene = sceneFromRow(row);
    let embeddingStatus = update.embedding_status ?? scene.embedding_status;
    if (update.embedding !== undefined && update.embedding !== null) {
      this.#putEmbeddingRow(scene.id, update.embedding, now);
      if (update.embedding_status === undefined) embeddingStatus = 'completed';
    }
    this.#sql(
      `UPDATE scenes SET description = @description, tags = @tags, tags_text = @tags_text, visible_text = @visible_text, confidence_score = @confidence_score,
         thumbnail_path = @thumbnail_path, embedding_status = @embedding_status, errors = @errors, text_lines = @text_lines, tag_scores = @tag_scores WHERE id = @id`,
    ).run({
      text_lines: (update.text_lines !== undefined ? update.text_lines : scene.text_lines) === null ? null : JSON.stringify(update.text_lines !== undefined ? update.text_lines : scene.text_lines),
      tag_scores: (update.tag_scores ?? scene.tag_scores).length === 0 ? null : JSON.stringify(update.tag_scores ?? scene.tag_scores),
      id: scene.id,
      description: update.description !== undefined ? update.description : scene.description,
      tags: JSON.stringify(update.tags ?? scene.tags),
      tags_text: (update.tags ?? scene.tags).length === 0 ? null : (update.tags ?? scene.tags).join(', '),
      visible_text: update.visible_text !== undefined ? update.visible_text : scene.visible_text,
      confidence_score: update.confidence_score !== undefined ? update.confidence_score : scene.confidence_score,
      thumbnail_path: update.thumbnail_path !== undefined ? update.thumbnail_path : scene.thumbnail_path,
      embedding_status: embeddingStatus,
      errors: (update.errors ?? scene.errors).length === 0 ? null : JSON.stringify(update.errors ?? scene.errors),
    });
  }

  #putEmbeddingRow(sceneRowId: number, embedding: EmbeddingInput, now: number): void {
    if (embedding.vector.length === 0) throw new StoreError('STORE_FAILED', `Empty embedding vector from model ${embedding.model_id}`);
    const { blob, norm } = vectorToBlob(embedding.vector);
    this.#sql(
      `INSERT INTO embeddings (scene_rowid, model_id, dimension, vector, norm, created_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (scene_rowid, model_id) DO UPDATE SET dimension = excluded.dimension, vector = excluded.vector, norm = excluded.norm, created_at = excluded.created_at`,
    ).run(sceneRowId, embedding.model_id, embedding.vector.length, blob, norm, now);
  }

  async completeJob(jobId: string, token: string, currentStep: string): Promise<string[] | null> {
    return this.#write(() => {
      const now = this.#now();
      const row = this.#sql(
        `UPDATE jobs SET status = 'completed', progress_percent = 100, current_step = ?, completed_at = ?, estimated_completion_at = NULL,
           worker_id = NULL, claim_token = NULL, lease_expires_at = NULL, error_code = NULL, error_message = NULL, updated_at = ?
         WHERE job_id = ? AND claim_token = ? AND status IN ${RUNNING} RETURNING media_id`,
      ).get(currentStep, now, now, jobId, token) as { media_id: string } | undefined;
      if (row === undefined) return null;
      this.#sql('DELETE FROM job_chunks WHERE job_id = ?').run(jobId);
      const superseded = (this.#sql('SELECT DISTINCT job_id FROM scenes WHERE media_id = ? AND job_id != ?').all(row.media_id, jobId) as Array<{ job_id: string }>).map((r) => r.job_id);
      this.#sql('DELETE FROM scenes WHERE media_id = ? AND job_id != ?').run(row.media_id, jobId);
      return superseded;
    });
  }

  async failJob(jobId: string, token: string, code: string, message: string): Promise<boolean> {
    return this.#guard(() => {
      this.checkFile();
      const now = this.#now();
      return this.#sql(
        `UPDATE jobs SET status = 'failed', error_code = ?, error_message = ?, completed_at = ?, estimated_completion_at = NULL,
           current_step = 'Failed', worker_id = NULL, claim_token = NULL, lease_expires_at = NULL, updated_at = ?
         WHERE job_id = ? AND claim_token = ? AND status IN ${RUNNING}`,
      ).run(code, message, now, now, jobId, token).changes > 0;
    });
  }

  async releaseJob(jobId: string, token: string, currentStep: string): Promise<boolean> {
    return this.#guard(() => {
      this.checkFile();
      const now = this.#now();
      return this.#sql(
        `UPDATE jobs SET status = 'pending', current_step = ?, estimated_completion_at = NULL, worker_id = NULL, claim_token = NULL,
           lease_expires_at = NULL, updated_at = ?
         WHERE job_id = ? AND claim_token = ? AND status IN ${RUNNING}`,
      ).run(currentStep, now, jobId, token).changes > 0;
    });
  }

  async cancelJob(jobId: string): Promise<JobRecord> {
    return this.#write(() => {
      const job = this.#jobOrThrow(jobId);
      if (job.status === 'cancelled') return job;
      if (job.status === 'completed' || job.status === 'failed') {
        throw new JobError('INVALID_STATE', `Job ${jobId} is ${job.status}; only pending or running jobs can be cancelled`, { details: { analysis_job_id: jobId, status: job.status } });
      }
      const now = this.#now();
      // worker_id and claim_token stay, so that the holder's next heartbeat learns it was cancelled.
      const row = this.#sql(
        `UPDATE jobs SET status = 'cancelled', current_step = 'Cancelled', completed_at = ?, estimated_completion_at = NULL,
           lease_expires_at = NULL, updated_at = ? WHERE job_id = ? RETURNING *`,
      ).get(now, now, jobId) as Row;
      return jobFromRow(row);
    });
  }

  async retryJob(jobId: string): Promise<JobRecord> {
    return this.#write(() => {
      const job = this.#jobOrThrow(jobId);
      if (job.status !== 'failed' && job.status !== 'cancelled') {
        throw new JobError('INVALID_STATE', `Job ${jobId} is ${job.status}; only failed or cancelled jobs can be retried`, { details: { analysis_job_id: jobId, status: job.status } });
      }
      if (job.retry_count >= job.max_retries) {
        throw new JobError('RETRY_LIMIT', `Job ${jobId} was already retried ${job.retry_count} times (max_retries ${job.max_retries})`, {
          details: { analysis_job_id: jobId, retry_count: job.retry_count, max_retries: job.max_retries },
        });
      }
      const active = this.#sql(`SELECT job_id FROM jobs WHERE media_id = ? AND status IN ${ACTIVE}`).get(job.media_id) as Row | undefined;
      if (active !== undefined) {
        throw new JobError('INVALID_STATE', `Media ${job.media_id} already has an active job ${String(active.job_id)}`, { details: { analysis_job_id: jobId, active_job_id: active.job_id } });
      }
      const now = this.#now();
      const attempt = job.retry_count + 1;
      const row = this.#sql(
        `UPDATE jobs SET status = 'pending', retry_count = ?, current_step = ?, error_code = NULL, error_message = NULL, queued_at = ?,
           started_at = NULL, completed_at = NULL, estimated_completion_at = NULL, worker_id = NULL, claim_token = NULL,
           lease_expires_at = NULL, lease_losses = 0, updated_at = ? WHERE job_id = ? RETURNING *`,
      ).get(attempt, `Queued (retry ${attempt}/${job.max_retries})`, now, now, jobId) as Row;
      return jobFromRow(row);
    });
  }

  async getJob(jobId: string): Promise<JobRecord | null> {
    return this.#guard(() => {
      const row = this.#sql('SELECT * FROM jobs WHERE job_id = ?').get(jobId) as Row | undefined;
      return row === undefined ? null : jobFromRow(row);
    });
  }

  async getLatestJob(mediaId: string): Promise<JobRecord | null> {
    return this.#guard(() => {
      const row = this.#sql('SELECT * FROM jobs WHERE media_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1').get(mediaId) as Row | undefined;
      return row === undefined ? null : jobFromRow(row);
    });
  }

  async listJobs(options: { statuses?: readonly VideoAnalysisStatus[]; limit: number }): Promise<JobRecord[]> {
    return this.#guard(() => {
      const statuses = options.statuses === undefined ? null : JSON.stringify(options.statuses);
      return (this.#sql(
        `SELECT * FROM jobs WHERE (@statuses IS NULL OR status IN (SELECT value FROM json_each(@statuses)))
         ORDER BY created_at DESC, rowid DESC LIMIT @limit`,
      ).all({ statuses, limit: options.limit }) as Row[]).map(jobFromRow);
    });
  }

  async getSteps(jobId: string): Promise<StepRecord[]> {
    return this.#guard(() => (this.#sql('SELECT * FROM job_steps WHERE job_id = ? ORDER BY step_index').all(jobId) as Row[]).map(stepFromRow));
  }

  async queueSnapshot(): Promise<QueueSnapshot> {
    return this.#guard(() => {
      const now = this.#now();
      const pending = this.#sql(
        `SELECT j.job_id, COALESCE(j.video_seconds, json_extract(m.video_metadata, '$.duration_seconds')) AS video_seconds
         FROM jobs j JOIN media m ON m.media_id = j.media_id WHERE j.status = 'pending' ORDER BY j.priority DESC, j.queued_at, j.rowid`,
      ).all() as QueueSnapshot['pending'];
      const running = this.#sql(
        `SELECT j.job_id, j.progress_percent, j.estimated_completion_at, j.started_at,
           COALESCE(j.video_seconds, json_extract(m.video_metadata, '$.duration_seconds')) AS video_seconds
         FROM jobs j JOIN media m ON m.media_id = j.media_id WHERE j.status IN ${RUNNING} AND j.lease_expires_at >= ?`,
      ).all(now) as QueueSnapshot['running'];
      const orphaned = (this.#sql(`SELECT COUNT(*) AS n FROM jobs WHERE status IN ${RUNNING} AND (lease_expires_at IS NULL OR lease_expires_at < ?)`).get(now) as { n: number }).n;
      const workers = this.#sql('SELECT COUNT(*) AS n, COALESCE(SUM(concurrency), 0) AS slots FROM workers WHERE stopped_at IS NULL AND heartbeat_at >= ?').get(now - WORKER_FRESH_MS) as { n: number; slots: number };
      return { pending, running, orphaned, workers: workers.n, slots: workers.slots };
    });
  }

  async speedStats(): Promise<SpeedStats> {
    return this.#guard(() => {
      const recent = `SELECT job_id, run_ms, video_seconds FROM jobs WHERE status = 'completed' AND run_ms > 0 ORDER BY completed_at DESC LIMIT ${SPEED_WINDOW}`;
      const totals = this.#sql(
        `SELECT COUNT(*) AS samples, AVG(run_ms) AS mean_ms,
           SUM(CASE WHEN video_seconds > 0 THEN video_seconds END) AS video, SUM(CASE WHEN video_seconds > 0 THEN run_ms END) AS video_ms
         FROM (${recent})`,
      ).get() as { samples: number; mean_ms: number | null; video: number | null; video_ms: number | null };
      const steps = this.#sql(
        `SELECT s.step, SUM(s.duration_ms) * 1.0 / SUM(r.video_seconds) AS cost
         FROM job_steps s JOIN (${recent}) r ON r.job_id = s.job_id
         WHERE s.status = 'done' AND r.video_seconds > 0 GROUP BY s.step`,
      ).all() as Array<{ step: string; cost: number }>;
      const stepMsPerVideoSecond: Record<string, number> = {};
      for (const s of steps) stepMsPerVideoSecond[s.step] = s.cost;
      return {
        samples: totals.samples,
        videoSecondsPerSecond: totals.video !== null && totals.video_ms !== null && totals.video_ms > 0 ? totals.video / (totals.video_ms / 1000) : null,
        meanJobMs: totals.mean_ms,
        stepMsPerVideoSecond,
      };
    });
  }

  async planChunks(jobId: string, token: string, specs: readonly unknown[], inputs?: readonly (Buffer | null)[]): Promise<boolean> {
    return this.#write(() => {
      const held = this.#sql(`SELECT job_id FROM jobs WHERE job_id = ? AND claim_token = ? AND status IN ${RUNNING}`).get(jobId, token);
      if (held === undefined) return false;
      const existing = (this.#sql('SELECT spec FROM job_chunks WHERE job_id = ? ORDER BY chunk_index').all(jobId) as Array<{ spec: string }>).map((r) => r.spec);
      const wanted = specs.map((spec) => JSON.stringify(spec));
      // The same plan (a resumed or retried job): keep what was done.
      const now = this.#now();
      if (existing.length === wanted.length && existing.every((spec, i) => spec === wanted[i])) {
        this.#sql(`UPDATE job_chunks SET status = 'pending', error_code = NULL, error_message = NULL, updated_at = ? WHERE job_id = ? AND status = 'failed'`).run(now, jobId);
        return true;
      }
      this.#sql('DELETE FROM job_chunks WHERE job_id = ?').run(jobId);
      const insert = this.#sql(`INSERT INTO job_chunks (job_id, chunk_index, spec, input, status, updated_at) VALUES (?, ?, ?, ?, 'pending', ?)`);
      wanted.forEach((spec, i) => insert.run(jobId, i, spec, inputs?.[i] ?? null, now));
      return true;
    });
  }

  async claimChunk(options: { workerId: string; leaseMs: number; jobIds?: readonly string[] }): Promise<ClaimedChunk | null> {
    return this.#write(() => {
      const now = this.#now();
      const only = options.jobIds === undefined ? null : JSON.stringify(options.jobIds);
      const candidate = this.#sql(
        `SELECT c.job_id, c.chunk_index, c.spec, c.input, j.media_id, m.file_path FROM job_chunks c JOIN jobs j ON j.job_id = c.job_id JOIN media m ON m.media_id = j.media_id
         WHERE (c.status = 'pending' OR (c.status = 'running' AND c.lease_expires_at < @now)) AND j.status IN ${RUNNING}
           AND (@only IS NULL OR c.job_id IN (SELECT value FROM json_each(@only)))
         ORDER BY j.started_at, j.rowid, c.chunk_index LIMIT 1`,
      ).get({ now, only }) as Row | undefined;
      if (candidate === undefined) return null;
      const token = newId('clm');
      this.#sql(
        `UPDATE job_chunks SET status = 'running', worker_id = ?, claim_token = ?, lease_expires_at = ?, progress = 0, attempts = attempts + 1, updated_at = ?
         WHERE job_id = ? AND chunk_index = ?`,
      ).run(options.workerId, token, now + options.leaseMs, now, candidate.job_id, candidate.chunk_index);
      return {
        job_id: candidate.job_id as string,
        media_id: candidate.media_id as string,
        file_path: candidate.file_path as string,
        chunk_index: candidate.chunk_index as number,
        spec: parseJson(candidate.spec, null),
        input: (candidate.input as Buffer | null) ?? null,
        token,
      };
    });
  }

  async heartbeatChunk(jobId: string, chunkIndex: number, token: string, leaseMs: number, progress: number): Promise<HeartbeatResult> {
    return this.#guard(() => {
      this.checkFile();
      const now = this.#now();
      const job = this.#sql('SELECT status FROM jobs WHERE job_id = ?').get(jobId) as { status: string } | undefined;
      if (job === undefined || job.status === 'cancelled' || job.status === 'failed' || job.status === 'completed') return 'cancelled';
      const changed = this.#sql(
        `UPDATE job_chunks SET lease_expires_at = ?, progress = MAX(progress, ?), updated_at = ? WHERE job_id = ? AND chunk_index = ? AND claim_token = ? AND status = 'running'`,
      ).run(now + leaseMs, clampFraction(progress), now, jobId, chunkIndex, token).changes;
      return changed > 0 ? 'ok' : 'lost';
    });
  }

  async completeChunk(jobId: string, chunkIndex: number, token: string, data: Buffer, durationMs: number): Promise<boolean> {
    return this.#write(() => {
      const now = this.#now();
      return this.#sql(
        `UPDATE job_chunks SET status = 'done', data = ?, progress = 1, duration_ms = ?, lease_expires_at = NULL, claim_token = NULL, updated_at = ?
         WHERE job_id = ? AND chunk_index = ? AND claim_token = ? AND status = 'running'`,
      ).run(data, Math.max(0, Math.round(durationMs)), now, jobId, chunkIndex, token).changes > 0;
    });
  }

  async failChunk(jobId: string, chunkIndex: number, token: string, code: string, message: string): Promise<boolean> {
    return this.#write(() => {
      return this.#sql(
        `UPDATE job_chunks SET status = 'failed', error_code = ?, error_message = ?, lease_expires_at = NULL, claim_token = NULL, updated_at = ?
         WHERE job_id = ? AND chunk_index = ? AND claim_token = ? AND status = 'running'`,
      ).run(code, message, this.#now(), jobId, chunkIndex, token).changes > 0;
    });
  }

  async releaseChunk(jobId: string, chunkIndex: number, token: string): Promise<boolean> {
    return this.#write(() => {
      return this.#sql(
        `UPDATE job_chunks SET status = 'pending', progress = 0, worker_id = NULL, lease_expires_at = NULL, claim_token = NULL, updated_at = ?
         WHERE job_id = ? AND chunk_index = ? AND claim_token = ? AND status = 'running'`,
      ).run(this.#now(), jobId, chunkIndex, token).changes > 0;
    });
  }

  async listChunks(jobId: string): Promise<ChunkRecord[]> {
    return this.#guard(() =>
      (this.#sql(`SELECT ${CHUNK_COLUMNS} FROM job_chunks WHERE job_id = ? ORDER BY chunk_index`).all(jobId) as Row[]).map(chunkOf),
    );
  }

  async readChunk(jobId: string, chunkIndex: number): Promise<Buffer | null> {
    return this.#guard(() => {
      const row = this.#sql(`SELECT data FROM job_chunks WHERE job_id = ? AND chunk_index = ? AND status = 'done'`).get(jobId, chunkIndex) as { data: Buffer | null } | undefined;
      return row?.data ?? null;
    });
  }

  async workerHeartbeat(worker: Omit<WorkerRecord, 'heartbeat_at' | 'stopped_at' | 'started_at'>): Promise<void> {
    this.#guard(() => {
      this.checkFile();
      const now = this.#now();
      this.#sql(
        `INSERT INTO workers (worker_id, host, pid, concurrency, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (worker_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, concurrency = excluded.concurrency, stopped_at = NULL`,
      ).run(worker.worker_id, worker.host, worker.pid, worker.concurrency, now, now);
      // Rows of workers gone for a day only clutter `status`.
      this.#sql('DELETE FROM workers WHERE heartbeat_at < ?').run(now - 86_400_000);
    });
  }

  async workerStopped(workerId: string): Promise<void> {
    this.#guard(() => {
      this.checkFile();
      this.#sql('UPDATE workers SET stopped_at = ? WHERE worker_id = ?').run(this.#now(), workerId);
    });
  }

  async liveWorkers(maxAgeMs: number): Promise<WorkerRecord[]> {
    return this.#guard(() => this.#sql('SELECT * FROM workers WHERE stopped_at IS NULL AND heartbeat_at >= ? ORDER BY started_at').all(this.#now() - maxAgeMs) as WorkerRecord[]);
  }

  // ---------------------------------------------------------------- CatalogStore

  async insertMedia(record: MediaRecord): Promise<void> {
    this.#guard(() => {
      this.checkFile();
      const row = mediaToRow(record);
      const keys = Object.keys(row);
      this.#sql(`INSERT INTO media (${keys.join(', ')}) VALUES (${keys.map((k) => '@' + k).join(', ')})`).run(row);
    });
  }

  async updateMedia(mediaId: string, fields: Partial<Omit<MediaRecord, 'media_id' | 'created_at'>>): Promise<void> {
    this.#guard(() => {
      this.checkFile();
      this.#updateMediaRow(mediaId, fields);
    });
  }

  #updateMediaRow(mediaId: string, fields: Partial<MediaRecord>): void {
    const row = mediaToRow({ ...fields, updated_at: fields.updated_at ?? this.#now() });
    const keys = Object.keys(row).filter((k) => (MEDIA_COLUMNS as readonly string[]).includes(k));
    if (keys.length === 0) return;
    const params: Row = { media_id: mediaId };
    for (const key of keys) params[key] = row[key];
    this.#sql(`UPDATE media SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE media_id = @media_id`).run(params);
  }

  async settleHash(mediaId: string, sha256: string, fields: Partial<Omit<MediaRecord, 'media_id' | 'created_at' | 'sha256'>>): Promise<{ media: MediaRecord; duplicate: boolean }> {
    return this.#write(() => {
      const other = this.#sql('SELECT * FROM media WHERE sha256 = ? AND media_id != ?').get(sha256, mediaId) as Row | undefined;
      if (other !== undefined) {
        this.#sql('DELETE FROM media WHERE media_id = ?').run(mediaId);
        return { media: mediaFromRow(other), duplicate: true };
      }
      this.#updateMediaRow(mediaId, { ...fields, sha256 });
      const row = this.#sql('SELECT * FROM media WHERE media_id = ?').get(mediaId) as Row | undefined;
      if (row === undefined) throw new StoreError('NOT_FOUND', `No media ${mediaId}`, { details: { media_id: mediaId } });
      return { media: mediaFromRow(row), duplicate: false };
    });
  }

  async getMedia(mediaId: string): Promise<MediaRecord | null> {
    return this.#guard(() => {
      const row = this.#sql('SELECT * FROM media WHERE media_id = ?').get(mediaId) as Row | undefined;
      return row === undefined ? null : mediaFromRow(row);
    });
  }

  async listMedia(options: { limit: number; offset: number }): Promise<{ items: MediaRecord[]; total: number }> {
    return this.#guard(() => {
      const items = (this.#sql('SELECT * FROM media ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?').all(options.limit, options.offset) as Row[]).map(mediaFromRow);
      const total = (this.#sql('SELECT COUNT(*) AS n FROM media').get() as { n: number }).n;
      return { items, total };
    });
  }

  async abortOrphanUploads(host: string, isAlive: (pid: number) => boolean): Promise<number> {
    return this.#write(() => {
      const rows = this.#sql(`SELECT media_id, owner FROM media WHERE upload_status IN ('uploading','processing') AND owner LIKE ?`).all(`${host}:%`) as Array<{ media_id: string; owner: string }>;
      let count = 0;
      for (const row of rows) {
        const pid = Number(row.owner.slice(host.length + 1));
        if (Number.isInteger(pid) && isAlive(pid)) continue;
        this.#updateMediaRow(row.media_id, { upload_status: 'aborted', owner: null, error_code: 'ABORTED', error_message: 'The process registering this file stopped before it finished' });
        count++;
      }
      return count;
    });
  }

  async listScenes(mediaId: string, options: { limit: number; offset: number }): Promise<{ items: SceneRecord[]; total: number }> {
    return this.#guard(() => {
      const latest = this.#sql(`SELECT job_id FROM jobs WHERE media_id = ? AND status = 'completed' ORDER BY completed_at DESC, rowid DESC LIMIT 1`).get(mediaId) as { job_id: string } | undefined;
      if (latest === undefined) return { items: [], total: 0 };
      const items = (this.#sql('SELECT * FROM scenes WHERE job_id = ? ORDER BY scene_index LIMIT ? OFFSET ?').all(latest.job_id, options.limit, options.offset) as Row[]).map(sceneFromRow);
      const total = (this.#sql('SELECT COUNT(*) AS n FROM scenes WHERE job_id = ?').get(latest.job_id) as { n: number }).n;
      return { items, total };
    });
  }

  async getScene(sceneId: string): Promise<SceneRecord | null> {
    return this.#guard(() => {
      const row = this.#sql('SELECT * FROM scenes WHERE scene_id = ?').get(sceneId) as Row | undefined;
      return row === undefined ? null : sceneFromRow(row);
    });
  }

  async searchScenes(query: SceneTextQuery, options: { limit: number; mediaIds?: readonly string[] }): Promise<{ hits: SceneHit[]; total: number }> {
    return this.#guard(() => {
      const match = ftsMatch(query);
      const media = options.mediaIds === undefined ? null : JSON.stringify(options.mediaIds);
      // Column weights: description 1, tags 2 (chosen keywords), visible text 1.
      const from = `FROM scenes_fts JOIN scenes s ON s.id = scenes_fts.rowid JOIN jobs j ON j.job_id = s.job_id
        WHERE scenes_fts MATCH @match AND j.status = 'completed' AND (@media IS NULL OR s.media_id IN (SELECT value FROM json_each(@media)))`;
      const rows = this.#sql(
        `SELECT s.*, -bm25(scenes_fts, 1.0, 2.0, 1.0) AS fts_score, snippet(scenes_fts, -1, '[', ']', '…', 12) AS fts_snippet
         ${from} ORDER BY bm25(scenes_fts, 1.0, 2.0, 1.0), s.media_id, s.scene_index LIMIT @limit`,
      ).all({ match, media, limit: options.limit }) as Row[];
      const total = (this.#sql(`SELECT COUNT(*) AS n ${from}`).get({ match, media }) as { n: number }).n;
      return { hits: rows.map((row) => ({ scene: sceneFromRow(row), score: row.fts_score as number, snippet: row.fts_snippet as string })), total };
    });
  }

  async sceneEmbeddingModels(sceneId: string): Promise<Array<{ model_id: string; dimension: number }>> {
    return this.#guard(() => this.#sql(
      `SELECT e.model_id, e.dimension FROM embeddings e JOIN scenes s ON s.id = e.scene_rowid WHERE s.scene_id = ? ORDER BY e.created_at DESC, e.model_id`,
    ).all(sceneId) as Array<{ model_id: string; dimension: number }>);
  }

  async similarScenes(sceneId: string, modelId: string, options: { limit: number; mediaIds?: readonly string[] }): Promise<SimilarHit[]> {
    return this.#guard(() => {
      const query = this.#sql(
        `SELECT e.vector, e.norm, e.dimension, s.id FROM embeddings e JOIN scenes s ON s.id = e.scene_rowid WHERE s.scene_id = ? AND e.model_id = ?`,
      ).get(sceneId, modelId) as { vector: Buffer; norm: number; dimension: number; id: number } | undefined;
      if (query === undefined) return [];
      const q = blobToVector(query.vector);
      const media = options.mediaIds === undefined ? null : JSON.stringify(options.mediaIds);
      // Exact search: one pass over the model's vectors, keeping the best `limit` (fine to ~10^5 scenes).
      const best: Array<{ id: number; score: number }> = [];
      const candidates = this.#sql(
        `SELECT e.scene_rowid AS id, e.vector, e.norm FROM embeddings e JOIN scenes s ON s.id = e.scene_rowid JOIN jobs j ON j.job_id = s.job_id
         WHERE e.model_id = @model AND e.dimension = @dimension AND j.status = 'completed' AND s.id != @self
           AND (@media IS NULL OR s.media_id IN (SELECT value FROM json_each(@media)))`,
      ).iterate({ model: modelId, dimension: query.dimension, self: query.id, media }) as IterableIterator<{ id: number; vector: Buffer; norm: number }>;
      for (const candidate of candidates) {
        const v = blobToVector(candidate.vector);
        let dot = 0;
        for (let i = 0; i < v.length; i++) dot += q[i]! * v[i]!;
        const denominator = query.norm * candidate.norm;
        const score = denominator > 0 ? dot / denominator : 0;
        if (best.length < options.limit || score > best[best.length - 1]!.score) {
          best.push({ id: candidate.id, score });
          best.sort((a, b) => b.score - a.score);
          if (best.length > options.limit) best.pop();
        }
      }
      const get = this.#sql('SELECT * FROM scenes WHERE id = ?');
      return best.map((hit) => ({ scene: sceneFromRow(get.get(hit.id) as Row), score: hit.score }));
    });
  }

  async putEmbedding(sceneId: string, embedding: EmbeddingInput): Promise<void> {
    this.#write(() => {
      const row = this.#sql('SELECT id FROM scenes WHERE scene_id = ?').get(sceneId) as { id: number } | undefined;
      if (row === undefined) throw new StoreError('NOT_FOUND', `No scene ${sceneId}`, { details: { scene_id: sceneId } });
      this.#putEmbeddingRow(row.id, embedding, this.#now());
      this.#sql(`UPDATE scenes SET embedding_status = 'completed' WHERE id = ?`).run(row.id);
    });
  }

  async readAsset(_ref: string): Promise<Buffer | null> {
    // Thumbnails and posters of a SQLite library are files in its assets folder; there is no asset table.
    return null;
  }

  async integrityCheck(): Promise<string[]> {
    return this.#guard(() => {
      const lines = (this.#db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check);
      const foreign = this.#db.pragma('foreign_key_check') as unknown[];
      if (foreign.length > 0) lines.push(`${foreign.length} foreign key violation(s)`);
      try {
        this.#db.prepare(`INSERT INTO scenes_fts(scenes_fts, rank) VALUES ('integrity-check', 1)`).run();
      } catch (error) {
        lines.push(`full-text index: ${(error as Error).message}`);
      }
      return lines.length === 1 && lines[0] === 'ok' ? ['ok'] : lines.filter((l) => l !== 'ok');
    });
  }

  async stats(): Promise<{ media: number; jobs: number; scenes: number; embeddings: number; databaseBytes: number }> {
    return this.#guard(() => {
      const count = (table: string): number => (this.#sql(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
      let bytes = 0;
      for (const file of [this.location, `${this.location}-wal`]) {
        if (existsSync(file)) bytes += statSync(file).size;
      }
      return { media: count('media'), jobs: count('jobs'), scenes: count('scenes'), embeddings: count('embeddings'), databaseBytes: bytes };
    });
  }

  /** The connection settings in force (journal_mode, busy_timeout, foreign_keys, user_version). */
  pragmas(): { journal_mode: string; busy_timeout: number; foreign_keys: number; user_version: number } {
    return this.#guard(() => ({
      journal_mode: String(this.#db.pragma('journal_mode', { simple: true })),
      busy_timeout: Number(this.#db.pragma('busy_timeout', { simple: true })),
      foreign_keys: Number(this.#db.pragma('foreign_keys', { simple: true })),
      user_version: Number(this.#db.pragma('user_version', { simple: true })),
    }));
  }

  /** Copy WAL pages into the main file and truncate the WAL (best effort: readers may hold it). */
  checkpoint(): void {
    this.#guard(() => this.#db.pragma('wal_checkpoint(TRUNCATE)'));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#statements.clear();
    try {
      this.#db.pragma('optimize');
    } catch {
      // optimize is advice; a busy database must not stop close().
    }
    this.#db.close();
  }
}

function fileIdentity(file: string): { dev: number; ino: number } | null {
  try {
    const info = statSync(file);
    return { dev: info.dev, ino: info.ino };
  } catch {
    return null;
  }
}

