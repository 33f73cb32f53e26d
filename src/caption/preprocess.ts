/**
 * Image preprocessing for Hugging Face vision encoders, driven by `preprocessor_config.json`
 * (ViTImageProcessor / ViTFeatureExtractor and the CLIP-style variants):
 *
 *   convert to RGB -> resize (`size` {height,width} exactly, or `shortest_edge` keeping aspect) -> optional centre
 *   crop (`crop_size`) -> rescale (`rescale_factor`, 1/255) -> normalise ((x - image_mean) / image_std) -> CHW f32.
 *
 * Resizing uses sharp with the kernel closest to PIL's `resample` (0 nearest, 1 lanczos, 2 bilinear, 3 bicubic);
 * libvips and PIL do not produce bit-identical pixels, so captions may differ from Python's in rare near-ties.
 * Encoded images (JPEG, PNG, WebP...) are auto-oriented from their EXIF tag first.
 */
import { ModelError } from '../errors.js';
import { invalid } from '../util/validate.js';

/** Raw interleaved RGB24 pixels. */
export interface RawRgbImage {
  data: Buffer;
  width: number;
  height: number;
}

/** The image an encoder takes: raw RGB24 pixels or an encoded file in a Buffer. */
export type CaptionImage = RawRgbImage | Buffer;

/** Preprocessing resolved from `preprocessor_config.json`. */
export interface ImagePreprocessing {
  /** Resize target: exact size, or the shorter edge (aspect kept). */
  resize: { kind: 'exact'; width: number; height: number } | { kind: 'shortest'; edge: number } | { kind: 'none' };
  crop: { width: number; height: number } | undefined;
  rescale: number;
  mean: [number, number, number];
  std: [number, number, number];
  kernel: 'nearest' | 'linear' | 'cubic' | 'lanczos3';
}

function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

function triple(value: unknown, fallback: [number, number, number]): [number, number, number] {
  if (typeof value === 'number' && Number.isFinite(value)) return [value, value, value];
  if (Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === 'number' && Number.isFinite(v))) return value as [number, number, number];
  return fallback;
}

function size(value: unknown): { width: number; height: number } | { edge: number } | undefined {
  const n = positiveInt(value);
  if (n !== undefined) return { width: n, height: n };
  if (value === null || typeof value !== 'object') return undefined;
  const o = value as Record<string, unknown>;
  const w = positiveInt(o.width);
  const h = positiveInt(o.height);
  if (w !== undefined && h !== undefined) return { width: w, height: h };
  const edge = positiveInt(o.shortest_edge);
  if (edge !== undefined) return { edge };
  return undefined;
}

/**
 * Resolve a parsed `preprocessor_config.json`. Missing fields take the ViT defaults (224x224, 1/255, mean/std 0.5).
 * @throws ModelError MODEL_UNAVAILABLE when `size` or the statistics are unusable.
 */
export function resolvePreprocessing(config: Record<string, unknown>, source = 'preprocessor_config.json'): ImagePreprocessing {
  const doResize = config.do_resize !== false;
  const target = config.size === undefined ? { width: 224, height: 224 } : size(config.size);
  if (doResize && target === undefined) throw new ModelError('MODEL_UNAVAILABLE', `${source}: unsupported "size" ${JSON.stringify(config.size)}`);
  const resize: ImagePreprocessing['resize'] = !doResize || target === undefined ? { kind: 'none' } : 'edge' in target ? { kind: 'shortest', edge: target.edge } : { kind: 'exact', ...target };
  let crop: ImagePreprocessing['crop'];
  if (config.do_center_crop === true) {
    const c = size(config.crop_size);
    if (c === undefined || 'edge' in c) throw new ModelError('MODEL_UNAVAILABLE', `${source}: unsupported "crop_size" ${JSON.stringify(config.crop_size)}`);
    crop = c;
  }
  const rescaleFactor = typeof config.rescale_factor === 'number' && Number.isFinite(config.rescale_factor) ? config.rescale_factor : 1 / 255;
  const rescale = config.do_rescale === false ? 1 : rescaleFactor;
  const doNormalize = config.do_normalize !== false;
  const mean = doNormalize ? triple(config.image_mean, [0.5, 0.5, 0.5]) : ([0, 0, 0] as [number, number, number]);
  const std = doNormalize ? triple(config.image_std, [0.5, 0.5, 0.5]) : ([1, 1, 1] as [number, number, number]);
  if (std.some((s) => s === 0)) throw new ModelError('MODEL_UNAVAILABLE', `${source}: image_std has a zero`);
  const resample = config.resample;
  const kernel = resample === 0 ? 'nearest' : resample === 1 ? 'lanczos3' : resample === 3 ? 'cubic' : 'linear';
  return { resize, crop, rescale, mean, std, kernel };
}

function isRaw(image: CaptionImage): image is RawRgbImage {
  return !Buffer.isBuffer(image);
}

/**
 * Validate the image argument at the public boundary.
 * @throws OptionError for a malformed raw image or an empty buffer.
 */
export function checkImage(image: unknown): CaptionImage {
  if (Buffer.isBuffer(image)) {
    if (image.length === 0) throw invalid('non-empty encoded image Buffer or { data, width, height } RGB24', 'image', image);
    return image;
  }
  if (image === null || typeof image !== 'object') throw invalid('encoded image Buffer or { data, width, height } RGB24', 'image', image);
  const { data, width, height } = image as Record<string, unknown>;
  if (typeof width !== 'number' || !Number.isInteger(width) || width < 1 || width > 65535) throw invalid('integer between 1 and 65535', 'image.width', width);
  if (typeof height !== 'number' || !Number.isInteger(height) || height < 1 || height > 65535) throw invalid('integer between 1 and 65535', 'image.height', height);
  if (!Buffer.isBuffer(data) || data.length !== width * height * 3) throw invalid(`Buffer of ${width * height * 3} bytes (RGB24 ${width}x${height})`, 'image.data', data);
  return { data, width, height };
}

/**
 * Turn an image into the encoder's `pixel_values`: float32 [1, 3, H, W], channel-first.
 * @throws ModelError MODEL_FAILED when sharp cannot decode the image.
 */
export async function preprocessImage(image: CaptionImage, pre: ImagePreprocessing): Promise<{ data: Float32Array; width: number; height: number }> {
  const { default: sharp } = await import('sharp');
  let pipeline;
  let width: number;
  let height: number;
  try {
    if (isRaw(image)) {
      pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
      width = image.width;
      height = image.height;
    } else {
      // Auto-orient first so the size we reason about is the displayed one.
      const oriented = await sharp(image).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      pipeline = sharp(oriented.data, { raw: { width: oriented.info.width, height: oriented.info.height, channels: oriented.info.channels as 3 } });
      width = oriented.info.width;
      height = oriented.info.height;
    }
    let outW = width;
    let outH = height;
    if (pre.resize.kind === 'exact') {
      outW = pre.resize.width;
      outH = pre.resize.height;
    } else if (pre.resize.kind === 'shortest') {
      const scale = pre.resize.edge / Math.min(width, height);
      outW = Math.max(1, Math.round(width * scale));
      outH = Math.max(1, Math.round(height * scale));
    }
    if (outW !== width || outH !== height) pipeline = pipeline.resize(outW, outH, { fit: 'fill', kernel: pre.kernel });
    if (pre.crop !== undefined) {
      const cw = Math.min(pre.crop.width, outW);
      const ch = Math.min(pre.crop.height, outH);
      pipeline = sharp(await pipeline.raw().toBuffer(), { raw: { width: outW, height: outH, channels: 3 } }).extract({
        left: Math.floor((outW - cw) / 2),
        top: Math.floor((outH - ch) / 2),
        width: cw,
        height: ch,
      });
      outW = cw;
      outH = ch;
    }
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== outW || info.height !== outH) {
      throw new Error(`unexpected ${info.width}x${info.height}x${info.channels} output`);
    }
    const plane = outW * outH;
    const out = new Float32Array(3 * plane);
    for (let c = 0; c < 3; c++) {
      const mean = pre.mean[c]!;
      const std = pre.std[c]!;
      for (let i = 0; i < plane; i++) out[c * plane + i] = (data[i * 3 + c]! * pre.rescale - mean) / std;
    }
    return { data: out, width: outW, height: outH };
  } catch (error) {
    throw new ModelError('MODEL_FAILED', `Cannot preprocess the image for captioning: ${(error as Error).message}`, { cause: error });
  }
}
