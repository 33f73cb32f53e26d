/**
 * The per-frame features that the native addon and its TypeScript twin compute, one pass over each frame.
 * Frames are packed RGB24 at the analysis size. Differences are against the previous frame of the stream
 * (zero for the first frame).
 */

/** Number of luma histogram bins. */
export const HIST_BINS = 64;
/** Colour layout grid: GRID_W x GRID_H cells, 3 channels (Y, Cb, Cr means, 0..255). */
export const GRID_W = 16;
export const GRID_H = 9;
/** Values per frame in the grid signature. */
export const GRID_SIZE = GRID_W * GRID_H * 3;

/** Scalar features of one frame, in this order in {@link FeatureBatch.scalars}. */
export const SCALAR_NAMES = [
  /** Mean absolute hue difference to the previous frame (OpenCV scale: hue 0..179, circular). */
  'delta_hue',
  /** Mean absolute saturation difference (0..255). */
  'delta_sat',
  /** Mean absolute value (brightness) difference (0..255). */
  'delta_lum',
  /** Fraction of pixels whose dilated edge mask differs from the previous frame's, times 255 (0..255). */
  'delta_edges',
  /** Mean luma 0..255 (BT.601 integer weights). */
  'mean_luma',
  /** Standard deviation of luma. */
  'std_luma',
  /** Mean of the R, G, B channels (PySceneDetect's threshold detector measure). */
  'mean_rgb',
  /** Fraction of pixels that are edges (0..1). */
  'edge_density',
  /** Mean absolute Laplacian of luma: a sharpness measure for keyframe choice. */
  'sharpness',
] as const;

/** Name of one scalar feature. */
export type ScalarName = (typeof SCALAR_NAMES)[number];
/** Number of scalars per frame. */
export const SCALAR_COUNT = SCALAR_NAMES.length;

/** Features of a run of consecutive frames, in flat typed arrays (cheap to transfer between threads). */
export interface FeatureBatch {
  /** Number of frames. */
  count: number;
  /** count x SCALAR_COUNT, frame-major. */
  scalars: Float64Array;
  /** count x HIST_BINS luma histogram counts. */
  hist: Uint32Array;
  /** count x 2: 64-bit DCT perceptual hash as (high, low) 32-bit words. */
  hash: Uint32Array;
  /** count x GRID_SIZE colour layout (Y, Cb, Cr cell means). */
  grid: Uint8Array;
}

/** Features of one frame (a view over a batch, convenient for tests and detectors). */
export interface FrameFeatures {
  index: number;
  /** Presentation time in seconds, first frame at 0. */
  time: number;
  scalars: Readonly<Record<ScalarName, number>>;
  hist: Uint32Array;
  hash: readonly [number, number];
  grid: Uint8Array;
}
