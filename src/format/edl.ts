/**
 * CMX 3600 EDL export: one cut event per scene, the source and record timecodes equal (the scenes laid end to
 * end are the original clip), frame-exact at the clip's real rate.
 *
 * ```
 * TITLE: clip.mp4
 * FCM: NON-DROP FRAME
 *
 * 001  AX       V     C        00:00:00:00 00:00:04:00 00:00:00:00 00:00:04:00
 * * FROM CLIP NAME: clip.mp4
 * * SCENESCOPE: scene 1
 * ```
 *
 * Out points are exclusive (the first frame after the event), as CMX 3600 defines them. The reel is "AX" (an
 * auxiliary source, the name editors use for a file). At 29.97 and 59.94 fps the list is drop-frame unless
 * `dropFrame: false`. CMX 3600 numbers events with three digits; past 999 the numbers simply grow, as most
 * tools accept. Comment lines (`*`) carry the kind and confidence of the boundary that opened each scene.
 */
import path from 'node:path';
import { decimal, openingBoundaries, resolveExport } from './common.js';
import { frameToTimecode } from './timecode.js';
import type { ExportOptions, ExportableResult } from './types.js';

/** Reel name written on every event. */
export const EDL_REEL = 'AX';

function clean(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/** The scenes as a CMX 3600 edit decision list. Throws INVALID_OPTION on a malformed result or option. */
export function toEdl(result: ExportableResult, options?: ExportOptions): string {
  const { rate, title, source } = resolveExport('toEdl', result, options);
  const opened = openingBoundaries(result);
  const lines = [`TITLE: ${clean(title)}`, `FCM: ${rate.dropFrame ? 'DROP FRAME' : 'NON-DROP FRAME'}`, ''];
  for (const scene of result.scenes) {
    const event = String(scene.scene_index + 1).padStart(3, '0');
    const tcIn = frameToTimecode(scene.start_frame, rate);
    const tcOut = frameToTimecode(scene.end_frame, rate);
    lines.push(`${event}  ${EDL_REEL.padEnd(8)} ${'V'.padEnd(5)} ${'C'.padEnd(8)} ${tcIn} ${tcOut} ${tcIn} ${tcOut}`);
    if (source !== undefined) lines.push(`* FROM CLIP NAME: ${clean(path.basename(source))}`);
    const boundary = opened.get(scene.start_frame);
    const how = scene.scene_index === 0 || boundary === undefined ? '' : ` opened by ${boundary.kind} (confidence ${decimal(boundary.confidence, 3)})`;
    lines.push(`* SCENESCOPE: scene ${scene.scene_index + 1}${how}`);
    lines.push('');
  }
  return lines.join('\n');
}
