/**
 * Scene list exports: JSON (versioned, the VideoScene fields), CSV (RFC 4180), CMX 3600 EDL (one cut per
 * scene, non-drop-frame timecode at the rounded frame rate) and WebVTT (one cue per scene, its description).
 */
import type { VideoMetadata, VideoScene } from '../types.js';

/** Everything an export needs. */
export interface ExportInput {
  video_id: string;
  file_name: string;
  file_path: string;
  video_metadata: VideoMetadata | null;
  analysis_job_id: string | null;
  /**
   * The scenes; `errors` (what failed while enriching each), `text_lines` and `tag_scores` go into the JSON
   * export only.
   */
  scenes: ReadonlyArray<VideoScene & { errors?: ReadonlyArray<{ stage: string; code: string; message: string }>; text_lines?: unknown; tag_scores?: unknown }>;
  /** What the analysis did without (analyzeFile's `degraded`); JSON export only. */
  degraded?: readonly unknown[];
}

/** Version of the JSON export. */
export const EXPORT_SCHEMA_VERSION = 1;

/** The JSON export. */
export function exportJson(input: ExportInput): string {
  return `${JSON.stringify({ schema_version: EXPORT_SCHEMA_VERSION, ...input, total_count: input.scenes.length }, null, 2)}\n`;
}

function csvField(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The CSV export: a header and one row per scene; tags joined with "; ". */
export function exportCsv(input: ExportInput): string {
  const header = ['scene_index', 'scene_id', 'start_time', 'end_time', 'time_range_formatted', 'description', 'tags', 'visible_text', 'confidence_score', 'embedding_status', 'thumbnail_url'];
  const rows = input.scenes.map((s: VideoScene) =>
    [s.scene_index, s.scene_id, s.start_time.toFixed(3), s.end_time.toFixed(3), s.time_range_formatted, s.description, s.tags.join('; '), s.visible_text, s.confidence_score, s.embedding_status, s.thumbnail_url]
      .map(csvField)
      .join(','),
  );
  return [header.join(','), ...rows].join('\r\n') + '\r\n';
}

/** "HH:MM:SS:FF" at an integer frame rate (non-drop frame). */
export function timecode(seconds: number, fps: number): string {
  const total = Math.max(0, Math.round(seconds * fps));
  const frames = total % fps;
  const s = Math.floor(total / fps);
  const pad = (v: number): string => String(v).padStart(2, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}:${pad(frames)}`;
}

/** The CMX 3600 EDL export: one video cut event per scene, record times equal to source times. */
export function exportEdl(input: ExportInput): string {
  const fps = Math.max(1, Math.round(input.video_metadata?.frame_rate ?? 25));
  const reel = 'AX';
  const lines = [`TITLE: ${input.file_name.replace(/[\r\n]/g, ' ')}`, 'FCM: NON-DROP FRAME', ''];
  input.scenes.forEach((scene, i) => {
    const tin = timecode(scene.start_time, fps);
    const tout = timecode(scene.end_time, fps);
    lines.push(`${String(i + 1).padStart(3, '0')}  ${reel.padEnd(8)} V     C        ${tin} ${tout} ${tin} ${tout}`);
    lines.push(`* FROM CLIP NAME: ${input.file_name.replace(/[\r\n]/g, ' ')}`);
    if (scene.description !== null && scene.description !== '') lines.push(`* COMMENT: ${scene.description.replace(/[\r\n]+/g, ' ')}`);
    lines.push('');
  });
  return lines.join('\n');
}

function vttTime(seconds: number): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const pad = (v: number, n = 2): string => String(v).padStart(n, '0');
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}.${pad(ms % 1000, 3)}`;
}

/** The WebVTT export: one cue per scene ("Scene 3" and its description / visible text). */
export function exportVtt(input: ExportInput): string {
  const cues = input.scenes.map((scene) => {
    const text = [`Scene ${scene.scene_index + 1}${scene.description ? `: ${scene.description}` : ''}`];
    if (scene.visible_text) text.push(`Text: ${scene.visible_text}`);
    // "-->" and blank lines would end the cue early.
    const body = text.join('\n').replace(/-->/g, '->').replace(/\n{2,}/g, '\n');
    return `${scene.scene_id}\n${vttTime(scene.start_time)} --> ${vttTime(scene.end_time)}\n${body}\n`;
  });
  return `WEBVTT\n\n${cues.join('\n')}`;
}
