/**
 * What the SQLite and PostgreSQL stores share: the status lists of their SQL, queue constants, the media
 * columns a caller may update, and the row mappers that do not depend on how a driver returns JSON and
 * integers (each store parses its own JSON columns and hands the parsed values in).
 */
import type { ChunkRecord, SceneIssue, SceneRecord } from './types.js';

/** SQL list of the statuses in which a worker holds a job. */
export const RUNNING_SQL = `('processing','uploading_to_vlm')`;
/** SQL list of the statuses that count as active (one per media). */
export const ACTIVE_SQL = `('pending','processing','uploading_to_vlm')`;
/** A worker whose heartbeat is older than this is not counted as live. */
export const WORKER_FRESH_MS = 15_000;
/** Completed jobs used for speed estimates. */
export const SPEED_WINDOW = 50;

/** Media columns updateMedia may write. */
export const MEDIA_COLUMNS = [
  'file_path', 'source_path', 'file_name', 'copied', 'sha256', 'file_size_bytes', 'upload_status', 'video_metadata',
  'poster_path', 'error_code', 'error_message', 'owner', 'updated_at',
] as const;

/** A progress percent as stored: finite, 0..100, two decimals. */
export function clampPercent(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.min(100, Math.max(0, Math.round(value * 100) / 100));
}

/** A chunk progress fraction as stored: finite, 0..1. */
export function clampFraction(value: number): number {
  return Math.min(1, Math.max(0, Number.isFinite(value) ? value : 0));
}

/** Columns of job_chunks that listChunks reads (not the result bytes). */
export const CHUNK_COLUMNS = 'job_id, chunk_index, spec, status, progress, worker_id, attempts, duration_ms, error_code, error_message';

/** A job_chunks row (its spec already parsed) as a ChunkRecord. */
export function chunkFromRow(row: Record<string, unknown>, spec: unknown): ChunkRecord {
  return {
    job_id: row.job_id as string,
    chunk_index: row.chunk_index as number,
    spec,
    status: row.status as ChunkRecord['status'],
    progress: row.progress as number,
    worker_id: (row.worker_id as string | null) ?? null,
    attempts: row.attempts as number,
    duration_ms: (row.duration_ms as number | null) ?? null,
    error_code: (row.error_code as string | null) ?? null,
    error_message: (row.error_message as string | null) ?? null,
  };
}

/** Decodes a JSON column: SQLite stores text, PostgreSQL's jsonb arrives parsed; null/absent gives `fallback`. */
export type JsonColumn = <T>(value: unknown, fallback: T) => T;

/** A scene row of either store as a SceneRecord; `json` decodes the store's JSON columns. */
export function sceneFromRow(row: Record<string, unknown>, json: JsonColumn): SceneRecord {
  return {
    id: row.id as number,
    scene_id: row.scene_id as string,
    media_id: row.media_id as string,
    job_id: row.job_id as string,
    scene_index: row.scene_index as number,
    start_frame: (row.start_frame as number | null) ?? null,
    end_frame: (row.end_frame as number | null) ?? null,
    start_time: row.start_time as number,
    end_time: row.end_time as number,
    time_range_formatted: (row.time_range_formatted as string | null) ?? null,
    description: (row.description as string | null) ?? null,
    tags: json<string[]>(row.tags, []),
    visible_text: (row.visible_text as string | null) ?? null,
    confidence_score: (row.confidence_score as number | null) ?? null,
    embedding_status: row.embedding_status as string,
    thumbnail_path: (row.thumbnail_path as string | null) ?? null,
    errors: json<SceneIssue[]>(row.errors, []),
    text_lines: json<SceneRecord['text_lines']>(row.text_lines, null),
    tag_scores: json<SceneRecord['tag_scores']>(row.tag_scores, []),
    created_at: row.created_at as number,
  };
}
