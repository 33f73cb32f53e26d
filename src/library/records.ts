/**
 * Store records to the hosted API's shapes: epoch ms to ISO 8601, file paths to file: URLs, the status
 * helper booleans.
 */
import { pathToFileURL } from 'node:url';
import type { JobRecord, MediaRecord, SceneRecord } from '../store/types.js';
import type { VideoAnalysisJobStatus, VideoScene } from '../types.js';
import type { LibraryScene, MediaProcessingStatus } from './types.js';

/** ISO 8601 of epoch ms, null-safe. */
export function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

/** file: URL of a path, null-safe; a database asset reference (`sha256:<hex>`, server libraries) as it is. */
export function fileHref(file: string | null): string | null {
  if (file === null) return null;
  return /^sha256:[0-9a-f]{64}$/.test(file) ? file : pathToFileURL(file).href;
}

/** A job row as VideoAnalysisJobStatus. */
export function toJobStatus(job: JobRecord, now = Date.now()): VideoAnalysisJobStatus {
  const running = job.status === 'processing' || job.status === 'uploading_to_vlm';
  const stale = running && job.lease_expires_at !== null && job.lease_expires_at < now;
  return {
    analysis_job_id: job.job_id,
    media_id: job.media_id,
    status: job.status,
    progress_percent: Math.round(job.progress_percent * 10) / 10,
    current_step: stale ? `${job.current_step ?? 'Running'} (worker not responding; another worker will resume it)` : job.current_step,
    started_at: iso(job.started_at),
    completed_at: iso(job.completed_at),
    error_message: job.error_message,
    error_code: job.error_code,
    retry_count: job.retry_count,
    max_retries: job.max_retries,
    estimated_completion_time: running ? iso(job.estimated_completion_at) : null,
    is_completed: job.status === 'completed',
    is_failed: job.status === 'failed',
    is_pending: job.status === 'pending',
    is_terminal: job.status === 'completed' || job.status === 'failed' || job.status === 'cancelled',
  };
}

/** A scene row as VideoScene. */
export function toVideoScene(scene: SceneRecord): VideoScene {
  return {
    scene_id: scene.scene_id,
    scene_index: scene.scene_index,
    start_time: scene.start_time,
    end_time: scene.end_time,
    time_range_formatted: scene.time_range_formatted,
    description: scene.description,
    tags: scene.tags,
    visible_text: scene.visible_text,
    confidence_score: scene.confidence_score,
    embedding_status: scene.embedding_status,
    thumbnail_url: fileHref(scene.thumbnail_path),
    created_at: iso(scene.created_at),
  };
}

/**
 * A scene row as VideoScene plus what analyzeFile reports beside it: each line of on-screen text (engine,
 * confidence, first and last seen, persistent) and every tag with its score and source.
 */
export function toLibraryScene(scene: SceneRecord): LibraryScene {
  return { ...toVideoScene(scene), text_lines: scene.text_lines, tag_scores: scene.tag_scores };
}

/** A media row (and its latest job) as MediaProcessingStatus. */
export function toProcessingStatus(media: MediaRecord, job: JobRecord | null, now = Date.now()): MediaProcessingStatus {
  return {
    media_id: media.media_id,
    file_name: media.file_name,
    file_path: media.file_path,
    source_path: media.source_path,
    copied: media.copied,
    sha256: media.sha256,
    upload_status: media.upload_status,
    video_metadata: media.video_metadata,
    poster_url: fileHref(media.poster_path),
    error_code: media.error_code,
    error_message: media.error_message,
    created_at: iso(media.created_at)!,
    updated_at: iso(media.updated_at)!,
    analysis: job === null ? null : toJobStatus(job, now),
  };
}
