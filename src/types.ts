/**
 * The hosted API's data model ("Video Types", see docs), with field names exactly as it spells them.
 * Every VideoMetadata field is nullable, as in the hosted API.
 */

/** Status of a media upload. */
export type VideoUploadStatus = 'uploading' | 'processing' | 'completed' | 'failed' | 'aborted';

/** Status of an analysis job. */
export type VideoAnalysisStatus = 'pending' | 'uploading_to_vlm' | 'processing' | 'completed' | 'failed' | 'cancelled';

/** Technical metadata extracted by ffprobe. */
export interface VideoMetadata {
  duration_seconds: number | null;
  /** "1920x1080" (coded width x height, before rotation). */
  resolution: string | null;
  width: number | null;
  height: number | null;
  frame_rate: number | null;
  video_codec: string | null;
  /** null when the file has no audio track. */
  audio_codec: string | null;
  bitrate_kbps: number | null;
  file_size_bytes: number | null;
  /** Short container name: "mp4", "mov", "mkv", "webm", "avi"... */
  format_name: string | null;
}

/** Status of an analysis job, as returned by getStatus(), getStatusByMedia() and waitForCompletion(). */
export interface VideoAnalysisJobStatus {
  analysis_job_id: string;
  media_id: string;
  status: VideoAnalysisStatus;
  /** 0.0 - 100.0 */
  progress_percent: number;
  current_step: string | null;
  /** ISO 8601 */
  started_at: string | null;
  completed_at: string | null;
  error_message: string | null;
  error_code: string | null;
  retry_count: number;
  max_retries: number;
  estimated_completion_time: string | null;
  is_completed: boolean;
  is_failed: boolean;
  is_pending: boolean;
  is_terminal: boolean;
}

/** Result of queue(). */
export interface VideoAnalysisQueueResult {
  analysis_job_id: string;
  media_id: string;
  queue_position: number | null;
  estimated_start_time: string | null;
  message: string | null;
}

/** Result of retry(). */
export interface VideoAnalysisRetryResult {
  analysis_job_id: string;
  media_id: string;
  status: 'pending';
  retry_count: number;
  max_retries: number;
  message: string | null;
}

/** One scene. */
export interface VideoScene {
  scene_id: string;
  scene_index: number;
  start_time: number;
  end_time: number;
  /** "HH:MM:SS.mmm-HH:MM:SS.mmm" */
  time_range_formatted: string | null;
  description: string | null;
  tags: string[];
  visible_text: string | null;
  /** 0..1, see docs/confidence.md */
  confidence_score: number | null;
  embedding_status: string | null;
  thumbnail_url: string | null;
  created_at: string | null;
}

/** Container returned by videoScenes.list(). */
export interface VideoSceneList {
  items: VideoScene[];
  total_count: number;
  video_id: string | null;
}
