/**
 * Versioned schema migrations of the library database.
 *
 * The schema version lives in `PRAGMA user_version`; every migration also leaves a row in `schema_migrations`
 * (version, name, time) so that a database tells its own history. Migrations run on open, in order, each in
 * its own `BEGIN IMMEDIATE` transaction, so two processes opening the same new file at once apply each one
 * exactly once (the loser of the lock re-reads the version and skips). Migrations are append-only: a shipped
 * migration is never edited, a later one changes what it did.
 *
 * Times are INTEGER milliseconds since the Unix epoch (comparisons and leases are arithmetic); the API layer
 * turns them into ISO 8601 strings. JSON columns hold TEXT produced by JSON.stringify.
 */

/** One schema migration. */
export interface Migration {
  /** 1, 2, 3... with no gap. */
  readonly version: number;
  /** Short description, stored in schema_migrations. */
  readonly name: string;
  /** SQL run as one script inside the migration's transaction. */
  readonly sql: string;
}

/** Every migration, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'media, jobs, job steps, scenes, embeddings, scene full-text index, workers',
    sql: `
CREATE TABLE schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  applied_at INTEGER NOT NULL
);

-- One row per registered file: the hosted API's file record with its VideoMetadata and upload status.
CREATE TABLE media (
  media_id        TEXT PRIMARY KEY,
  file_path       TEXT NOT NULL,            -- the file analysed: the original, or the library's copy
  source_path     TEXT NOT NULL,            -- the path given to upload()
  file_name       TEXT NOT NULL,
  copied          INTEGER NOT NULL DEFAULT 0,
  sha256          TEXT,                     -- NULL while hashing
  file_size_bytes INTEGER,
  upload_status   TEXT NOT NULL CHECK (upload_status IN ('uploading','processing','completed','failed','aborted')),
  video_metadata  TEXT,                     -- JSON VideoMetadata
  poster_path     TEXT,
  error_code      TEXT,
  error_message   TEXT,
  owner           TEXT,                     -- "host:pid" of the process uploading it, NULL once settled
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX media_sha256 ON media(sha256) WHERE sha256 IS NOT NULL;
CREATE INDEX media_created ON media(created_at);

-- Analysis jobs. status/progress/error fields are those of VideoAnalysisJobStatus; the rest is the queue and
-- the lease. claim_token changes on every claim, so a worker that lost its lease can never write again.
CREATE TABLE jobs (
  job_id                  TEXT PRIMARY KEY,
  media_id                TEXT NOT NULL REFERENCES media(media_id) ON DELETE CASCADE,
  analysis_type           TEXT NOT NULL,
  priority                INTEGER NOT NULL DEFAULT 0,
  status                  TEXT NOT NULL CHECK (status IN ('pending','uploading_to_vlm','processing','completed','failed','cancelled')),
  progress_percent        REAL NOT NULL DEFAULT 0 CHECK (progress_percent BETWEEN 0 AND 100),
  current_step            TEXT,
  created_at              INTEGER NOT NULL,
  queued_at               INTEGER NOT NULL,  -- queue order (reset by retry)
  started_at              INTEGER,
  completed_at            INTEGER,           -- when the job reached a terminal status
  error_code              TEXT,
  error_message           TEXT,
  retry_count             INTEGER NOT NULL DEFAULT 0,
  max_retries             INTEGER NOT NULL DEFAULT 3,
  estimated_completion_at INTEGER,
  worker_id               TEXT,
  claim_token             TEXT,
  lease_expires_at        INTEGER,
  heartbeat_at            INTEGER,
  attempts                INTEGER NOT NULL DEFAULT 0,  -- claims, all retries included
  lease_losses            INTEGER NOT NULL DEFAULT 0,  -- reclaims after an expired lease, this attempt
  run_ms                  INTEGER NOT NULL DEFAULT 0,  -- time spent in finished steps
  video_seconds           REAL,                        -- duration of the media, once probed
  updated_at              INTEGER NOT NULL
);
CREATE INDEX jobs_queue ON jobs(status, priority DESC, queued_at, job_id);
CREATE INDEX jobs_media ON jobs(media_id, created_at);
CREATE INDEX jobs_done ON jobs(status, completed_at);
-- Queue idempotence enforced by the database itself: one active job per media, whatever the process.
CREATE UNIQUE INDEX jobs_one_active ON jobs(media_id) WHERE status IN ('pending','uploading_to_vlm','processing');

-- One row per pipeline step that started: its output (JSON, read back by later steps on resume) and cost.
CREATE TABLE job_steps (
  job_id       TEXT NOT NULL REFERENCES jobs(job_id) ON DELETE CASCADE,
  step         TEXT NOT NULL,
  step_index   INTEGER NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('running','done')),
  output       TEXT,
  started_at   INTEGER NOT NULL,
  completed_at INTEGER,
  duration_ms  INTEGER,
  attempts     INTEGER NOT NULL DEFAULT 1,
  worker_id    TEXT,
  PRIMARY KEY (job_id, step)
) WITHOUT ROWID;

-- Scenes belong to the job that found them; the visible scenes of a media are those of its latest completed
-- job. UNIQUE (job_id, scene_index) makes a duplicated scene impossible, whatever a resumed step does.
CREATE TABLE scenes (
  id                   INTEGER PRIMARY KEY,
  scene_id             TEXT NOT NULL UNIQUE,
  media_id             TEXT NOT NULL REFERENCES media(media_id) ON DELETE CASCADE,
  job_id               TEXT NOT NULL REFERENCES jobs(job_id) ON DELETE CASCADE,
  scene_index          INTEGER NOT NULL,
  start_frame          INTEGER,
  end_frame            INTEGER,
  start_time           REAL NOT NULL,
  end_time             REAL NOT NULL,
  time_range_formatted TEXT,
  description          TEXT,
  tags                 TEXT NOT NULL DEFAULT '[]',   -- JSON array of strings
  tags_text            TEXT,                          -- the tags joined by ", " (what the full-text index reads)
  visible_text         TEXT,
  confidence_score     REAL,
  embedding_status     TEXT NOT NULL DEFAULT 'pending',
  thumbnail_path       TEXT,
  errors               TEXT,                          -- JSON array of {stage, code, message}
  created_at           INTEGER NOT NULL,
  UNIQUE (job_id, scene_index)
);
CREATE INDEX scenes_media ON scenes(media_id, scene_index);

-- One embedding per scene and model. vector: float32 little-endian, 4 * dimension bytes.
CREATE TABLE embeddings (
  scene_rowid INTEGER NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
  model_id    TEXT NOT NULL,
  dimension   INTEGER NOT NULL CHECK (dimension > 0),
  vector      BLOB NOT NULL CHECK (length(vector) = 4 * dimension),
  norm        REAL NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (scene_rowid, model_id)
) WITHOUT ROWID;
CREATE INDEX embeddings_model ON embeddings(model_id, dimension);

-- Full-text index over the scene text, kept in step with scenes by triggers (external content table).
CREATE VIRTUAL TABLE scenes_fts USING fts5(
  description, tags_text, visible_text,
  content='scenes', content_rowid='id',
  tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER scenes_fts_insert AFTER INSERT ON scenes BEGIN
  INSERT INTO scenes_fts(rowid, description, tags_text, visible_text) VALUES (new.id, new.description, new.tags_text, new.visible_text);
END;
CREATE TRIGGER scenes_fts_delete AFTER DELETE ON scenes BEGIN
  INSERT INTO scenes_fts(scenes_fts, rowid, description, tags_text, visible_text) VALUES ('delete', old.id, old.description, old.tags_text, old.visible_text);
END;
CREATE TRIGGER scenes_fts_update AFTER UPDATE OF description, tags_text, visible_text ON scenes BEGIN
  INSERT INTO scenes_fts(scenes_fts, rowid, description, tags_text, visible_text) VALUES ('delete', old.id, old.description, old.tags_text, old.visible_text);
  INSERT INTO scenes_fts(rowid, description, tags_text, visible_text) VALUES (new.id, new.description, new.tags_text, new.visible_text);
END;

-- Live worker processes (for queue estimates and 'status'); rows of dead workers simply go stale.
CREATE TABLE workers (
  worker_id    TEXT PRIMARY KEY,
  host         TEXT NOT NULL,
  pid          INTEGER NOT NULL,
  concurrency  INTEGER NOT NULL,
  started_at   INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  stopped_at   INTEGER
);
`,
  },
  {
    version: 2,
    name: 'scene text lines and tag scores, what the analysis of a job did without',
    sql: `
ALTER TABLE scenes ADD COLUMN text_lines TEXT;   -- JSON array of {text, first_seen, last_seen, engine, confidence, persistent}, NULL: no OCR
ALTER TABLE scenes ADD COLUMN tag_scores TEXT;   -- JSON array of {tag, score, source}
ALTER TABLE jobs ADD COLUMN degraded TEXT;       -- JSON array of {model, status, feature, reason, install, optional}
`,
  },
  {
    version: 3,
    name: 'job chunks: parts of a long video any worker may decode',
    sql: `
-- A running job's chunks, each with a lease of its own, so that workers other than the job's holder decode
-- them. data: the chunk's result (raw pts and features, gzip), dropped once the step that merges them is done.
CREATE TABLE job_chunks (
  job_id           TEXT NOT NULL REFERENCES jobs(job_id) ON DELETE CASCADE,
  chunk_index      INTEGER NOT NULL,
  spec             TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('pending','running','done','failed')),
  progress         REAL NOT NULL DEFAULT 0,
  worker_id        TEXT,
  claim_token      TEXT,
  lease_expires_at INTEGER,
  attempts         INTEGER NOT NULL DEFAULT 0,
  duration_ms      INTEGER,
  error_code       TEXT,
  error_message    TEXT,
  data             BLOB,
  updated_at       INTEGER NOT NULL,
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
ALTER TABLE job_chunks ADD COLUMN input BLOB;
`,
  },
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
