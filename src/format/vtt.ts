/**
 * WebVTT chapters: one cue per scene titled "Scene N", from the scene's start time to the next scene's start
 * (times from the decoded frames' presentation times, so variable frame rate clips stay right). Use it as
 * `<track kind="chapters">`.
 */
import { resolveExport } from './common.js';
import { formatClock } from './timecode.js';
import type { ExportOptions, ExportableResult } from './types.js';

/** The scenes as WebVTT chapter cues. Throws INVALID_OPTION on a malformed result or option. */
export function toVtt(result: ExportableResult, options?: ExportOptions): string {
  resolveExport('toVtt', result, options);
  const lines = ['WEBVTT', ''];
  for (const scene of result.scenes) {
    lines.push(String(scene.scene_index + 1));
    lines.push(`${formatClock(scene.start_time)} --> ${formatClock(scene.end_time)}`);
    lines.push(`Scene ${scene.scene_index + 1}`);
    lines.push('');
  }
  return lines.join('\n');
}
