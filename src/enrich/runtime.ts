/**
 * Lazy loaders for the heavy native dependencies (sharp, onnxruntime-node, tesseract.js), so that importing
 * scenescope costs nothing until a scene is enriched, plus the small image operations every step shares.
 */
import { ModelError } from '../errors.js';
import type { RgbImage } from './types.js';

type SharpModule = typeof import('sharp');
type OrtModule = typeof import('onnxruntime-node');
type TesseractModule = typeof import('tesseract.js');

let sharpPromise: Promise<SharpModule> | undefined;
let ortPromise: Promise<OrtModule> | undefined;
let tesseractPromise: Promise<TesseractModule> | undefined;

/** The fix for a missing onnxruntime-node: an optional peer dependency, so a project that wants models adds it. */
export const ORT_INSTALL_HINT = 'onnxruntime-node is an optional peer dependency of scenescope: npm install onnxruntime-node (offline on Linux x64, add "allowScripts": {"onnxruntime-node": false} to package.json or set ONNXRUNTIME_NODE_INSTALL=skip, so its postinstall does not fetch CUDA libraries)';

function wrap<T>(name: string, load: () => Promise<T>, hint = "reinstall scenescope's dependencies (npm install)"): Promise<T> {
  return load().catch((error: unknown) => {
    throw new ModelError('MODEL_UNAVAILABLE', `Cannot load ${name}: ${(error as Error).message}; ${hint}`, { cause: error });
  });
}

/** The sharp function (loaded once). */
export function loadSharp(): Promise<SharpModule> {
  sharpPromise ??= wrap('sharp', async () => {
    const mod = (await import('sharp')) as unknown as { default?: SharpModule };
    return (mod.default ?? mod) as SharpModule;
  });
  return sharpPromise;
}

/** onnxruntime-node (loaded once). */
export function loadOrt(): Promise<OrtModule> {
  ortPromise ??= wrap('onnxruntime-node', async () => {
    const mod = (await import('onnxruntime-node')) as unknown as OrtModule & { default?: OrtModule };
    return mod.InferenceSession !== undefined ? mod : (mod.default as OrtModule);
  }, ORT_INSTALL_HINT);
  return ortPromise;
}

/** tesseract.js (loaded once). */
export function loadTesseract(): Promise<TesseractModule> {
  tesseractPromise ??= wrap('tesseract.js', async () => {
    const mod = (await import('tesseract.js')) as unknown as TesseractModule & { default?: TesseractModule };
    return mod.createWorker !== undefined ? mod : (mod.default as TesseractModule);
  });
  return tesseractPromise;
}

/** sharp instance over a raw RGB image. */
export async function sharpOf(image: RgbImage): Promise<import('sharp').Sharp> {
  const sharp = await loadSharp();
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
}

/** Resize an RGB image to exactly width x height (aspect not kept). */
export async function resizeRgb(image: RgbImage, width: number, height: number, kernel: 'linear' | 'cubic' | 'nearest' = 'linear'): Promise<RgbImage> {
  if (image.width === width && image.height === height) return image;
  const s = await sharpOf(image);
  const { data, info } = await s.resize(width, height, { fit: 'fill', kernel }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 };
}

/**
 * Planar float32 tensor data [3, h, w] from an RGB image: `(value * scale - mean[c]) / std[c]`, channels in RGB
 * order or swapped to BGR.
 */
export function toPlanar(image: RgbImage, options: { scale: number; mean: readonly number[]; std: readonly number[]; bgr?: boolean }, out?: Float32Array, outWidth?: number, outHeight?: number): Float32Array {
  const W = outWidth ?? image.width;
  const H = outHeight ?? image.height;
  const plane = W * H;
  const result = out ?? new Float32Array(plane * 3);
  const { scale, mean, std } = options;
  const order = options.bgr === true ? [2, 1, 0] : [0, 1, 2];
  for (let c = 0; c < 3; c++) {
    const src = order[c]!;
    const m = mean[c]!;
    const k = scale / std[c]!;
    const mk = m / std[c]!;
    const base = c * plane;
    for (let y = 0; y < image.height && y < H; y++) {
      let si = y * image.width * 3 + src;
      let di = base + y * W;
      for (let x = 0; x < image.width && x < W; x++, si += 3, di++) result[di] = image.data[si]! * k - mk;
    }
  }
  return result;
}

/** Crop a region out of an RGB image (clamped to the image). */
export function cropRgb(image: RgbImage, left: number, top: number, width: number, height: number): RgbImage {
  const x0 = Math.max(0, Math.min(image.width - 1, Math.round(left)));
  const y0 = Math.max(0, Math.min(image.height - 1, Math.round(top)));
  const w = Math.max(1, Math.min(image.width - x0, Math.round(width)));
  const h = Math.max(1, Math.min(image.height - y0, Math.round(height)));
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const src = ((y0 + y) * image.width + x0) * 3;
    data.set(image.data.subarray(src, src + w * 3), y * w * 3);
  }
  return { data, width: w, height: h, channels: 3 };
}
