/**
 * Visual facts measured from pixels and detector features, with no model: brightness, dominant colours named
 * from a small palette, steady motion, and the native-free fallback embedding "scenescope-colour-layout-v1".
 *
 * Colours: every pixel of a 64 x 36 reduction of the keyframe is named from the palette by its HSV value
 * (black: V < 0.18; white: S < 0.12 and V > 0.85; grey: S < 0.12, or S < 0.2 and V < 0.5; brown: orange or red
 * hue with V < 0.6; otherwise by hue: red < 15 deg or >= 345, orange < 40, yellow < 70, green < 165, cyan < 195,
 * blue < 255, purple < 290, pink < 345). Colours covering at least 20 % of the frame are dominant (at most two,
 * the larger first).
 *
 * Brightness comes from the detector's mean_luma over the scene (0..255): dark below 60, bright above 180.
 * Motion: "steady motion" when delta_lum (mean absolute brightness change between frames) has a median of at
 * least 2.5 over the scene and stays above 1 in at least 80 % of its frames: a pan, a zoom or continuous
 * movement, as opposed to a still shot. It cannot tell camera from subject motion, and the wording says so.
 * "Still" when nothing moved: 95 % of the frame-to-frame delta_lum under {@link STILL_DELTA} (encoder noise on a
 * locked-off shot stays well under it) and none above 4 (a person entering or a light change).
 *
 * Fallback embedding (when MobileNetV2 is not installed): per sampled frame, the mean Y, Cb and Cr of an 8 x 6
 * grid (144 values, scaled to -1..1 around 128) and the edge density of a 4 x 3 grid (12 values, fraction of
 * pixels whose gradient magnitude exceeds 32, times 2 minus 1), averaged over the frames and L2-normalised:
 * 156 dimensions. It finds near-duplicate shots and similar colour layouts, not meaning.
 */
import { loadSharp } from './runtime.js';
import type { EnrichFrame, RgbImage } from './types.js';

/** Model id of the fallback embedding. */
export const COLOUR_LAYOUT_MODEL = 'scenescope-colour-layout-v1';
/** Its dimension. */
export const COLOUR_LAYOUT_DIMENSION = 8 * 6 * 3 + 4 * 3;

/** Palette names. */
export type ColourName = 'black' | 'white' | 'grey' | 'red' | 'orange' | 'yellow' | 'green' | 'cyan' | 'blue' | 'purple' | 'pink' | 'brown';

/** Name one RGB colour from the palette (see the module header). */
export function colourName(r: number, g: number, b: number): ColourName {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const v = max / 255;
  const s = max === 0 ? 0 : (max - min) / max;
  if (v < 0.18) return 'black';
  if (s < 0.12) return v > 0.85 ? 'white' : 'grey';
  if (s < 0.2 && v < 0.5) return 'grey';
  let h: number;
  const d = max - min;
  if (max === r) h = (60 * ((g - b) / d) + 360) % 360;
  else if (max === g) h = 60 * ((b - r) / d) + 120;
  else h = 60 * ((r - g) / d) + 240;
  const redOrOrange = h < 40 || h >= 345;
  if (redOrOrange && v < 0.6) return 'brown';
  if (h < 15 || h >= 345) return 'red';
  if (h < 40) return 'orange';
  if (h < 70) return 'yellow';
  if (h < 165) return 'green';
  if (h < 195) return 'cyan';
  if (h < 255) return 'blue';
  if (h < 290) return 'purple';
  return 'pink';
}

/** Colour shares of an image, largest first. */
export function colourShares(image: RgbImage): { colour: ColourName; share: number }[] {
  const counts = new Map<ColourName, number>();
  const n = image.width * image.height;
  for (let i = 0; i < n; i++) {
    const name = colourName(image.data[i * 3]!, image.data[i * 3 + 1]!, image.data[i * 3 + 2]!);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts.entries()].map(([colour, c]) => ({ colour, share: c / n })).sort((a, b) => b.share - a.share);
}

/** Dominant colours: shares >= 20 %, at most two. */
export function dominantColours(image: RgbImage): ColourName[] {
  return colourShares(image)
    .filter((c) => c.share >= 0.2)
    .slice(0, 2)
    .map((c) => c.colour);
}

/** Brightness of a scene from its frames' mean luma: "dark", "bright" or null (neither). */
export function brightness(frames: readonly EnrichFrame[], fallbackLuma?: number): 'dark' | 'bright' | null {
  const values = frames.map((f) => f.mean_luma);
  const mean = values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : fallbackLuma;
  if (mean === undefined) return null;
  if (mean < 60) return 'dark';
  if (mean > 180) return 'bright';
  return null;
}

/** True when the scene shows steady motion (see the module header). */
export function steadyMotion(frames: readonly EnrichFrame[]): boolean {
  if (frames.length < 8) return false;
  const deltas = frames.slice(1).map((f) => f.delta_lum).sort((a, b) => a - b);
  const median = deltas[deltas.length >> 1]!;
  const moving = deltas.filter((d) => d > 1).length / deltas.length;
  return median >= 2.5 && moving >= 0.8;
}

/** Frame-to-frame delta_lum under which a frame counts as unchanged (for "still"). */
export const STILL_DELTA = 0.6;

/** Motion of a scene: "steady", "still" or null (neither, or too short to tell; see the module header). */
export function motionKind(frames: readonly EnrichFrame[]): 'steady' | 'still' | null {
  if (frames.length < 8) return null;
  if (steadyMotion(frames)) return 'steady';
  const deltas = frames.slice(1).map((f) => f.delta_lum);
  const calm = deltas.filter((d) => d < STILL_DELTA).length / deltas.length;
  return calm >= 0.95 && deltas.every((d) => d <= 4) ? 'still' : null;
}

/** Mean BT.601 luma of an RGB image (0..255). */
export function meanLuma(image: RgbImage): number {
  let sum = 0;
  const n = image.width * image.height;
  for (let i = 0; i < n; i++) sum += 0.299 * image.data[i * 3]! + 0.587 * image.data[i * 3 + 1]! + 0.114 * image.data[i * 3 + 2]!;
  return n === 0 ? 0 : sum / n;
}

/** A 64 x 36 (or aspect-matching) reduction of a frame, for colour facts. */
export async function smallFrame(frame: RgbImage, width = 64, height = 36): Promise<RgbImage> {
  const sharp = await loadSharp();
  const { data, info } = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 };
}

/** The colour-layout descriptor of one small frame (not normalised). */
export function colourLayout(small: RgbImage): Float32Array {
  const out = new Float32Array(COLOUR_LAYOUT_DIMENSION);
  const GW = 8;
  const GH = 6;
  const sums = new Float64Array(GW * GH * 3);
  const counts = new Uint32Array(GW * GH);
  const { width, height, data } = small;
  const luma = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const r = data[i * 3]!;
      const g = data[i * 3 + 1]!;
      const b = data[i * 3 + 2]!;
      const Y = 0.299 * r + 0.587 * g + 0.114 * b;
      luma[i] = Y;
      const cell = Math.min(GH - 1, Math.floor((y * GH) / height)) * GW + Math.min(GW - 1, Math.floor((x * GW) / width));
      sums[cell * 3] = sums[cell * 3]! + Y;
      sums[cell * 3 + 1] = sums[cell * 3 + 1]! + 128 - 0.168736 * r - 0.331264 * g + 0.5 * b;
      sums[cell * 3 + 2] = sums[cell * 3 + 2]! + 128 + 0.5 * r - 0.418688 * g - 0.081312 * b;
      counts[cell] = counts[cell]! + 1;
    }
  }
  for (let cell = 0; cell < GW * GH; cell++) {
    const c = Math.max(1, counts[cell]!);
    for (let k = 0; k < 3; k++) out[k * GW * GH + cell] = (sums[cell * 3 + k]! / c - 128) / 128;
  }
  const EW = 4;
  const EH = 3;
  const edges = new Float64Array(EW * EH);
  const totals = new Float64Array(EW * EH);
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const gx = luma[i + 1]! - luma[i - 1]!;
      const gy = luma[i + width]! - luma[i - width]!;
      const cell = Math.min(EH - 1, Math.floor((y * EH) / height)) * EW + Math.min(EW - 1, Math.floor((x * EW) / width));
      totals[cell] = totals[cell]! + 1;
      if (Math.hypot(gx, gy) > 32) edges[cell] = edges[cell]! + 1;
    }
  }
  for (let cell = 0; cell < EW * EH; cell++) out[GW * GH * 3 + cell] = (totals[cell]! > 0 ? edges[cell]! / totals[cell]! : 0) * 2 - 1;
  return out;
}
