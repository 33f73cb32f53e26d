/**
 * OpenTimelineIO JSON export (the `.otio` file format): a Timeline.1 whose Stack.1 holds one Track.1 of kind
 * "Video" with a Clip.2 per scene. Each clip's `source_range` is a TimeRange.1 of RationalTime.1 values counted
 * in frames at the clip's real rate (30000/1001 written as 29.97002997...), so the ranges are contiguous and
 * sum to the clip's frame count. Every clip points at the same ExternalReference.1 (`file://` URL of the
 * source) whose `available_range` covers the whole file; without a source it is a MissingReference.1. The
 * boundary that opened each scene is kept in the clip's `metadata.scenescope`.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { openingBoundaries, resolveExport } from './common.js';
import type { ExportOptions, ExportableResult } from './types.js';

/** An OTIO RationalTime.1. */
export interface OtioRationalTime {
  OTIO_SCHEMA: 'RationalTime.1';
  rate: number;
  value: number;
}

/** An OTIO TimeRange.1. */
export interface OtioTimeRange {
  OTIO_SCHEMA: 'TimeRange.1';
  duration: OtioRationalTime;
  start_time: OtioRationalTime;
}

function rationalTime(value: number, rate: number): OtioRationalTime {
  return { OTIO_SCHEMA: 'RationalTime.1', rate, value };
}

function timeRange(start: number, duration: number, rate: number): OtioTimeRange {
  return { OTIO_SCHEMA: 'TimeRange.1', duration: rationalTime(duration, rate), start_time: rationalTime(start, rate) };
}

/** The timeline as a plain object (see {@link toOtio} for the text). */
export function toOtioObject(result: ExportableResult, options?: ExportOptions): Record<string, unknown> {
  const { rate: tc, title, source } = resolveExport('toOtio', result, options);
  const rate = tc.num / tc.den;
  const opened = openingBoundaries(result);
  const reference = (): Record<string, unknown> =>
    source === undefined
      ? { OTIO_SCHEMA: 'MissingReference.1', metadata: {}, name: '', available_range: timeRange(0, result.frame_count, rate), available_image_bounds: null }
      : {
          OTIO_SCHEMA: 'ExternalReference.1',
          metadata: {},
          name: path.basename(source),
          available_range: timeRange(0, result.frame_count, rate),
          available_image_bounds: null,
          target_url: pathToFileURL(path.resolve(source)).href,
        };
  const clips = result.scenes.map((scene) => {
    const boundary = opened.get(scene.start_frame);
    return {
      OTIO_SCHEMA: 'Clip.2',
      metadata: {
        scenescope: {
          scene_index: scene.scene_index,
          start_time: scene.start_time,
          end_time: scene.end_time,
          opened_by: scene.scene_index === 0 || boundary === undefined ? null : { kind: boundary.kind, confidence: boundary.confidence, start_frame: boundary.start_frame, end_frame: boundary.end_frame },
        },
      },
      name: `Scene ${scene.scene_index + 1}`,
      source_range: timeRange(scene.start_frame, scene.end_frame - scene.start_frame, rate),
      effects: [],
      markers: [],
      enabled: true,
      media_references: { DEFAULT_MEDIA: reference() },
      active_media_reference_key: 'DEFAULT_MEDIA',
    };
  });
  return {
    OTIO_SCHEMA: 'Timeline.1',
    metadata: { scenescope: { frame_rate: result.frame_rate, frame_count: result.frame_count, rate_rational: [tc.num, tc.den] } },
    name: title,
    global_start_time: null,
    tracks: {
      OTIO_SCHEMA: 'Stack.1',
      metadata: {},
      name: 'tracks',
      source_range: null,
      effects: [],
      markers: [],
      enabled: true,
      children: [
        {
          OTIO_SCHEMA: 'Track.1',
          metadata: {},
          name: 'Video 1',
          source_range: null,
          effects: [],
          markers: [],
          enabled: true,
          children: clips,
          kind: 'Video',
        },
      ],
    },
  };
}

/** The scenes as an OpenTimelineIO JSON document. Throws INVALID_OPTION on a malformed result or option. */
export function toOtio(result: ExportableResult, options?: ExportOptions): string {
  return JSON.stringify(toOtioObject(result, options), null, 2) + '\n';
}
