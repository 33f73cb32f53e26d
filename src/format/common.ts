/**
 * Helpers shared by the exporters: option checks, the rate to write timecodes at, and which boundary opened
 * each scene.
 */
import path from 'node:path';
import { invalid, plainOptions, opt, bool, string } from '../util/validate.js';
import { timecodeRate, type TimecodeRate } from './timecode.js';
import type { ExportBoundary, ExportOptions, ExportableResult } from './types.js';

/** Resolved {@link ExportOptions}. */
export interface ResolvedExportOptions {
  source: string | undefined;
  title: string;
  rate: TimecodeRate;
}

/** Validate a result's shape and the options once, at the exporter's boundary. */
export function resolveExport(what: string, result: ExportableResult, options: ExportOptions | undefined): ResolvedExportOptions {
  if (result === null || typeof result !== 'object') throw invalid('detection result object', 'result', result);
  if (!Array.isArray(result.scenes)) throw invalid('array', 'result.scenes', result.scenes);
  if (!Array.isArray(result.boundaries)) throw invalid('array', 'result.boundaries', result.boundaries);
  const fps = result.frame_rate;
  if (typeof fps !== 'number' || !Number.isFinite(fps) || fps <= 0) throw invalid('positive number', 'result.frame_rate', fps);
  const o = plainOptions(`${what} options`, options, ['source', 'title', 'dropFrame']);
  const source = opt<string | undefined>(o, 'source', undefined, string);
  const fallbackTitle = source === undefined ? 'scenescope' : path.basename(source);
  const title = opt(o, 'title', fallbackTitle, string);
  const dropFrame = opt<boolean | undefined>(o, 'dropFrame', undefined, bool);
  return { source, title, rate: timecodeRate(fps, { dropFrame }) };
}

/** The boundary whose `frame` starts each scene (undefined for the first scene). */
export function openingBoundaries(result: ExportableResult): Map<number, ExportBoundary> {
  const byFrame = new Map<number, ExportBoundary>();
  for (const boundary of result.boundaries) byFrame.set(boundary.frame, boundary);
  return byFrame;
}

/** A number printed compactly and exactly enough: at most 6 decimals, no trailing zeros. */
export function decimal(value: number, digits = 6): string {
  return String(Number(value.toFixed(digits)));
}
