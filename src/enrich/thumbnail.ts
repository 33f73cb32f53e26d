/**
 * Scene thumbnails written with sharp from the full-resolution keyframe (already upright, square pixels): the
 * width is the option's (never larger than the frame), the height follows the aspect ratio. Files are named
 * `scene-<index>.<ext>` and written through a temporary name and a rename, so a reader never sees half a file.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { diskFullOr, writeFileAtomic } from '../util/atomic-write.js';
import { loadSharp } from './runtime.js';
import type { RgbImage } from './types.js';

/** Resolved thumbnail settings. */
export interface ThumbnailSettings {
  dir: string;
  format: 'jpeg' | 'webp';
  width: number;
  quality: number;
}

/** File name of a scene's thumbnail. */
export function thumbnailName(sceneIndex: number, format: 'jpeg' | 'webp'): string {
  return `scene-${String(sceneIndex).padStart(5, '0')}.${format === 'jpeg' ? 'jpg' : 'webp'}`;
}

/** Encode a thumbnail of `frame`. */
export async function encodeThumbnail(frame: RgbImage, settings: Pick<ThumbnailSettings, 'format' | 'width' | 'quality'>): Promise<Buffer> {
  const sharp = await loadSharp();
  const width = Math.min(settings.width, frame.width);
  const pipeline = sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } }).resize({ width, kernel: 'lanczos3' });
  return settings.format === 'webp' ? pipeline.webp({ quality: settings.quality }).toBuffer() : pipeline.jpeg({ quality: settings.quality, mozjpeg: false }).toBuffer();
}

/** Write the thumbnail of a scene; returns its path relative to `settings.dir`. */
export async function writeThumbnail(frame: RgbImage, sceneIndex: number, settings: ThumbnailSettings): Promise<string> {
  const name = thumbnailName(sceneIndex, settings.format);
  const bytes = await encodeThumbnail(frame, settings);
  const final = path.join(settings.dir, name);
  try {
    await mkdir(settings.dir, { recursive: true });
  } catch (error) {
    throw diskFullOr(error, `the thumbnail ${final}`);
  }
  // A full disk says so with its own code (the scene lists it in failures).
  await writeFileAtomic(final, bytes, `the thumbnail ${final}`);
  return name;
}
