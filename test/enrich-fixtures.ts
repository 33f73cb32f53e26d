/**
 * Fixtures for the enrichment tests and benchmark: frames rendered from real photos (when a Debian package
 * that ships some is installed) or from busy synthetic backgrounds, with captions, lower thirds and signs drawn
 * as SVG text by sharp, and clips encoded from them with the bundled ffmpeg. Nothing is downloaded.
 *
 * Real photos: scikit-image's sample images, shipped by Debian's `python3-skimage` package
 * (/usr/lib/python3/dist-packages/skimage/data), or any folder holding the same file names named by
 * SCENESCOPE_TEST_PHOTOS. Tests that need them skip with a reason when they are absent.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { resolveFfmpegPaths, runTool } from '../src/media/ffmpeg.js';
import type { EnrichFrame } from '../src/enrich/types.js';
import { seededRandom } from './helpers/onnx-writer.js';

/** Folders searched for the sample photos. */
export const PHOTO_DIRS = [process.env.SCENESCOPE_TEST_PHOTOS, '/usr/lib/python3/dist-packages/skimage/data', '/usr/share/scenescope-test-photos'].filter(
  (d): d is string => d !== undefined && d !== '',
);

/** Path of a sample photo ("chelsea.png", "coffee.png", "astronaut.png", "motorcycle_left.png", "rocket.jpg"), or null. */
export function findPhoto(name: string): string | null {
  for (const dir of PHOTO_DIRS) {
    const p = path.join(dir, name);
    if (existsSync(p)) return p;
  }
  return null;
}

/** Why photo tests skip, or false when the photos are there. */
export function photosSkipReason(names: readonly string[]): string | false {
  const absent = names.filter((n) => findPhoto(n) === null);
  if (absent.length === 0) return false;
  return `sample photos ${absent.join(', ')} not found in ${PHOTO_DIRS.join(', ')} (install Debian's python3-skimage or set SCENESCOPE_TEST_PHOTOS)`;
}

/** The models folder the tests use: ../shared/models beside the repository. */
export const SHARED_MODELS = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..', '..', '..', 'shared', 'models');

/** Why model tests skip, or false when ../shared/models holds the enrichment models. */
export function modelsSkipReason(): string | false {
  const need = ['mobilenetv2-int8/mobilenetv2-12-int8-with-embedding.onnx', 'yolox-nano/yolox_nano.onnx', 'ppocr-v3-det/ch_PP-OCRv3_det_infer.onnx'];
  const absent = need.filter((f) => !existsSync(path.join(SHARED_MODELS, f)));
  return absent.length === 0 ? false : `models absent from ${SHARED_MODELS}: ${absent.join(', ')}`;
}


/** A busy, photo-like synthetic background: coloured shapes and gradients from `seed`, and grain (random every call). */
export async function busyBackground(width: number, height: number, seed: number): Promise<Buffer> {
  const random = seededRandom(seed);
  const colour = (): string => `rgb(${Math.floor(random() * 256)},${Math.floor(random() * 256)},${Math.floor(random() * 256)})`;
  let shapes = '';
  for (let i = 0; i < 60; i++) {
    const x = random() * width;
    const y = random() * height;
    const r = (0.03 + random() * 0.2) * height;
    shapes += random() < 0.5 ? `<ellipse cx="${x}" cy="${y}" rx="${r * 1.6}" ry="${r}" fill="${colour()}" fill-opacity="0.7"/>` : `<rect x="${x}" y="${y}" width="${r * 2}" height="${r}" fill="${colour()}" fill-opacity="0.6" transform="rotate(${random() * 60 - 30} ${x} ${y})"/>`;
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${colour()}"/><stop offset="1" stop-color="${colour()}"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/>${shapes}</svg>`;
  const base = await sharp(Buffer.from(svg)).blur(2).png().toBuffer();
  const grain = await sharp({ create: { width, height, channels: 3, background: { r: 128, g: 128, b: 128 }, noise: { type: 'gaussian', mean: 128, sigma: 30 } } }).png().toBuffer();
  return sharp(base).composite([{ input: grain, blend: 'soft-light' }]).removeAlpha().png().toBuffer();
}

/** A real photo resized to cover width x height. */
export async function photoBackground(file: string, width: number, height: number): Promise<Buffer> {
  return sharp(file).resize(width, height, { fit: 'cover' }).removeAlpha().toColourspace('srgb').png().toBuffer();
}

/** How a line of text is drawn. */
export type CaptionStyle = 'subtitle' | 'lower-third' | 'sign';

/** A line of text to draw. */
export interface Caption {
  text: string;
  style: CaptionStyle;
}

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** SVG overlay with the captions (font size proportional to the frame height). */
export function captionOverlay(width: number, height: number, captions: readonly Caption[]): Buffer {
  const size = Math.round(height * 0.055);
  let body = '';
  let subtitleRow = 0;
  let lowerRow = 0;
  let signRow = 0;
  for (const c of captions) {
    const text = escapeXml(c.text);
    const estimate = c.text.length * size * 0.58;
    if (c.style === 'subtitle') {
      const y = height - size * 1.2 - subtitleRow++ * size * 1.5;
      body += `<text x="${width / 2}" y="${y}" text-anchor="middle" font-family="DejaVu Sans" font-weight="bold" font-size="${size}" fill="white" stroke="black" stroke-width="${Math.max(1, size / 14)}" paint-order="stroke">${text}</text>`;
    } else if (c.style === 'lower-third') {
      const y = height * 0.72 + lowerRow++ * size * 1.6;
      body += `<rect x="${width * 0.05}" y="${y - size * 1.1}" width="${estimate + size}" height="${size * 1.45}" fill="rgb(20,40,90)" fill-opacity="0.85"/>`;
      body += `<text x="${width * 0.05 + size / 2}" y="${y}" font-family="DejaVu Sans" font-size="${size}" fill="white">${text}</text>`;
    } else {
      const y = height * 0.12 + signRow++ * size * 1.7;
      body += `<rect x="${width * 0.55}" y="${y - size * 1.1}" width="${estimate + size}" height="${size * 1.45}" fill="rgb(245,240,225)"/>`;
      body += `<text x="${width * 0.55 + size / 2}" y="${y}" font-family="DejaVu Sans" font-size="${size}" fill="rgb(30,30,30)">${text}</text>`;
    }
  }
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${body}</svg>`);
}

/** A frame: background with captions drawn on it, as PNG. */
export async function renderFrame(background: Buffer, width: number, height: number, captions: readonly Caption[]): Promise<Buffer> {
  const base = sharp(background).resize(width, height, { fit: 'cover' });
  if (captions.length === 0) return base.png().toBuffer();
  return base.composite([{ input: captionOverlay(width, height, captions) }]).removeAlpha().png().toBuffer();
}

/** Caption texts with known content, for CER. */
export const CAPTION_TEXTS: readonly Caption[][] = [
  [{ text: 'Storm warning issued for the coast', style: 'subtitle' }],
  [{ text: 'Maria Lopez, Chief Engineer', style: 'lower-third' }],
  [{ text: 'EXIT 24 Harbour Road', style: 'sign' }],
  [
    { text: 'Live from Berlin at 7:45 PM', style: 'lower-third' },
    { text: 'Traffic is slow on Highway 9', style: 'subtitle' },
  ],
  [{ text: 'The quick brown fox jumps over the lazy dog', style: 'subtitle' }],
  [{ text: 'Open daily 9 to 5', style: 'sign' }],
];

/** The expected visible text of a caption set, in reading order (top to bottom). */
export function expectedText(captions: readonly Caption[]): string {
  const order = (c: Caption): number => (c.style === 'sign' ? 0 : c.style === 'lower-third' ? 1 : 2);
  return [...captions]
    .sort((a, b) => order(a) - order(b))
    .map((c) => c.text)
    .join('\n');
}

/** A still shown for some seconds in a clip; with `pan`, a slow camera pan over it with `overlay` kept fixed. */
export interface Still {
  /** The picture (for `pan`, larger than the clip: it is cropped to the clip size as the camera moves). */
  png: Buffer;
  seconds: number;
  /** Transparent layer drawn over the moving picture (captions stay put while the camera pans). */
  overlay?: Buffer;
  pan?: boolean;
}

/** A transparent PNG with the captions, for {@link Still.overlay}. */
export async function captionLayer(width: number, height: number, captions: readonly Caption[]): Promise<Buffer> {
  return sharp(captionOverlay(width, height, captions)).png().toBuffer();
}

/**
 * Encode stills into an H.264 clip (yuv420p, `fps` frames a second, a keyframe every 2 s like a typical
 * camera or web encode). Panned stills are cropped to `size`, moving 40 px/s right and 20 px/s down.
 * Returns its path.
 */
export async function encodeClip(dir: string, name: string, stills: readonly Still[], fps = 25, size?: { width: number; height: number }): Promise<string> {
  await mkdir(dir, { recursive: true });
  const { ffmpeg } = resolveFfmpegPaths();
  const args = ['-hide_banner', '-loglevel', 'error', '-y'];
  const filters: string[] = [];
  let input = 0;
  for (let i = 0; i < stills.length; i++) {
    const still = stills[i]!;
    const file = path.join(dir, `${name}-still-${i}.png`);
    await writeFile(file, still.png);
    args.push('-loop', '1', '-framerate', String(fps), '-t', String(still.seconds), '-i', file);
    let chain = `[${input++}:v]`;
    if (still.pan === true && size !== undefined) chain += `crop=${size.width}:${size.height}:'min(t*40,iw-ow)':'min(t*20,ih-oh)',`;
    chain += `format=yuv420p,setsar=1[b${i}]`;
    filters.push(chain);
    if (still.overlay !== undefined) {
      const layer = path.join(dir, `${name}-layer-${i}.png`);
      await writeFile(layer, still.overlay);
      args.push('-loop', '1', '-framerate', String(fps), '-t', String(still.seconds), '-i', layer);
      filters.push(`[b${i}][${input++}:v]overlay=0:0:shortest=1,format=yuv420p[v${i}]`);
    } else filters.push(`[b${i}]null[v${i}]`);
  }
  const concat = stills.map((_, i) => `[v${i}]`).join('') + `concat=n=${stills.length}:v=1:a=0[out]`;
  const out = path.join(dir, `${name}.mp4`);
  args.push('-filter_complex', `${filters.join(';')};${concat}`, '-map', '[out]', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-g', String(fps * 2), '-pix_fmt', 'yuv420p', '-r', String(fps), out);
  const result = await runTool(ffmpeg, args, { timeoutMs: 300_000 });
  if (result.code !== 0) throw new Error(`ffmpeg failed: ${result.stderr}`);
  return out;
}

/** Per-frame features of a still shown for `seconds` from `start` (what the detector would measure on it). */
export async function stillFeatures(png: Buffer, start: number, seconds: number, fps = 25): Promise<EnrichFrame[]> {
  // Luma as the detector measures it: BT.601 weights on the RGB pixels.
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let sum = 0;
  let sumSq = 0;
  const n = info.width * info.height;
  for (let i = 0; i < n; i++) {
    const y = (77 * data[i * info.channels]! + 150 * data[i * info.channels + 1]! + 29 * data[i * info.channels + 2]!) >> 8;
    sum += y;
    sumSq += y * y;
  }
  const mean = sum / n;
  const std = Math.sqrt(Math.max(0, sumSq / n - mean * mean));
  const count = Math.round(seconds * fps);
  const startFrame = Math.round(start * fps);
  return Array.from({ length: count }, (_, i) => ({
    time: (startFrame + i) / fps,
    mean_luma: mean,
    std_luma: std,
    sharpness: 10 + (i % 7),
    delta_lum: i === 0 ? 40 : 0,
  }));
}
