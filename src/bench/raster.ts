/**
 * Raw RGB24 frame operations for the corpus generator, in plain TypeScript so that the pixels (and so the
 * ground truth) do not depend on an image library's version: affine resampling of a photo (Ken Burns, pans,
 * shake), horizontal motion blur, blends for dissolves, fades and wipes, gain and contrast, flashes, grain, and
 * alpha compositing of pre-rendered RGBA overlays (captions, objects).
 */

/** A packed RGB24 image. */
export interface Rgb {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A packed RGBA image (straight alpha). */
export interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A new black image. */
export function blank(width: number, height: number): Rgb {
  return { width, height, data: new Uint8Array(width * height * 3) };
}

/**
 * A view of the source: the output frame's centre maps to (cx, cy) in source pixels, one output pixel spans
 * `scale` source pixels, and the view is turned by `angle` radians.
 */
export interface View {
  cx: number;
  cy: number;
  scale: number;
  angle: number;
}

/**
 * Sample `src` through `view` into `out` with bilinear interpolation; coordinates outside the source are clamped
 * to its edge. Without rotation the sampling is separable and the per-column weights are computed once.
 */
export function sample(src: Rgb, view: View, out: Rgb): void {
  const { width: W, height: H, data: o } = out;
  const { width: sw, height: sh, data: s } = src;
  const maxX = sw - 1;
  const maxY = sh - 1;
  const x0 = view.cx - (W / 2) * view.scale;
  const y0 = view.cy - (H / 2) * view.scale;
  if (Math.abs(view.angle) < 1e-6) {
    const xi = new Int32Array(W);
    const xw = new Float32Array(W);
    for (let x = 0; x < W; x++) {
      const u = Math.min(Math.max(x0 + (x + 0.5) * view.scale - 0.5, 0), maxX);
      const i = Math.min(Math.floor(u), maxX - 1 < 0 ? 0 : maxX - 1);
      xi[x] = i * 3;
      xw[x] = Math.min(u - i, 1);
    }
    const step = maxX > 0 ? 3 : 0;
    for (let y = 0; y < H; y++) {
      const v = Math.min(Math.max(y0 + (y + 0.5) * view.scale - 0.5, 0), maxY);
      const j = Math.min(Math.floor(v), Math.max(maxY - 1, 0));
      const fy = Math.min(v - j, 1);
      const row0 = j * sw * 3;
      const row1 = (maxY > 0 ? j + 1 : j) * sw * 3;
      let p = y * W * 3;
      for (let x = 0; x < W; x++) {
        const a = row0 + xi[x]!;
        const b = row1 + xi[x]!;
        const fx = xw[x]!;
        for (let c = 0; c < 3; c++) {
          const top = s[a + c]! + (s[a + c + step]! - s[a + c]!) * fx;
          const bottom = s[b + c]! + (s[b + c + step]! - s[b + c]!) * fx;
          o[p++] = top + (bottom - top) * fy + 0.5;
        }
      }
    }
    return;
  }
  const cos = Math.cos(view.angle) * view.scale;
  const sin = Math.sin(view.angle) * view.scale;
  for (let y = 0; y < H; y++) {
    const dy = y + 0.5 - H / 2;
    let p = y * W * 3;
    for (let x = 0; x < W; x++) {
      const dx = x + 0.5 - W / 2;
      const u = Math.min(Math.max(view.cx + dx * cos - dy * sin - 0.5, 0), maxX);
      const v = Math.min(Math.max(view.cy + dx * sin + dy * cos - 0.5, 0), maxY);
      const i = Math.min(Math.floor(u), Math.max(maxX - 1, 0));
      const j = Math.min(Math.floor(v), Math.max(maxY - 1, 0));
      const fx = Math.min(u - i, 1);
      const fy = Math.min(v - j, 1);
      const a = (j * sw + i) * 3;
      const b = a + (maxY > 0 ? sw * 3 : 0);
      const step = maxX > 0 ? 3 : 0;
      for (let c = 0; c < 3; c++) {
        const top = s[a + c]! + (s[a + c + step]! - s[a + c]!) * fx;
        const bottom = s[b + c]! + (s[b + c + step]! - s[b + c]!) * fx;
        o[p++] = top + (bottom - top) * fy + 0.5;
      }
    }
  }
}

/** Horizontal box blur of `radius` pixels in place (the smear of a fast pan). */
export function blurHorizontal(img: Rgb, radius: number): void {
  const r = Math.round(radius);
  if (r < 1) return;
  const { width: W, height: H, data } = img;
  const row = new Uint8Array(W * 3);
  const n = 2 * r + 1;
  for (let y = 0; y < H; y++) {
    const base = y * W * 3;
    row.set(data.subarray(base, base + W * 3));
    for (let c = 0; c < 3; c++) {
      let sum = 0;
      for (let k = -r; k <= r; k++) sum += row[Math.min(Math.max(k, 0), W - 1) * 3 + c]!;
      for (let x = 0; x < W; x++) {
        data[base + x * 3 + c] = sum / n + 0.5;
        sum += row[Math.min(x + r + 1, W - 1) * 3 + c]! - row[Math.max(x - r, 0) * 3 + c]!;
      }
    }
  }
}

/** out = a * (1 - t) + b * t. */
export function mix(a: Rgb, b: Rgb, t: number, out: Rgb): void {
  const A = a.data;
  const B = b.data;
  const O = out.data;
  for (let i = 0; i < O.length; i++) O[i] = A[i]! + (B[i]! - A[i]!) * t + 0.5;
}

/** Blend towards a grey level (0 black, 255 white) by t, in place. */
export function mixToLevel(img: Rgb, level: number, t: number): void {
  const d = img.data;
  for (let i = 0; i < d.length; i++) d[i] = d[i]! + (level - d[i]!) * t + 0.5;
}

/** Wipe directions: where the new picture comes in from. */
export type WipeDirection = 'left' | 'right' | 'top' | 'bottom' | 'top-left' | 'bottom-right';

/**
 * A wipe at progress `p` (0..1): pixels whose position along the direction is below p show `b`, the rest `a`,
 * with a soft edge `feather` wide (as a fraction of the travel).
 */
export function wipe(a: Rgb, b: Rgb, p: number, direction: WipeDirection, feather: number, out: Rgb): void {
  const { width: W, height: H } = out;
  const A = a.data;
  const B = b.data;
  const O = out.data;
  const span = 1 + feather;
  const edge = p * span - feather / 2;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const fx = (x + 0.5) / W;
      const fy = (y + 0.5) / H;
      let pos: number;
      switch (direction) {
        case 'left':
          pos = fx;
          break;
        case 'right':
          pos = 1 - fx;
          break;
        case 'top':
          pos = fy;
          break;
        case 'bottom':
          pos = 1 - fy;
          break;
        case 'top-left':
          pos = (fx + fy) / 2;
          break;
        case 'bottom-right':
          pos = 1 - (fx + fy) / 2;
          break;
      }
      const t = feather <= 0 ? (pos < edge ? 1 : 0) : Math.min(Math.max((edge - pos) / feather + 0.5, 0), 1);
      const i = (y * W + x) * 3;
      for (let c = 0; c < 3; c++) O[i + c] = A[i + c]! + (B[i + c]! - A[i + c]!) * t + 0.5;
    }
  }
}

/** Multiply by `gain`, then pull towards mid-grey by `1 - contrast`, in place (dark and exposure changes). */
export function grade(img: Rgb, gain: number, contrast = 1, pivot = 128): void {
  const d = img.data;
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) lut[v] = Math.min(255, Math.max(0, (v * gain - pivot * gain) * contrast + pivot * gain + 0.5));
  for (let i = 0; i < d.length; i++) d[i] = lut[d[i]!]!;
}

/**
 * Film grain: add a pre-computed noise plane (values centred on 0) read from `offset`, in place. The plane must
 * hold at least `offset + width * height * 3` values.
 */
export function addGrain(img: Rgb, noise: Int8Array, offset: number): void {
  const d = img.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]! + noise[i + offset]!;
    d[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
}

/** Composite an RGBA overlay at (left, top) with an extra opacity, in place; parts outside are clipped. */
export function composite(img: Rgb, overlay: Rgba, left: number, top: number, opacity = 1): void {
  const { width: W, height: H, data: d } = img;
  const { width: w, height: h, data: s } = overlay;
  const x0 = Math.max(0, Math.round(left));
  const y0 = Math.max(0, Math.round(top));
  const x1 = Math.min(W, Math.round(left) + w);
  const y1 = Math.min(H, Math.round(top) + h);
  const ox = Math.round(left);
  const oy = Math.round(top);
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const si = ((y - oy) * w + (x - ox)) * 4;
      const alpha = (s[si + 3]! / 255) * opacity;
      if (alpha <= 0) continue;
      const di = (y * W + x) * 3;
      for (let c = 0; c < 3; c++) d[di + c] = d[di + c]! + (s[si + c]! - d[di + c]!) * alpha + 0.5;
    }
  }
}
