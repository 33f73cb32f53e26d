/**
 * What detection produces. Frames are 0-based indices of decoded frames in presentation order; `end_frame` of
 * a scene is exclusive; scene k+1 starts where scene k ends.
 */

/** The kinds of boundary between scenes. */
export type BoundaryKind = 'cut' | 'fade' | 'dissolve' | 'wipe';

/** A boundary between two scenes. */
export interface Boundary {
  /** First frame of the new scene. */
  frame: number;
  /** Its presentation time in seconds. */
  time: number;
  kind: BoundaryKind;
  /** First frame of the transition (equal to `frame` for a cut). */
  start_frame: number;
  /** Last frame of the transition, inclusive (equal to `frame` for a cut). */
  end_frame: number;
  /**
   * 0..1: how far the evidence cleared the detector's threshold, mapped so that a score exactly at the
   * threshold is 0.5 and a score twice the threshold or more is ~1. See docs/confidence.md.
   */
  confidence: number;
  /** The detector that reported it. */
  detector: string;
}

/** A scene. */
export interface Scene {
  scene_index: number;
  start_frame: number;
  /** Exclusive. */
  end_frame: number;
  start_time: number;
  /** Exclusive: the start time of the next scene, or the end of the last frame. */
  end_time: number;
  /** "HH:MM:SS.mmm-HH:MM:SS.mmm" */
  time_range_formatted: string;
}
