/**
 * Versioned schema migrations of the PostgreSQL library store (the twin of migrations.ts for SQLite).
 *
 * Applied on open, in order, each in its own transaction that first takes a transaction-scoped advisory lock,
 * so two hosts opening a fresh database at once apply each migration exactly once (the second re-reads the
 * version after the first commits). Append-only: a shipped migration is never edited.
 *
 * Times are BIGINT epoch milliseconds like the SQLite schema, but every time that matters for the queue
 * (leases, heartbeats, queue order) is taken from the server's clock (`scenescope_now_ms()`), never from the
 * host that sends the statement: hosts' clocks disagree, the database's is one.
 * Scene text is indexed with a generated `tsvector` (the 'simple' configuration: lower-casing, no stemming, the
 * same matching as SQLite's unicode61 tokenizer; tags weighted above description and visible text).
 * Job changes are announced on the `scenescope_jobs` channel ("<job_id> <status>") by a trigger, so waits and
 * workers in other processes and hosts hear of them without polling.
 */
import type { Migration } from './migrations.js';

/** The advisory lock key that serialises migrations ("scnscope" as 8 ASCII bytes would overflow; any constant). */
export const PG_MIGRATION_LOCK = 7_360_213_101;

/** The notification channel of job changes. */
export const PG_JOBS_CHANNEL = 'scenescope_jobs';

/** Every PostgreSQL migration, oldest first. */
export const PG_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'media, jobs, job steps, scenes with tsvector, embeddings, assets, workers, job notifications',
    sql: `
CREATE FUNCTION scenescope_now_ms() RETURNS bigint LANGUAGE sql STABLE AS
  $$ SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;

CREATE TABLE media (
  media_id        text PRIMARY KEY,
  file_path       text NOT NULL,
  source_path     text NOT NULL,
  file_name       text NOT NULL,
  copied          boolean NOT NULL DEFAULT false,
  sha256          text,
  file_size_bytes bigint,
  upload_status   text NOT NULL CHECK (upload_status IN ('uploading','processing','completed','failed','aborted')),
  video_metadata  jsonb,
  poster_path     text,
  error_code      text,
  error_message   text,
  owner           text,
  created_at      bigint NOT NULL,
  updated_at      bigint NOT NULL,
  seq             bigint GENERATED ALWAYS AS IDENTITY
);
CREATE UNIQUE INDEX media_sha256 ON media(sha256) WHERE sha256 IS NOT NULL;
CREATE INDEX media_created ON media(created_at, seq);

CREATE TABLE jobs (
  job_id                  text PRIMARY KEY,
  media_id                text NOT NULL REFERENCES media(media_id) ON DELETE CASCADE,
  analysis_type           text NOT NULL,
  priority                integer NOT NULL DEFAULT 0,
  status                  text NOT NULL CHECK (status IN ('pending','uploading_to_vlm','processing','completed','failed','cancelled')),
  progress_percent        double precision NOT NULL DEFAULT 0 CHECK (progress_percent BETWEEN 0 AND 100),
  current_step            text,
  created_at              bigint NOT NULL,
  queued_at               bigint NOT NULL,
  started_at              bigint,
  completed_at            bigint,
  error_code              text,
  error_message           text,
  retry_count             integer NOT NULL DEFAULT 0,
  max_retries             integer NOT NULL DEFAULT 3,
  estimated_completion_at bigint,
  worker_id               text,
  claim_token             text,
  lease_expires_at        bigint,
  heartbeat_at            bigint,
  attempts                integer NOT NULL DEFAULT 0,
  lease_losses            integer NOT NULL DEFAULT 0,
  run_ms                  bigint NOT NULL DEFAULT 0,
  video_seconds           double precision,
  updated_at              bigint NOT NULL,
  seq                     bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX jobs_queue ON jobs(status, priority DESC, queued_at, job_id);
CREATE INDEX jobs_media ON jobs(media_id, created_at);
CREATE INDEX jobs_done ON jobs(status, completed_at);
CREATE UNIQUE INDEX jobs_one_active ON jobs(media_id) WHERE status IN ('pending','uploading_to_vlm','processing');

CREATE TABLE job_steps (
  job_id       text NOT NULL REFERENCES jobs(job_id) ON DELETE CASCADE,
  step         text NOT NULL,
  step_index   integer NOT NULL,
  status       text NOT NULL CHECK (status IN ('running','done')),
  output       jsonb,
  started_at   bigint NOT NULL,
  completed_at bigint,
  duration_ms  bigint,
  attempts     integer NOT NULL DEFAULT 1,
  worker_id    text,
  PRIMARY KEY (job_id, step)
);

CREATE TABLE scenes (
  id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  scene_id             text NOT NULL UNIQUE,
  media_id             text NOT NULL REFERENCES media(media_id) ON DELETE CASCADE,
  job_id               text NOT NULL REFERENCES jobs(job_id) ON DELETE CASCADE,
  scene_index          integer NOT NULL,
  start_frame          integer,
  end_frame            integer,
  start_time           double precision NOT NULL,
  end_time             double precision NOT NULL,
  time_range_formatted text,
  description          text,
  tags                 jsonb NOT NULL DEFAULT '[]',
  tags_text            text,
  visible_text         text,
  confidence_score     double precision,
  embedding_status     text NOT NULL DEFAULT 'pending',
  thumbnail_path       text,
  errors               jsonb,
  created_at           bigint NOT NULL,
  search               tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', coalesce(tags_text, '')), 'A') ||
    setweight(to_tsvector('simple', coalesce(description, '')), 'B') ||
    setweight(to_tsvector('simple', coalesce(visible_text, '')), 'B')
  ) STORED,
  UNIQUE (job_id, scene_index)
);
CREATE INDEX scenes_media ON scenes(media_id, scene_index);
CREATE INDEX scenes_search ON scenes USING gin (search);

-- One embedding per scene and model: float32 little-endian, 4 * dimension bytes, with its norm.
CREATE TABLE embeddings (
  scene_rowid bigint NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
  model_id    text NOT NULL,
  dimension   integer NOT NULL CHECK (dimension > 0),
  vector      bytea NOT NULL CHECK (octet_length(vector) = 4 * dimension),
  norm        double precision NOT NULL,
  created_at  bigint NOT NULL,
  PRIMARY KEY (scene_rowid, model_id)
);
CREATE INDEX embeddings_model ON embeddings(model_id, dimension);

-- Thumbnails and posters, content-addressed, so that every host reads what any host wrote.
CREATE TABLE assets (
  sha256     text PRIMARY KEY,
  media_type text NOT NULL,
  bytes      bytea NOT NULL,
  created_at bigint NOT NULL
);

CREATE TABLE workers (
  worker_id    text PRIMARY KEY,
  host         text NOT NULL,
  pid          integer NOT NULL,
  concurrency  integer NOT NULL,
  started_at   bigint NOT NULL,
  heartbeat_at bigint NOT NULL,
  stopped_at   bigint
);

CREATE FUNCTION scenescope_notify_job() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('${PG_JOBS_CHANNEL}', NEW.job_id || ' ' || NEW.status);
  RETURN NULL;
END $$;
CREATE TRIGGER jobs_notify AFTER INSERT OR UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION scenescope_notify_job();
`,
  },
  {
    version: 2,
    name: 'scene text lines and tag scores, what the analysis of a job did without',
    sql: `
ALTER TABLE scenes ADD COLUMN text_lines jsonb;
ALTER TABLE scenes ADD COLUMN tag_scores jsonb;
ALTER TABLE jobs ADD COLUMN degraded jsonb;
`,
  },
  {
    version: 3,
    name: 'job chunks: parts of a long video any worker may decode',
    sql: `
CREATE TABLE job_chunks (
  job_id           text NOT NULL REFERENCES jobs(job_id) ON DELETE CASCADE,
  chunk_index      integer NOT NULL,
  spec             jsonb NOT NULL,
  status           text NOT NULL CHECK (status IN ('pending','running','done','failed')),
  progress         double precision NOT NULL DEFAULT 0,
  worker_id        text,
  claim_token      text,
  lease_expires_at bigint,
  attempts         integer NOT NULL DEFAULT 0,
  duration_ms      bigint,
  error_code       text,
  error_message    text,
  data             bytea,
  updated_at       bigint NOT NULL,
  PRIMARY KEY (job_id, chunk_index)
);
CREATE INDEX job_chunks_claim ON job_chunks(status, lease_expires_at);
`,
  },
  {
    version: 4,
    name: 'chunk inputs: what a chunk needs from its holder, readable on any host',
    sql: `
-- Bytes the holder hands to whoever claims the chunk (an enrich chunk's per-frame measures, which live in the
-- holder's job folder, on its disk only). Kept apart from spec so that listing a job's chunks stays small.
ALTER TABLE job_chunks ADD COLUMN input bytea;
`,
  },
];

/** The PostgreSQL schema version this build writes. */
export const PG_SCHEMA_VERSION = PG_MIGRATIONS[PG_MIGRATIONS.length - 1]!.version;
