/**
 * What the exporters read: the detection result of `scenescope detect --format json` (issue 2's JSON contract),
 * reduced to the fields they use, so that a parsed JSON document and the library's result both fit.
 */
import type { BoundaryKind } from '../detect/types.js';

/** A boundary as the exporters need it. */
export interface ExportBoundary {
  /** First frame of the new scene. */
  frame: number;
  kind: BoundaryKind;
  start_frame: number;
  /** Inclusive. */
  end_frame: number;
  confidence: number;
}

/** A scene as the exporters need it. */
export interface ExportScene {
  scene_index: number;
  start_frame: number;
  /** Exclusive. */
  end_frame: number;
  start_time: number;
  /** Exclusive. */
  end_time: number;
}

/** A detection result (the JSON contract's fields that exports use). */
export interface ExportableResult {
  video: { frame_rate?: number | null; duration_seconds?: number | null };
  /** Frames per second the frame indices refer to. */
  frame_rate: number;
  frame_count: number;
  boundaries: readonly ExportBoundary[];
  scenes: readonly ExportScene[];
}

/** Options shared by the exporters. */
export interface ExportOptions {
  /** Path of the analysed video: the EDL clip name, the OTIO media reference. Default: none. */
  source?: string | undefined;
  /** Title (EDL TITLE, OTIO timeline name). Default: the source's file name, else "scenescope". */
  title?: string | undefined;
  /** Drop-frame timecode (EDL, CSV). Default: true at 29.97 and 59.94 fps, else false. */
  dropFrame?: boolean | undefined;
}
