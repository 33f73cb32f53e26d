/**
 * The PostgreSQL implementation of {@link LibraryStore}: one server database shared by workers on any number of
 * hosts (`openLibrary({ database: 'postgres://...' })`, `--library postgres://...`).
 *
 * The job semantics are exactly those of the SQLite store (the same contract tests run on both):
 * - Claims take the first claimable row with `FOR UPDATE SKIP LOCKED`, so concurrent claimers never wait on
 *   each other and never take the same job; the claim token guards every later write as in SQLite.
 * - Every lease, heartbeat and queue time comes from the server's clock (`scenescope_now_ms()`): the hosts'
 *   clocks are never compared with each other.
 * - Job changes are announced by a trigger on the `scenescope_jobs` channel; {@link PgLibraryStore.watchJobs}
 *   holds one LISTEN connection per store (reconnecting after a network cut) and fans the changes out.
 * - Thumbnails and posters written by a worker are read from its local folder at completeStep / updateMedia,
 *   stored content-addressed in the `assets` table, and referenced as `sha256:<hex>`; any host reads them back
 *   through {@link PgLibraryStore.readAsset}.
 * - Scene text search uses a generated tsvector with a GIN index; embeddings are float32 bytea with model id and
 *   dimension, compared by an exact scan (no pgvector needed).
 * A connection that stops answering (a cut link) fails its query after `queryTimeoutMs`, never hangs a worker.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import pg from 'pg';
import { JobError, StoreError } from '../errors.js';
import type { VideoAnalysisStatus } from '../types.js';
import { ACTIVE_SQL, CHUNK_COLUMNS, chunkFromRow, clampFraction, clampPercent, MEDIA_COLUMNS, RUNNING_SQL, sceneFromRow as sceneOf, SPEED_WINDOW, WORKER_FRESH_MS } from './common.js';
import { newId } from './ids.js';
import { redactUrl } from './pg-url.js';
import { PG_JOBS_CHANNEL, PG_MIGRATION_LOCK, PG_MIGRATIONS } from './pg-migrations.js';
import type { Migration } from './migrations.js';
import type {
  ChunkRecord,
  ClaimedChunk,
  ClaimedJob,
  ClaimOptions,
  EmbeddingInput,
  EnqueueInput,
  HeartbeatResult,
  JobChange,
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
const NOW = 'scenescope_now_ms()';
/** An asset reference as stored in thumbnail_path / poster_path. */
const ASSET_REF = /^sha256:[0-9a-f]{64}$/;
/**
 * Milliseconds a session may sit idle inside a transaction before the server ends it and releases its locks
 * (PostgreSQL's idle_in_transaction_session_timeout): a host cut off mid-transaction, see the constructor.
 */
export const IDLE_IN_TRANSACTION_MS = 30_000;

type Row = Record<string, unknown>;
type Queryable = pg.Pool | pg.PoolClient;

// int8 (COUNT, bigint columns) as JS numbers: epoch ms and counters stay far below 2^53.
const types = {
  getTypeParser(oid: number, format?: string): (value: string) => unknown {
    if (oid === 20) return (value: string) => Number(value);
    return (pg.types.getTypeParser as (oid: number, format?: string) => (value: string) => unknown)(oid, format);
  },
};

function mediaFromRow(row: Row): MediaRecord {
  return {
    media_id: row.media_id as string,
    file_path: row.file_path as string,
    source_path: row.source_path as string,
    file_name: row.file_name as string,
    copied: row.copied === true,
    sha256: (row.sha256 as string | null) ?? null,
    file_size_bytes: (row.file_size_bytes as number | null) ?? null,
    upload_status: row.upload_status as MediaRecord['upload_status'],
    video_metadata: (row.video_metadata as MediaRecord['video_metadata']) ?? null,
    poster_path: (row.poster_path as string | null) ?? null,
    error_code: (row.error_code as string | null) ?? null,
    error_message: (row.error_message as string | null) ?? null,
    owner: (row.owner as string | null) ?? null,
    created_at: row.created_at as number,
    updated_at: row.updated_at as number,
  };
}

function jobFromRow(row: Row): JobRecord {
  const { seq: _seq, resumed: _resumed, ...rest } = row;
  return { ...(rest as unknown as JobRecord), degraded: (row.degraded as JobRecord['degraded'] | undefined) ?? null };
}

function chunkOf(row: Row): ChunkRecord {
  return chunkFromRow(row, row.spec ?? null);
}

function stepFromRow(row: Row): StepRecord {
  return { ...(row as unknown as StepRecord), output: row.output ?? null };
}

function sceneFromRow(row: Row): SceneRecord {
  return sceneOf(row, (value, fallback) => (value ?? fallback) as typeof fallback);
}

function vectorToBytes(vector: ArrayLike<number>): { bytes: Buffer; norm: number } {
  const values = Float32Array.from(vector);
  let sum = 0;
  for (const v of values) sum += v * v;
  return { bytes: Buffer.from(values.buffer, values.byteOffset, values.byteLength), norm: Math.sqrt(sum) };
}

function bytesToVector(bytes: Buffer): Float32Array {
  return new Float32Array(Uint8Array.from(bytes).buffer);
}

function roundMs(value: number | null | undefined): number | null {
  return value === null || value === undefined || !Number.isFinite(value) ? null : Math.round(value);
}


/** A tsquery text from plain words: each a quoted lexeme, the last also a prefix. Words hold no quotes. */
function tsQueryText(query: SceneTextQuery): string {
  const terms = query.words.map((w, i) => `'${w.replaceAll("'", '').replaceAll('\\', '')}'${i === query.words.length - 1 ? ':*' : ''}`);
  return terms.join(query.match === 'all' ? ' & ' : ' | ');
}


/** Options of {@link openPgStore}. */
export interface PgStoreOptions {
  /** Connections in the pool. Default 4 (a worker needs one for claims, one for heartbeats, one to LISTEN). */
  maxConnections?: number;
  /** A query not answered in this time fails with STORE_FAILED (a cut network link). Default 10000 ms. */
  queryTimeoutMs?: number;
  /** Connecting gives up after this. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Migrations to apply (tests pass a longer list). Default {@link PG_MIGRATIONS}. */
  migrations?: readonly Migration[];
  /** Create scenescope's tables in a database that has none. Default true; false: LIBRARY_NOT_FOUND instead. */
  create?: boolean;
}

function storeError(error: unknown, what: string, url: string): StoreError {
  if (error instanceof StoreError) return error;
  const code = (error as { code?: unknown }).code;
  return new StoreError('STORE_FAILED', `${what} (${redactUrl(url)}): ${(error as Error).message}`, {
    cause: error,
    details: { sqlstate: typeof code === 'string' ? code : null, database: redactUrl(url) },
  });
}

/**
 * Connect to a PostgreSQL database as a {@link LibraryStore} and apply the migrations. The database must exist
 * (create it with `createdb`); the tables are created on first open.
 * @throws StoreError STORE_FAILED (cannot connect, or the schema is newer than this scenescope).
 */
export async function openPgStore(url: string, options: PgStoreOptions = {}): Promise<PgLibraryStore> {
  const store = new PgLibraryStore(url, options);
  try {
    if (options.create === false && !(await store.hasSchema())) {
      throw new StoreError('LIBRARY_NOT_FOUND', `No scenescope library in the database ${redactUrl(url)} (run "scenescope add" to create one)`, { details: { database: redactUrl(url) } });
    }
    await store.migrate(options.migrations ?? PG_MIGRATIONS);
  } catch (error) {
    store.close();
    throw storeError(error, 'Cannot open the library database', url);
  }
  return store;
}

/** See {@link openPgStore}. */
export class PgLibraryStore implements LibraryStore {
  /** The URL without its password. */
  readonly location: string;
  readonly #url: string;
  readonly #pool: pg.Pool;
  readonly #config: pg.ClientConfig;
  #closed = false;
  readonly #listeners = new Set<(change: JobChange) => void>();
  #listenClient: pg.Client | null = null;
  #listenRetry: NodeJS.Timeout | null = null;

  /** @internal Use openPgStore(). */
  constructor(url: string, options: PgStoreOptions = {}) {
    this.#url = url;
    this.location = redactUrl(url);
    this.#config = {
      connectionString: url,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      query_timeout: options.queryTimeoutMs ?? 10_000,
      keepAlive: true,
      // A host whose link is cut inside a transaction cannot send ROLLBACK, and the server only notices a dead
      // client after its TCP keepalive (two hours by default): until then the transaction's row locks stay, and
      // every other worker's FOR UPDATE SKIP LOCKED skips that job. Our transactions never wait on the client
      // between statements (assets are read before BEGIN), so a server-side limit ends such a session instead.
      idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS,
      application_name: `scenescope ${hostname()}:${process.pid}`,
      types,
    };
    this.#pool = new pg.Pool({ ...this.#config, max: options.maxConnections ?? 4, idleTimeoutMillis: 30_000 });
    // A connection that breaks (server restart, cut link, close() racing a query) must not crash the process:
    // the query in flight rejects (and becomes STORE_FAILED), the pool drops the connection.
    this.#pool.on('error', () => undefined);
    this.#pool.on('connect', (client) => client.on('error', () => undefined));
  }

  /** @internal True when the database has scenescope's tables. */
  async hasSchema(): Promise<boolean> {
    const { rows } = await this.#pool.query(`SELECT to_regclass('schema_migrations') IS NOT NULL AS present`);
    return rows[0]?.present === true;
  }

  /** @internal Apply migrations (openPgStore does). */
  async migrate(migrations: readonly Migration[]): Promise<void> {
    const latest = migrations[migrations.length - 1]?.version ?? 0;
    // Under the migration lock: two hosts creating the table at once would otherwise collide in the catalog.
    await this.#tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [PG_MIGRATION_LOCK]);
      await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)');
    });
    for (const migration of migrations) {
      await this.#tx(async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1)', [PG_MIGRATION_LOCK]);
        const current = await this.#version(c);
        if (current >= migration.version) return;
        if (current !== migration.version - 1) throw new StoreError('STORE_FAILED', `Library schema is at version ${current}; migration ${migration.version} cannot apply`);
        await c.query(migration.sql);
        await c.query(`INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, ${NOW})`, [migration.version, migration.name]);
      });
    }
    const version = await this.#version(this.#pool);
    if (version > latest) {
      throw new StoreError('STORE_FAILED', `The library database has schema version ${version}, newer than this scenescope (${latest}); upgrade scenescope`, { details: { version, supported: latest } });
    }
  }

  async #version(c: Queryable): Promise<number> {
    const { rows } = await c.query('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations');
    return Number(rows[0]?.v ?? 0);
  }

  /** The schema version of the database. */
  async schemaVersion(): Promise<number> {
    return this.#guard(() => this.#version(this.#pool));
  }

  async #guard<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreError('STORE_FAILED', 'The library is closed');
    try {
      return await fn();
    } catch (error) {
      if (error instanceof StoreError || error instanceof JobError) throw error;
      throw storeError(error, 'Library database error', this.#url);
    }
  }

  async #q(sql: string, params: unknown[] = [], c: Queryable = this.#pool): Promise<Row[]> {
    return (await c.query(sql, params)).rows as Row[];
  }

  /** Run fn in a transaction on one connection; a broken connection is destroyed, not returned to the pool. */
  async #tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.#guard(async () => {
      const client = await this.#pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((e: unknown) => {
          broken = e as Error;
        });
        throw error;
      } finally {
        client.release(broken);
      }
    });
  }

  #jobNotFound(jobId: string): JobError {
    return new JobError('NOT_FOUND', `No analysis job ${jobId}`, { details: { analysis_job_id: jobId } });
  }

  // ---------------------------------------------------------------- JobStore

  async enqueue(input: EnqueueInput): Promise<{ job: JobRecord; created: boolean }> {
    return this.#tx(async (c) => {
      const media = (await this.#q('SELECT media_id, video_metadata FROM media WHERE media_id = $1 FOR SHARE', [input.mediaId], c))[0];
      if (media === undefined) throw new StoreError('NOT_FOUND', `No media ${input.mediaId}`, { details: { media_id: input.mediaId } });
      const duration = (media.video_metadata as { duration_seconds?: number | null } | null)?.duration_seconds ?? null;
      // The partial unique index settles races between hosts: the loser inserts nothing and reads the winner.
      const inserted = await this.#q(
        `INSERT INTO jobs (job_id, media_id, analysis_type, priority, status, progress_percent, current_step, created_at, queued_at, max_retries, video_seconds, updated_at)
         VALUES ($1, $2, $3, $4, 'pending', 0, 'Queued', ${NOW}, ${NOW}, $5, $6, ${NOW})
         ON CONFLICT (media_id) WHERE status IN ${ACTIVE} DO NOTHING RETURNING *`,
        [newId('job'), input.mediaId, input.analysisType, input.priority, input.maxRetries, duration],
        c,
      );
      if (inserted[0] !== undefined) return { job: jobFromRow(inserted[0]), created: true };
      const active = (await this.#q(`SELECT * FROM jobs WHERE media_id = $1 AND status IN ${ACTIVE} LIMIT 1`, [input.mediaId], c))[0];
      if (active === undefined) throw new StoreError('STORE_FAILED', `Media ${input.mediaId} has an active job that could not be read`);
      return { job: jobFromRow(active), created: false };
    });
  }

  async claim(options: ClaimOptions): Promise<ClaimedJob | null> {
    const maxLosses = options.maxLeaseLosses ?? 3;
    const only = options.jobIds === undefined ? null : [...options.jobIds];
    return this.#tx(async (c) => {
      // A job whose worker died again and again is more likely to kill workers than to finish: fail it.
      await this.#q(
        `UPDATE jobs SET status = 'failed', error_code = 'WORKER_FAILED',
           error_message = 'The worker running this job stopped responding ' || (lease_losses + 1) || ' times',
           completed_at = ${NOW}, estimated_completion_at = NULL, worker_id = NULL, claim_token = NULL, lease_expires_at = NULL, updated_at = ${NOW}
         WHERE job_id IN (SELECT job_id FROM jobs WHERE status IN ${RUNNING} AND lease_expires_at < ${NOW} AND lease_losses + 1 >= $1 FOR UPDATE SKIP LOCKED)`,
        [maxLosses],
        c,
      );
      const token = newId('clm');
      const rows = await this.#q(
        `WITH candidate AS (
           SELECT job_id, status FROM jobs
           WHERE (status = 'pending' OR (status IN ${RUNNING} AND lease_expires_at < ${NOW}))
             AND ($1::text[] IS NULL OR job_id = ANY($1::text[]))
           ORDER BY priority DESC, queued_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED)
         UPDATE jobs j SET status = 'processing', worker_id = $2, claim_token = $3, lease_expires_at = ${NOW} + $4,
           heartbeat_at = ${NOW}, attempts = j.attempts + 1,
           lease_losses = j.lease_losses + CASE WHEN candidate.status = 'pending' THEN 0 ELSE 1 END,
           started_at = COALESCE(j.started_at, ${NOW}),
           current_step = CASE WHEN candidate.status = 'pending' THEN 'Starting' ELSE 'Resuming' END,
           error_code = NULL, error_message = NULL, updated_at = ${NOW}
         FROM candidate WHERE j.job_id = candidate.job_id
         RETURNING j.*, candidate.status <> 'pending' AS resumed`,
        [only, options.workerId, token, Math.round(options.leaseMs)],
        c,
      );
      const row = rows[0];
      if (row === undefined) return null;
      const job = jobFromRow(row);
      const media = mediaFromRow((await this.#q('SELECT * FROM media WHERE media_id = $1', [job.media_id], c))[0]!);
      const doneSteps = (await this.#q(`SELECT * FROM job_steps WHERE job_id = $1 AND status = 'done' ORDER BY step_index`, [job.job_id], c)).map(stepFromRow);
      return { job, media, doneSteps, token, resumed: row.resumed === true };
    });
  }

  async heartbeat(jobId: string, token: string, leaseMs: number, progress?: ProgressUpdate): Promise<HeartbeatResult> {
    return this.#guard(async () => {
      const rows = await this.#q(
        `UPDATE jobs SET lease_expires_at = ${NOW} + $1, heartbeat_at = ${NOW}, updated_at = ${NOW},
           progress_percent = GREATEST(progress_percent, COALESCE($2::double precision, 0)),
           current_step = COALESCE($3, current_step),
           estimated_completion_at = CASE WHEN $4::boolean THEN $5::bigint ELSE estimated_completion_at END,
           status = COALESCE($6, status)
         WHERE job_id = $7 AND claim_token = $8 AND status IN ${RUNNING} RETURNING status`,
        [
          Math.round(leaseMs),
          progress === undefined ? null : clampPercent(progress.progressPercent),
          progress?.currentStep ?? null,
          progress !== undefined,
          roundMs(progress?.estimatedCompletionAt),
          progress?.status ?? null,
          jobId,
          token,
        ],
      );
      if (rows.length > 0) return 'ok';
      const current = (await this.#q('SELECT status, claim_token FROM jobs WHERE job_id = $1', [jobId]))[0];
      return current?.status === 'cancelled' && current.claim_token === token ? 'cancelled' : 'lost';
    });
  }

  async startStep(jobId: string, token: string, step: string, stepIndex: number, progress: ProgressUpdate): Promise<boolean> {
    return this.#tx(async (c) => {
      const rows = await this.#q(
        `UPDATE jobs SET current_step = $1, progress_percent = GREATEST(progress_percent, $2), estimated_completion_at = $3, status = COALESCE($4, status), updated_at = ${NOW}
         WHERE job_id = $5 AND claim_token = $6 AND status IN ${RUNNING} RETURNING worker_id`,
        [progress.currentStep, clampPercent(progress.progressPercent), roundMs(progress.estimatedCompletionAt), progress.status ?? null, jobId, token],
        c,
      );
      if (rows[0] === undefined) return false;
      await this.#q(
        `INSERT INTO job_steps (job_id, step, step_index, status, started_at, worker_id) VALUES ($1, $2, $3, 'running', ${NOW}, $4)
         ON CONFLICT (job_id, step) DO UPDATE SET status = 'running', output = NULL, started_at = excluded.started_at,
           completed_at = NULL, duration_ms = NULL, attempts = job_steps.attempts + 1, worker_id = excluded.worker_id`,
        [jobId, step, stepIndex, rows[0].worker_id ?? null],
        c,
      );
      return true;
    });
  }

  /** Read local thumbnail files named by scene updates into content-addressed assets (before the transaction). */
  async #assetsOf(updates: readonly SceneUpdate[] | undefined): Promise<Map<string, { sha256: string; bytes: Buffer }>> {
    const found = new Map<string, { sha256: string; bytes: Buffer }>();
    for (const update of updates ?? []) {
      const file = update.thumbnail_path;
      if (typeof file !== 'string' || ASSET_REF.test(file) || found.has(file)) continue;
      const bytes = await readFile(file).catch(() => null);
      if (bytes !== null) found.set(file, { sha256: createHash('sha256').update(bytes).digest('hex'), bytes });
    }
    return found;
  }

  async #putAssets(c: Queryable, assets: Iterable<{ sha256: string; bytes: Buffer }>): Promise<void> {
    for (const asset of assets) {
      await this.#q(`INSERT INTO assets (sha256, media_type, bytes, created_at) VALUES ($1, 'image/jpeg', $2, ${NOW}) ON CONFLICT (sha256) DO NOTHING`, [asset.sha256, asset.bytes], c);
    }
  }

  async completeStep(jobId: string, token: string, completion: StepCompletion): Promise<boolean> {
    const effects = completion.effects ?? {};
    const assets = await this.#assetsOf(effects.sceneUpdates);
    return this.#tx(async (c) => {
      const videoSeconds = effects.metadata?.duration_seconds ?? null;
      const rows = await this.#q(
        `UPDATE jobs SET progress_percent = GREATEST(progress_percent, $1), current_step = $2, run_ms = run_ms + $3,
           estimated_completion_at = $4, lease_expires_at = ${NOW} + $5, heartbeat_at = ${NOW}, updated_at = ${NOW},
           video_seconds = COALESCE($6, video_seconds)
         WHERE job_id = $7 AND claim_token = $8 AND status IN ${RUNNING} RETURNING media_id`,
        [clampPercent(completion.progressPercent), completion.currentStep, Math.max(0, Math.round(completion.durationMs)), roundMs(completion.estimatedCompletionAt), Math.round(completion.leaseMs), videoSeconds, jobId, token],
        c,
      );
      const job = rows[0] as { media_id: string } | undefined;
      if (job === undefined) return false;
      const duration = Math.round(completion.durationMs);
      await this.#q(
        `INSERT INTO job_steps (job_id, step, step_index, status, output, started_at, completed_at, duration_ms)
         VALUES ($1, $2, $3, 'done', $4::jsonb, ${NOW} - $5, ${NOW}, $5)
         ON CONFLICT (job_id, step) DO UPDATE SET status = 'done', output = excluded.output, completed_at = excluded.completed_at, duration_ms = excluded.duration_ms`,
        [jobId, completion.step, completion.stepIndex, JSON.stringify(completion.output ?? null), duration],
        c,
      );
      if (effects.metadata !== undefined) {
        await this.#q(`UPDATE media SET video_metadata = $1::jsonb, updated_at = ${NOW} WHERE media_id = $2`, [JSON.stringify(effects.metadata), job.media_id], c);
      }
      if (effects.scenes !== undefined) await this.#replaceScenes(c, jobId, job.media_id, effects.scenes);
      if (effects.sceneUpdates !== undefined) {
        await this.#putAssets(c, assets.values());
        for (const update of effects.sceneUpdates) {
          const file = update.thumbnail_path;
          const asset = typeof file === 'string' ? assets.get(file) : undefined;
          await this.#updateScene(c, jobId, asset === undefined ? update : { ...update, thumbnail_path: `sha256:${asset.sha256}` });
        }
      }
      if (effects.degraded !== undefined) await this.#q('UPDATE jobs SET degraded = $1::jsonb WHERE job_id = $2', [effects.degraded.length === 0 ? null : JSON.stringify(effects.degraded), jobId], c);
      if (effects.clearChunks === true) await this.#q('DELETE FROM job_chunks WHERE job_id = $1', [jobId], c);
      return true;
    });
  }

  async #replaceScenes(c: Queryable, jobId: string, mediaId: string, scenes: readonly SceneInput[]): Promise<void> {
    await this.#q('DELETE FROM scenes WHERE job_id = $1', [jobId], c);
    for (const scene of scenes) {
      await this.#q(
        `INSERT INTO scenes (scene_id, media_id, job_id, scene_index, start_frame, end_frame, start_time, end_time, time_range_formatted, confidence_score, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, ${NOW})`,
        [newId('scn'), mediaId, jobId, scene.scene_index, scene.start_frame ?? null, scene.end_frame ?? null, scene.start_time, scene.end_time, scene.time_range_formatted ?? null, scene.confidence_score ?? null],
        c,
      );
    }
  }

  async #updateScene(c: Queryable, jobId: string, update: SceneUpdate): Promise<void> {
    const row = (await this.#q('SELECT * FROM scenes WHERE job_id = $1 AND scene_index = $2', [jobId, update.scene_index], c))[0];
    if (row === undefined) throw new StoreError('STORE_FAILED', `Step output refers to scene ${update.scene_index}, which job ${jobId} does not have`);
    const scene = sceneFromRow(row);
    let embeddingStatus = update.embedding_status ?? scene.embedding_status;
    if (update.embedding !== undefined && update.embedding !== null) {
      await this.#putEmbeddingRow(c, scene.id, update.embedding);
      if (update.embedding_status === undefined) embeddingStatus = 'completed';
    }
    const tags = update.tags ?? scene.tags;
    const errors = update.errors ?? scene.errors;
    const lines = update.text_lines !== undefined ? update.text_lines : scene.text_lines;
    const scores = update.tag_scores ?? scene.tag_scores;
    await this.#q(
      `UPDATE scenes SET description = $1, tags = $2::jsonb, tags_text = $3, visible_text = $4, confidence_score = $5, thumbnail_path = $6,
         embedding_status = $7, errors = $8::jsonb, text_lines = $10::jsonb, tag_scores = $11::jsonb WHERE id = $9`,
      [
        update.description !== undefined ? update.description : scene.description,
        JSON.stringify(tags),
        tags.length === 0 ? null : tags.join(', '),
        update.visible_text !== undefined ? update.visible_text : scene.visible_text,
        update.confidence_score !== undefined ? update.confidence_score : scene.confidence_score,
        update.thumbnail_path !== undefined ? update.thumbnail_path : scene.thumbnail_path,
        embeddingStatus,
        errors.length === 0 ? null : JSON.stringify(errors),
        scene.id,
        lines === null ? null : JSON.stringify(lines),
        scores.length === 0 ? null : JSON.stringify(scores),
      ],
      c,
    );
  }

  async #putEmbeddingRow(c: Queryable, sceneRowId: number, embedding: EmbeddingInput): Promise<void> {
    if (embedding.vector.length === 0) throw new StoreError('STORE_FAILED', `Empty embedding vector from model ${embedding.model_id}`);
    const { bytes, norm } = vectorToBytes(embedding.vector);
    await this.#q(
      `INSERT INTO embeddings (scene_rowid, model_id, dimension, vector, norm, created_at) VALUES ($1, $2, $3, $4, $5, ${NOW})
       ON CONFLICT (scene_rowid, model_id) DO UPDATE SET dimension = excluded.dimension, vector = excluded.vector, norm = excluded.norm, created_at = excluded.created_at`,
      [sceneRowId, embedding.model_id, embedding.vector.length, bytes, norm],
      c,
    );
  }

  async completeJob(jobId: string, token: string, currentStep: string): Promise<string[] | null> {
    return this.#tx(async (c) => {
      const rows = await this.#q(
        `UPDATE jobs SET status = 'completed', progress_percent = 100, current_step = $1, completed_at = ${NOW}, estimated_completion_at = NULL,
           worker_id = NULL, claim_token = NULL, lease_expires_at = NULL, error_code = NULL, error_message = NULL, updated_at = ${NOW}
         WHERE job_id = $2 AND claim_token = $3 AND status IN ${RUNNING} RETURNING media_id`,
        [currentStep, jobId, token],
        c,
      );
      const row = rows[0];
      if (row === undefined) return null;
      await this.#q('DELETE FROM job_chunks WHERE job_id = $1', [jobId], c);
      const superseded = (await this.#q('SELECT DISTINCT job_id FROM scenes WHERE media_id = $1 AND job_id <> $2', [row.media_id, jobId], c)).map((r) => r.job_id as string);
      await this.#q('DELETE FROM scenes WHERE media_id = $1 AND job_id <> $2', [row.media_id, jobId], c);
      return superseded;
    });
  }

  async failJob(jobId: string, token: string, code: string, message: string): Promise<boolean> {
    return this.#guard(async () => {
      const rows = await this.#q(
        `UPDATE jobs SET status = 'failed', error_code = $1, error_message = $2, completed_at = ${NOW}, estimated_completion_at = NULL,
           current_step = 'Failed', worker_id = NULL, claim_token = NULL, lease_expires_at = NULL, updated_at = ${NOW}
         WHERE job_id = $3 AND claim_token = $4 AND status IN ${RUNNING} RETURNING job_id`,
        [code, message, jobId, token],
      );
      return rows.length > 0;
    });
  }

  async releaseJob(jobId: string, token: string, currentStep: string): Promise<boolean> {
    return this.#guard(async () => {
      const rows = await this.#q(
        `UPDATE jobs SET status = 'pending', current_step = $1, estimated_completion_at = NULL, worker_id = NULL, claim_token = NULL,
           lease_expires_at = NULL, updated_at = ${NOW}
         WHERE job_id = $2 AND claim_token = $3 AND status IN ${RUNNING} RETURNING job_id`,
        [currentStep, jobId, token],
      );
      return rows.length > 0;
    });
  }

  async cancelJob(jobId: string): Promise<JobRecord> {
    return this.#tx(async (c) => {
      const row = (await this.#q('SELECT * FROM jobs WHERE job_id = $1 FOR UPDATE', [jobId], c))[0];
      if (row === undefined) throw this.#jobNotFound(jobId);
      const job = jobFromRow(row);
      if (job.status === 'cancelled') return job;
      if (job.status === 'completed' || job.status === 'failed') {
        throw new JobError('INVALID_STATE', `Job ${jobId} is ${job.status}; only pending or running jobs can be cancelled`, { details: { analysis_job_id: jobId, status: job.status } });
      }
      // worker_id and claim_token stay, so that the holder's next heartbeat learns it was cancelled.
      const updated = await this.#q(
        `UPDATE jobs SET status = 'cancelled', current_step = 'Cancelled', completed_at = ${NOW}, estimated_completion_at = NULL,
           lease_expires_at = NULL, updated_at = ${NOW} WHERE job_id = $1 RETURNING *`,
        [jobId],
        c,
      );
      return jobFromRow(updated[0]!);
    });
  }

  async retryJob(jobId: string): Promise<JobRecord> {
    return this.#tx(async (c) => {
      const row = (await this.#q('SELECT * FROM jobs WHERE job_id = $1 FOR UPDATE', [jobId], c))[0];
      if (row === undefined) throw this.#jobNotFound(jobId);
      const job = jobFromRow(row);
      if (job.status !== 'failed' && job.status !== 'cancelled') {
        throw new JobError('INVALID_STATE', `Job ${jobId} is ${job.status}; only failed or cancelled jobs can be retried`, { details: { analysis_job_id: jobId, status: job.status } });
      }
      if (job.retry_count >= job.max_retries) {
        throw new JobError('RETRY_LIMIT', `Job ${jobId} was already retried ${job.retry_count} times (max_retries ${job.max_retries})`, {
          details: { analysis_job_id: jobId, retry_count: job.retry_count, max_retries: job.max_retries },
        });
      }
      const active = (await this.#q(`SELECT job_id FROM jobs WHERE media_id = $1 AND status IN ${ACTIVE}`, [job.media_id], c))[0];
      if (active !== undefined) {
        throw new JobError('INVALID_STATE', `Media ${job.media_id} already has an active job ${String(active.job_id)}`, { details: { analysis_job_id: jobId, active_job_id: active.job_id } });
      }
      const attempt = job.retry_count + 1;
      const updated = await this.#q(
        `UPDATE jobs SET status = 'pending', retry_count = $1, current_step = $2, error_code = NULL, error_message = NULL, queued_at = ${NOW},
           started_at = NULL, completed_at = NULL, estimated_completion_at = NULL, worker_id = NULL, claim_token = NULL,
           lease_expires_at = NULL, lease_losses = 0, updated_at = ${NOW} WHERE job_id = $3 RETURNING *`,
        [attempt, `Queued (retry ${attempt}/${job.max_retries})`, jobId],
        c,
      );
      return jobFromRow(updated[0]!);
    });
  }

  async getJob(jobId: string): Promise<JobRecord | null> {
    return this.#guard(async () => {
      const row = (await this.#q('SELECT * FROM jobs WHERE job_id = $1', [jobId]))[0];
      return row === undefined ? null : jobFromRow(row);
    });
  }

  async getLatestJob(mediaId: string): Promise<JobRecord | null> {
    return this.#guard(async () => {
      const row = (await this.#q('SELECT * FROM jobs WHERE media_id = $1 ORDER BY created_at DESC, seq DESC LIMIT 1', [mediaId]))[0];
      return row === undefined ? null : jobFromRow(row);
    });
  }

  async listJobs(options: { statuses?: readonly VideoAnalysisStatus[]; limit: number }): Promise<JobRecord[]> {
    return this.#guard(async () => {
      const statuses = options.statuses === undefined ? null : [...options.statuses];
      return (await this.#q('SELECT * FROM jobs WHERE ($1::text[] IS NULL OR status = ANY($1::text[])) ORDER BY created_at DESC, seq DESC LIMIT $2', [statuses, options.limit])).map(jobFromRow);
    });
  }

  async getSteps(jobId: string): Promise<StepRecord[]> {
    return this.#guard(async () => (await this.#q('SELECT * FROM job_steps WHERE job_id = $1 ORDER BY step_index', [jobId])).map(stepFromRow));
  }

  async queueSnapshot(): Promise<QueueSnapshot> {
    return this.#guard(async () => {
      const seconds = `COALESCE(j.video_seconds, (m.video_metadata->>'duration_seconds')::double precision)`;
      const pending = (await this.#q(
        `SELECT j.job_id, ${seconds} AS video_seconds FROM jobs j JOIN media m ON m.media_id = j.media_id
         WHERE j.status = 'pending' ORDER BY j.priority DESC, j.queued_at, j.seq`,
      )) as QueueSnapshot['pending'];
      const running = (await this.#q(
        `SELECT j.job_id, j.progress_percent, j.estimated_completion_at, j.started_at, ${seconds} AS video_seconds
         FROM jobs j JOIN media m ON m.media_id = j.media_id WHERE j.status IN ${RUNNING} AND j.lease_expires_at >= ${NOW}`,
      )) as QueueSnapshot['running'];
      const orphaned = Number((await this.#q(`SELECT COUNT(*) AS n FROM jobs WHERE status IN ${RUNNING} AND (lease_expires_at IS NULL OR lease_expires_at < ${NOW})`))[0]!.n);
      const workers = (await this.#q(`SELECT COUNT(*) AS n, COALESCE(SUM(concurrency), 0) AS slots FROM workers WHERE stopped_at IS NULL AND heartbeat_at >= ${NOW} - $1`, [WORKER_FRESH_MS]))[0]!;
      return { pending, running, orphaned, workers: Number(workers.n), slots: Number(workers.slots) };
    });
  }

  async speedStats(): Promise<SpeedStats> {
    return this.#guard(async () => {
      const recent = `SELECT job_id, run_ms, video_seconds FROM jobs WHERE status = 'completed' AND run_ms > 0 ORDER BY completed_at DESC LIMIT ${SPEED_WINDOW}`;
      const totals = (await this.#q(
        `SELECT COUNT(*) AS samples, AVG(run_ms)::double precision AS mean_ms,
           SUM(CASE WHEN video_seconds > 0 THEN video_seconds END) AS video, SUM(CASE WHEN video_seconds > 0 THEN run_ms END)::double precision AS video_ms
         FROM (${recent}) r`,
      ))[0] as { samples: number; mean_ms: number | null; video: number | null; video_ms: number | null };
      const steps = (await this.#q(
        `SELECT s.step, SUM(s.duration_ms)::double precision / SUM(r.video_seconds) AS cost
         FROM job_steps s JOIN (${recent}) r ON r.job_id = s.job_id
         WHERE s.status = 'done' AND r.video_seconds > 0 GROUP BY s.step`,
      )) as Array<{ step: string; cost: number }>;
      const stepMsPerVideoSecond: Record<string, number> = {};
      for (const s of steps) stepMsPerVideoSecond[s.step] = s.cost;
      return {
        samples: Number(totals.samples),
        videoSecondsPerSecond: totals.video !== null && totals.video_ms !== null && totals.video_ms > 0 ? totals.video / (totals.video_ms / 1000) : null,
        meanJobMs: totals.mean_ms,
        stepMsPerVideoSecond,
      };
    });
  }

  async planChunks(jobId: string, token: string, specs: readonly unknown[], inputs?: readonly (Buffer | null)[]): Promise<boolean> {
    return this.#tx(async (c) => {
      const held = await this.#q(`SELECT job_id FROM jobs WHERE job_id = $1 AND claim_token = $2 AND status IN ${RUNNING} FOR UPDATE`, [jobId, token], c);
      if (held.length === 0) return false;
      const existing = (await this.#q('SELECT spec FROM job_chunks WHERE job_id = $1 ORDER BY chunk_index', [jobId], c)).map((r) => JSON.stringify(r.spec));
      // jsonb normalises key order and spacing: compare through it.
      const wanted = (await this.#q('SELECT (x::jsonb)::text AS spec FROM unnest($1::text[]) AS x', [specs.map((spec) => JSON.stringify(spec))], c)).map((r) => JSON.stringify(JSON.parse(r.spec as string)));
      if (existing.length === wanted.length && existing.every((spec, i) => spec === wanted[i])) {
        await this.#q(`UPDATE job_chunks SET status = 'pending', error_code = NULL, error_message = NULL, updated_at = ${NOW} WHERE job_id = $1 AND status = 'failed'`, [jobId], c);
        return true;
      }
      await this.#q('DELETE FROM job_chunks WHERE job_id = $1', [jobId], c);
      await this.#q(
        `INSERT INTO job_chunks (job_id, chunk_index, spec, status, updated_at)
         SELECT $1, i - 1, (x::jsonb), 'pending', ${NOW} FROM unnest($2::text[]) WITH ORDINALITY AS t(x, i)`,
        [jobId, specs.map((spec) => JSON.stringify(spec))],
        c,
      );
      for (let i = 0; i < specs.length; i++) {
        const input = inputs?.[i];
        if (input !== undefined && input !== null) await this.#q('UPDATE job_chunks SET input = $1 WHERE job_id = $2 AND chunk_index = $3', [input, jobId, i], c);
      }
      return true;
    });
  }

  async claimChunk(options: { workerId: string; leaseMs: number; jobIds?: readonly string[] }): Promise<ClaimedChunk | null> {
    const only = options.jobIds === undefined ? null : [...options.jobIds];
    return this.#tx(async (c) => {
      const token = newId('clm');
      const rows = await this.#q(
        `WITH candidate AS (
           SELECT c.job_id, c.chunk_index FROM job_chunks c JOIN jobs j ON j.job_id = c.job_id
           WHERE (c.status = 'pending' OR (c.status = 'running' AND c.lease_expires_at < ${NOW})) AND j.status IN ${RUNNING}
             AND ($1::text[] IS NULL OR c.job_id = ANY($1::text[]))
           ORDER BY j.started_at, j.seq, c.chunk_index LIMIT 1 FOR UPDATE OF c SKIP LOCKED)
         UPDATE job_chunks k SET status = 'running', worker_id = $2, claim_token = $3, lease_expires_at = ${NOW} + $4, progress = 0,
           attempts = k.attempts + 1, updated_at = ${NOW}
         FROM candidate WHERE k.job_id = candidate.job_id AND k.chunk_index = candidate.chunk_index
         RETURNING k.job_id, k.chunk_index, k.spec, k.input`,
        [only, options.workerId, token, Math.round(options.leaseMs)],
        c,
      );
      const row = rows[0];
      if (row === undefined) return null;
      const media = (await this.#q('SELECT m.media_id, m.file_path FROM jobs j JOIN media m ON m.media_id = j.media_id WHERE j.job_id = $1', [row.job_id], c))[0]!;
      return { job_id: row.job_id as string, media_id: media.media_id as string, file_path: media.file_path as string, chunk_index: row.chunk_index as number, spec: row.spec ?? null, input: (row.input as Buffer | null) ?? null, token };
    });
  }

  async heartbeatChunk(jobId: string, chunkIndex: number, token: string, leaseMs: number, progress: number): Promise<HeartbeatResult> {
    return this.#guard(async () => {
      const rows = await this.#q(
        `WITH job AS (SELECT status FROM jobs WHERE job_id = $1),
         beat AS (
           UPDATE job_chunks SET lease_expires_at = ${NOW} + $4, progress = GREATEST(progress, $5), updated_at = ${NOW}
           WHERE job_id = $1 AND chunk_index = $2 AND claim_token = $3 AND status = 'running'
             AND NOT EXISTS (SELECT 1 FROM job WHERE status IN ('cancelled','failed','completed'))
           RETURNING 1)
         SELECT (SELECT status FROM job) AS job_status, (SELECT COUNT(*) FROM beat) AS beats`,
        [jobId, chunkIndex, token, Math.round(leaseMs), clampFraction(progress)],
      );
      const row = rows[0];
      const status = row?.job_status as string | null | undefined;
      if (status === null || status === undefined || status === 'cancelled' || status === 'failed' || status === 'completed') return 'cancelled';
      return Number(row?.beats ?? 0) > 0 ? 'ok' : 'lost';
    });
  }

  async completeChunk(jobId: string, chunkIndex: number, token: string, data: Buffer, durationMs: number): Promise<boolean> {
    return this.#guard(async () => {
      const rows = await this.#q(
        `UPDATE job_chunks SET status = 'done', data = $1, progress = 1, duration_ms = $2, lease_expires_at = NULL, claim_token = NULL, updated_at = ${NOW}
         WHERE job_id = $3 AND chunk_index = $4 AND claim_token = $5 AND status = 'running' RETURNING chunk_index`,
        [data, Math.max(0, Math.round(durationMs)), jobId, chunkIndex, token],
      );
      return rows.length > 0;
    });
  }

  async failChunk(jobId: string, chunkIndex: number, token: string, code: string, message: string): Promise<boolean> {
    return this.#guard(async () => {
      const rows = await this.#q(
        `UPDATE job_chunks SET status = 'failed', error_code = $1, error_message = $2, lease_expires_at = NULL, claim_token = NULL, updated_at = ${NOW}
         WHERE job_id = $3 AND chunk_index = $4 AND claim_token = $5 AND status = 'running' RETURNING chunk_index`,
        [code, message, jobId, chunkIndex, token],
      );
      return rows.length > 0;
    });
  }

  async releaseChunk(jobId: string, chunkIndex: number, token: string): Promise<boolean> {
    return this.#guard(async () => {
      const rows = await this.#q(
        `UPDATE job_chunks SET status = 'pending', progress = 0, worker_id = NULL, lease_expires_at = NULL, claim_token = NULL, updated_at = ${NOW}
         WHERE job_id = $1 AND chunk_index = $2 AND claim_token = $3 AND status = 'running' RETURNING chunk_index`,
        [jobId, chunkIndex, token],
      );
      return rows.length > 0;
    });
  }

  async listChunks(jobId: string): Promise<ChunkRecord[]> {
    return this.#guard(async () =>
      (await this.#q(`SELECT ${CHUNK_COLUMNS} FROM job_chunks WHERE job_id = $1 ORDER BY chunk_index`, [jobId])).map(chunkOf),
    );
  }

  async readChunk(jobId: string, chunkIndex: number): Promise<Buffer | null> {
    return this.#guard(async () => {
      const row = (await this.#q(`SELECT data FROM job_chunks WHERE job_id = $1 AND chunk_index = $2 AND status = 'done'`, [jobId, chunkIndex]))[0];
      return (row?.data as Buffer | null | undefined) ?? null;
    });
  }

  async workerHeartbeat(worker: Omit<WorkerRecord, 'heartbeat_at' | 'stopped_at' | 'started_at'>): Promise<void> {
    await this.#guard(async () => {
      await this.#q(
        `INSERT INTO workers (worker_id, host, pid, concurrency, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, ${NOW}, ${NOW})
         ON CONFLICT (worker_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, concurrency = excluded.concurrency, stopped_at = NULL`,
        [worker.worker_id, worker.host, worker.pid, worker.concurrency],
      );
      await this.#q(`DELETE FROM workers WHERE heartbeat_at < ${NOW} - 86400000`);
    });
  }

  async workerStopped(workerId: string): Promise<void> {
    await this.#guard(async () => {
      await this.#q(`UPDATE workers SET stopped_at = ${NOW} WHERE worker_id = $1`, [workerId]);
    });
  }

  async liveWorkers(maxAgeMs: number): Promise<WorkerRecord[]> {
    return this.#guard(async () => (await this.#q(`SELECT * FROM workers WHERE stopped_at IS NULL AND heartbeat_at >= ${NOW} - $1 ORDER BY started_at`, [maxAgeMs])) as unknown as WorkerRecord[]);
  }

  watchJobs(listener: (change: JobChange) => void): () => void {
    this.#listeners.add(listener);
    if (this.#listenClient === null && this.#listenRetry === null) void this.#listen();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#unlisten();
    };
  }

  async #listen(): Promise<void> {
    if (this.#closed || this.#listeners.size === 0) return;
    const client = new pg.Client({ ...this.#config, query_timeout: 0 });
    this.#listenClient = client;
    const retry = (): void => {
      if (this.#listenClient === client) this.#listenClient = null;
      client.removeAllListeners('notification');
      client.end().catch(() => undefined);
      if (this.#closed || this.#listeners.size === 0 || this.#listenRetry !== null) return;
      // Reconnect after a cut; waiters meanwhile fall back to their slow poll.
      this.#listenRetry = setTimeout(() => {
        this.#listenRetry = null;
        void this.#listen();
      }, 1000);
      this.#listenRetry.unref();
    };
    client.on('error', retry);
    client.on('end', retry);
    client.on('notification', (message) => {
      if (message.channel !== PG_JOBS_CHANNEL || message.payload === undefined) return;
      const [jobId, status] = message.payload.split(' ');
      if (jobId === undefined || status === undefined) return;
      for (const listener of [...this.#listeners]) {
        try {
          listener({ jobId, status: status as VideoAnalysisStatus });
        } catch {
          // A listener's bug must not stop the others.
        }
      }
    });
    try {
      await client.connect();
      // The listening connection must not keep a process alive on its own.
      (client as unknown as { connection?: { stream?: { unref?: () => void } } }).connection?.stream?.unref?.();
      await client.query(`LISTEN ${PG_JOBS_CHANNEL}`);
    } catch {
      retry();
    }
  }

  #unlisten(): void {
    if (this.#listenRetry !== null) clearTimeout(this.#listenRetry);
    this.#listenRetry = null;
    const client = this.#listenClient;
    this.#listenClient = null;
    if (client !== null) {
      client.removeAllListeners();
      client.on('error', () => undefined);
      client.end().catch(() => undefined);
    }
  }

  // ---------------------------------------------------------------- CatalogStore

  async insertMedia(record: MediaRecord): Promise<void> {
    await this.#guard(async () => {
      await this.#q(
        `INSERT INTO media (media_id, file_path, source_path, file_name, copied, sha256, file_size_bytes, upload_status, video_metadata, poster_path, error_code, error_message, owner, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14, $15)`,
        [
          record.media_id, record.file_path, record.source_path, record.file_name, record.copied, record.sha256, record.file_size_bytes, record.upload_status,
          record.video_metadata === null ? null : JSON.stringify(record.video_metadata), record.poster_path, record.error_code, record.error_message, record.owner,
          record.created_at, record.updated_at,
        ],
      );
    });
  }

  async updateMedia(mediaId: string, fields: Partial<Omit<MediaRecord, 'media_id' | 'created_at'>>): Promise<void> {
    const poster = await this.#posterAsset(fields.poster_path);
    await this.#guard(async () => {
      if (poster !== null) await this.#putAssets(this.#pool, [poster]);
      await this.#updateMediaRow(this.#pool, mediaId, poster === null ? fields : { ...fields, poster_path: `sha256:${poster.sha256}` });
    });
  }

  async #posterAsset(file: string | null | undefined): Promise<{ sha256: string; bytes: Buffer } | null> {
    if (typeof file !== 'string' || ASSET_REF.test(file)) return null;
    const bytes = await readFile(file).catch(() => null);
    return bytes === null ? null : { sha256: createHash('sha256').update(bytes).digest('hex'), bytes };
  }

  async #updateMediaRow(c: Queryable, mediaId: string, fields: Partial<MediaRecord>): Promise<void> {
    const keys = Object.keys(fields).filter((k) => (MEDIA_COLUMNS as readonly string[]).includes(k) && (fields as Row)[k] !== undefined && k !== 'updated_at');
    const params: unknown[] = [mediaId];
    const sets = keys.map((key) => {
      const value = (fields as Row)[key];
      params.push(key === 'video_metadata' ? (value === null ? null : JSON.stringify(value)) : value);
      return `${key} = $${params.length}${key === 'video_metadata' ? '::jsonb' : ''}`;
    });
    if (fields.updated_at !== undefined) {
      params.push(fields.updated_at);
      sets.push(`updated_at = $${params.length}`);
    } else sets.push(`updated_at = ${NOW}`);
    await this.#q(`UPDATE media SET ${sets.join(', ')} WHERE media_id = $1`, params, c);
  }

  async settleHash(mediaId: string, sha256: string, fields: Partial<Omit<MediaRecord, 'media_id' | 'created_at' | 'sha256'>>): Promise<{ media: MediaRecord; duplicate: boolean }> {
    const poster = await this.#posterAsset(fields.poster_path);
    return this.#tx(async (c) => {
      // Serialise settlements of the same content across hosts: the unique index would otherwise make the loser fail.
      await c.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [sha256]);
      const other = (await this.#q('SELECT * FROM media WHERE sha256 = $1 AND media_id <> $2', [sha256, mediaId], c))[0];
      if (other !== undefined) {
        await this.#q('DELETE FROM media WHERE media_id = $1', [mediaId], c);
        return { media: mediaFromRow(other), duplicate: true };
      }
      if (poster !== null) await this.#putAssets(c, [poster]);
      await this.#updateMediaRow(c, mediaId, { ...fields, ...(poster !== null ? { poster_path: `sha256:${poster.sha256}` } : {}), sha256 });
      const row = (await this.#q('SELECT * FROM media WHERE media_id = $1', [mediaId], c))[0];
      if (row === undefined) throw new StoreError('NOT_FOUND', `No media ${mediaId}`, { details: { media_id: mediaId } });
      return { media: mediaFromRow(row), duplicate: false };
    });
  }

  async getMedia(mediaId: string): Promise<MediaRecord | null> {
    return this.#guard(async () => {
      const row = (await this.#q('SELECT * FROM media WHERE media_id = $1', [mediaId]))[0];
      return row === undefined ? null : mediaFromRow(row);
    });
  }

  async listMedia(options: { limit: number; offset: number }): Promise<{ items: MediaRecord[]; total: number }> {
    return this.#guard(async () => {
      const items = (await this.#q('SELECT * FROM media ORDER BY created_at DESC, seq DESC LIMIT $1 OFFSET $2', [options.limit, options.offset])).map(mediaFromRow);
      const total = Number((await this.#q('SELECT COUNT(*) AS n FROM media'))[0]!.n);
      return { items, total };
    });
  }

  async abortOrphanUploads(host: string, isAlive: (pid: number) => boolean): Promise<number> {
    return this.#tx(async (c) => {
      const rows = (await this.#q(`SELECT media_id, owner FROM media WHERE upload_status IN ('uploading','processing') AND starts_with(owner, $1) FOR UPDATE SKIP LOCKED`, [`${host}:`], c)) as Array<{ media_id: string; owner: string }>;
      let count = 0;
      for (const row of rows) {
        const pid = Number(row.owner.slice(host.length + 1));
        if (Number.isInteger(pid) && isAlive(pid)) continue;
        await this.#updateMediaRow(c, row.media_id, { upload_status: 'aborted', owner: null, error_code: 'ABORTED', error_message: 'The process registering this file stopped before it finished' });
        count++;
      }
      return count;
    });
  }

  async listScenes(mediaId: string, options: { limit: number; offset: number }): Promise<{ items: SceneRecord[]; total: number }> {
    return this.#guard(async () => {
      const latest = (await this.#q(`SELECT job_id FROM jobs WHERE media_id = $1 AND status = 'completed' ORDER BY completed_at DESC, seq DESC LIMIT 1`, [mediaId]))[0];
      if (latest === undefined) return { items: [], total: 0 };
      const items = (await this.#q('SELECT * FROM scenes WHERE job_id = $1 ORDER BY scene_index LIMIT $2 OFFSET $3', [latest.job_id, options.limit, options.offset])).map(sceneFromRow);
      const total = Number((await this.#q('SELECT COUNT(*) AS n FROM scenes WHERE job_id = $1', [latest.job_id]))[0]!.n);
      return { items, total };
    });
  }

  async getScene(sceneId: string): Promise<SceneRecord | null> {
    return this.#guard(async () => {
      const row = (await this.#q('SELECT * FROM scenes WHERE scene_id = $1', [sceneId]))[0];
      return row === undefined ? null : sceneFromRow(row);
    });
  }

  async searchScenes(query: SceneTextQuery, options: { limit: number; mediaIds?: readonly string[] }): Promise<{ hits: SceneHit[]; total: number }> {
    return this.#guard(async () => {
      const media = options.mediaIds === undefined ? null : [...options.mediaIds];
      const params = [tsQueryText(query), media];
      const from = `FROM scenes s JOIN jobs j ON j.job_id = s.job_id, to_tsquery('simple', $1) q
        WHERE s.search @@ q AND j.status = 'completed' AND ($2::text[] IS NULL OR s.media_id = ANY($2::text[]))`;
      // The snippet comes from the first field that matches, as FTS5's snippet() picks the best column.
      const headline = (column: string): string => `ts_headline('simple', s.${column}, q, 'StartSel=[, StopSel=], MaxWords=12, MinWords=4, HighlightAll=false')`;
      const rows = await this.#q(
        `SELECT s.*, ts_rank(s.search, q) AS fts_score,
           CASE WHEN to_tsvector('simple', coalesce(s.description, '')) @@ q THEN ${headline('description')}
                WHEN to_tsvector('simple', coalesce(s.tags_text, '')) @@ q THEN ${headline('tags_text')}
                ELSE ${headline('visible_text')} END AS fts_snippet
         ${from} ORDER BY fts_score DESC, s.media_id, s.scene_index LIMIT $3`,
        [...params, options.limit],
      );
      const total = Number((await this.#q(`SELECT COUNT(*) AS n ${from}`, params))[0]!.n);
      return { hits: rows.map((row) => ({ scene: sceneFromRow(row), score: Number(row.fts_score), snippet: String(row.fts_snippet ?? '') })), total };
    });
  }

  async sceneEmbeddingModels(sceneId: string): Promise<Array<{ model_id: string; dimension: number }>> {
    return this.#guard(async () => (await this.#q(
      'SELECT e.model_id, e.dimension FROM embeddings e JOIN scenes s ON s.id = e.scene_rowid WHERE s.scene_id = $1 ORDER BY e.created_at DESC, e.model_id',
      [sceneId],
    )) as Array<{ model_id: string; dimension: number }>);
  }

  async similarScenes(sceneId: string, modelId: string, options: { limit: number; mediaIds?: readonly string[] }): Promise<SimilarHit[]> {
    return this.#guard(async () => {
      const query = (await this.#q('SELECT e.vector, e.norm, e.dimension, s.id FROM embeddings e JOIN scenes s ON s.id = e.scene_rowid WHERE s.scene_id = $1 AND e.model_id = $2', [sceneId, modelId]))[0] as
        | { vector: Buffer; norm: number; dimension: number; id: number }
        | undefined;
      if (query === undefined) return [];
      const q = bytesToVector(query.vector);
      const media = options.mediaIds === undefined ? null : [...options.mediaIds];
      // Exact search, as in SQLite: one pass over the model's vectors keeping the best `limit`.
      const candidates = (await this.#q(
        `SELECT e.scene_rowid AS id, e.vector, e.norm FROM embeddings e JOIN scenes s ON s.id = e.scene_rowid JOIN jobs j ON j.job_id = s.job_id
         WHERE e.model_id = $1 AND e.dimension = $2 AND j.status = 'completed' AND s.id <> $3 AND ($4::text[] IS NULL OR s.media_id = ANY($4::text[]))`,
        [modelId, query.dimension, query.id, media],
      )) as Array<{ id: number; vector: Buffer; norm: number }>;
      const best: Array<{ id: number; score: number }> = [];
      for (const candidate of candidates) {
        const v = bytesToVector(candidate.vector);
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
      const hits: SimilarHit[] = [];
      for (const hit of best) hits.push({ scene: sceneFromRow((await this.#q('SELECT * FROM scenes WHERE id = $1', [hit.id]))[0]!), score: hit.score });
      return hits;
    });
  }

  async putEmbedding(sceneId: string, embedding: EmbeddingInput): Promise<void> {
    await this.#tx(async (c) => {
      const row = (await this.#q('SELECT id FROM scenes WHERE scene_id = $1', [sceneId], c))[0];
      if (row === undefined) throw new StoreError('NOT_FOUND', `No scene ${sceneId}`, { details: { scene_id: sceneId } });
      await this.#putEmbeddingRow(c, row.id as number, embedding);
      await this.#q(`UPDATE scenes SET embedding_status = 'completed' WHERE id = $1`, [row.id], c);
    });
  }

  async readAsset(ref: string): Promise<Buffer | null> {
    if (!ASSET_REF.test(ref)) return null;
    return this.#guard(async () => {
      const row = (await this.#q('SELECT bytes FROM assets WHERE sha256 = $1', [ref.slice('sha256:'.length)]))[0];
      return row === undefined ? null : (row.bytes as Buffer);
    });
  }

  async integrityCheck(): Promise<string[]> {
    return this.#guard(async () => {
      const lines: string[] = [];
      const checks: Array<[string, string]> = [
        ['scenes without their job', 'SELECT COUNT(*) AS n FROM scenes s LEFT JOIN jobs j ON j.job_id = s.job_id WHERE j.job_id IS NULL'],
        ['running jobs without a claim token', `SELECT COUNT(*) AS n FROM jobs WHERE status IN ${RUNNING} AND claim_token IS NULL`],
        ['media with two active jobs', `SELECT COUNT(*) AS n FROM (SELECT media_id FROM jobs WHERE status IN ${ACTIVE} GROUP BY media_id HAVING COUNT(*) > 1) x`],
        ['thumbnails naming a missing asset', `SELECT COUNT(*) AS n FROM scenes s WHERE s.thumbnail_path LIKE 'sha256:%' AND NOT EXISTS (SELECT 1 FROM assets a WHERE 'sha256:' || a.sha256 = s.thumbnail_path)`],
      ];
      for (const [what, sql] of checks) {
        const n = Number((await this.#q(sql))[0]!.n);
        if (n > 0) lines.push(`${n} ${what}`);
      }
      return lines.length === 0 ? ['ok'] : lines;
    });
  }

  async stats(): Promise<{ media: number; jobs: number; scenes: number; embeddings: number; databaseBytes: number }> {
    return this.#guard(async () => {
      const row = (await this.#q(
        `SELECT (SELECT COUNT(*) FROM media) AS media, (SELECT COUNT(*) FROM jobs) AS jobs, (SELECT COUNT(*) FROM scenes) AS scenes,
           (SELECT COUNT(*) FROM embeddings) AS embeddings, pg_database_size(current_database()) AS bytes`,
      ))[0]!;
      return { media: Number(row.media), jobs: Number(row.jobs), scenes: Number(row.scenes), embeddings: Number(row.embeddings), databaseBytes: Number(row.bytes) };
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    this.#unlisten();
    this.#pool.end().catch(() => undefined);
  }
}
