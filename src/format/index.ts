/**
 * Export formats for a detection result: CSV, CMX 3600 EDL, OpenTimelineIO JSON and WebVTT chapters, and the
 * SMPTE timecode they share.
 */
import { toCsv } from './csv.js';
import { toEdl } from './edl.js';
import { toOtio } from './otio.js';
import { toVtt } from './vtt.js';
import type { ExportOptions, ExportableResult } from './types.js';
import { oneOf } from '../util/validate.js';

export { toCsv, CSV_COLUMNS } from './csv.js';
export { toEdl, EDL_REEL } from './edl.js';
export { toOtio, toOtioObject, type OtioRationalTime, type OtioTimeRange } from './otio.js';
export { toVtt } from './vtt.js';
export * from './timecode.js';
export type * from './types.js';

/** Names of the export formats, as `--format` takes them. */
export const EXPORT_FORMATS = ['csv', 'edl', 'otio', 'vtt'] as const;
/** One export format. */
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Usual file extension of each format. */
export const EXPORT_EXTENSIONS: Readonly<Record<ExportFormat, string>> = { csv: '.csv', edl: '.edl', otio: '.otio', vtt: '.vtt' };

/** Export a result in the named format. Throws INVALID_OPTION for an unknown format. */
export function exportResult(result: ExportableResult, format: ExportFormat, options?: ExportOptions): string {
  switch (oneOf('format', format, EXPORT_FORMATS)) {
    case 'csv':
      return toCsv(result, options);
    case 'edl':
      return toEdl(result, options);
    case 'otio':
      return toOtio(result, options);
    case 'vtt':
      return toVtt(result, options);
  }
}
