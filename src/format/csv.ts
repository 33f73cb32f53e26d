/**
 * CSV export: one row per scene (RFC 4180: comma separated, CRLF line ends, fields quoted when needed).
 *
 * Columns: `scene` (1-based number), `start_frame`, `end_frame` (exclusive), `start_time`, `end_time` (seconds,
 * end exclusive), `start_timecode`, `end_timecode` (SMPTE at the clip's rate; the end label is the first frame
 * after the scene, as an EDL record-out), `duration_frames`, `duration_seconds`, `kind` (of the boundary that
 * opened the scene: cut, fade, dissolve, wipe; empty for the first scene), `confidence` (of that boundary).
 */
import { decimal, openingBoundaries, resolveExport } from './common.js';
import { frameToTimecode } from './timecode.js';
import type { ExportOptions, ExportableResult } from './types.js';

/** Column names of {@link toCsv}, in order. */
export const CSV_COLUMNS = [
  'scene',
  'start_frame',
  'end_frame',
  'start_time',
  'end_time',
  'start_timecode',
  'end_timecode',
  'duration_frames',
  'duration_seconds',
  'kind',
  'confidence',
] as const;

function field(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * One CSV row per scene, with a header row. Throws INVALID_OPTION on a malformed result or option.
 */
export function toCsv(result: ExportableResult, options?: ExportOptions): string {
  const { rate } = resolveExport('toCsv', result, options);
  const opened = openingBoundaries(result);
  const rows: string[] = [CSV_COLUMNS.join(',')];
  for (const scene of result.scenes) {
    const boundary = opened.get(scene.start_frame);
    rows.push(
      [
        String(scene.scene_index + 1),
        String(scene.start_frame),
        String(scene.end_frame),
        decimal(scene.start_time),
        decimal(scene.end_time),
        frameToTimecode(scene.start_frame, rate),
        frameToTimecode(scene.end_frame, rate),
        String(scene.end_frame - scene.start_frame),
        decimal(scene.end_time - scene.start_time),
        scene.scene_index === 0 || boundary === undefined ? '' : boundary.kind,
        scene.scene_index === 0 || boundary === undefined ? '' : decimal(boundary.confidence, 4),
      ]
        .map(field)
        .join(','),
    );
  }
  return rows.join('\r\n') + '\r\n';
}
