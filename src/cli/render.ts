/** Text renderings of a detection result for `scenescope detect --format`. */
import type { DetectResult } from '../api/detect.js';
import { toCsv, toEdl, toOtio, toVtt, type ExportableResult, type ExportOptions } from '../format/index.js';

/** Formats `detect` can print. */
export const DETECT_FORMATS = ['json', 'csv', 'edl', 'otio', 'vtt'] as const;
/** One of DETECT_FORMATS. */
export type DetectFormat = (typeof DETECT_FORMATS)[number];

/** Render a result in a non-JSON format. */
export function renderDetectResult(result: DetectResult, format: Exclude<DetectFormat, 'json'>): string {
  const data: ExportableResult = { video: { ...result.video }, frame_rate: result.frame_rate, frame_count: result.frame_count, boundaries: result.boundaries, scenes: result.scenes };
  const options: ExportOptions = { source: result.probe.path };
  switch (format) {
    case 'csv':
      return toCsv(data, options);
    case 'edl':
      return toEdl(data, options);
    case 'otio':
      return toOtio(data, options);
    case 'vtt':
      return toVtt(data, options);
  }
}
