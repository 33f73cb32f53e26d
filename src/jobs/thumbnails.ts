/**
 * Scene thumbnails and upload posters made without the enrichment models: one frame per scene (the middle of
 * the scene), decoded by the enrich module's exact-time frame decoder and encoded as JPEG by its thumbnail
 * writer (so sharp stays inside src/enrich). Used by the default pipeline's enrich step until the full
 * enricher is available, and by media.upload() for the poster.
 *
 * Scenes whose middles are close together are decoded by one ffmpeg process (it decodes the span between
 * them anyway); far-apart ones get their own process, which seeks straight to its frame.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { decodeFramesAt } from '../enrich/frames.js';
import { encodeThumbnail, writeThumbnail } from '../enrich/thumbnail.js';
import { throwIfAborted } from '../errors.js';
import type { FfmpegPathOptions } from '../media/ffmpeg.js';
import { writeFileAtomic } from '../util/atomic-write.js';

/** Default thumbnail width in pixels. */
export const THUMBNAIL_WIDTH = 320;
/** JPEG quality. */
export const THUMBNAIL_QUALITY = 82;
/** Targets closer than this (seconds) share one ffmpeg process. */
const GROUP_SPAN_SECONDS = 8;

/** A scene as far as thumbnails care. */
export interface ThumbnailScene {
  scene_index: number;
  start_time: number;
  end_time: number;
  /** The frame to show (the enricher's keyframe). Default: the middle of the scene. */
  thumbnail_time?: number;
}

/** Options of {@link writeSceneThumbnails}. */
export interface SceneThumbnailOptions extends FfmpegPathOptions {
  /** Output folder (created). */
  dir: string;
  width?: number;
  /** Seconds per frame, to place targets on real frames. Default 1/25. */
  frameDuration?: number;
  signal?: AbortSignal;
  /** Scenes done so far. */
  onProgress?: (done: number, total: number) => void;
}

/** The time of a scene's thumbnail frame: its keyframe, else its middle. */
function middle(scene: ThumbnailScene): number {
  return Math.max(0, scene.thumbnail_time ?? (scene.start_time + scene.end_time) / 2);
}

/**
 * Write `scene-<index>.jpg` for each scene into `dir` (the frame at `thumbnail_time`, else mid-scene); returns
 * the absolute path per scene_index (null for a scene whose frame could not be decoded). Files are written through a
 * temporary name, so a resumed step simply overwrites them.
 */
export async function writeSceneThumbnails(videoPath: string, scenes: readonly ThumbnailScene[], options: SceneThumbnailOptions): Promise<Map<number, string | null>> {
  const result = new Map<number, string | null>();
  if (scenes.length === 0) return result;
  await mkdir(options.dir, { recursive: true });
  const frameDuration = options.frameDuration ?? 1 / 25;
  const ordered = [...scenes].sort((a, b) => middle(a) - middle(b));
  const groups: ThumbnailScene[][] = [];
  for (const scene of ordered) {
    const last = groups[groups.length - 1];
    if (last !== undefined && middle(scene) - middle(last[0]!) <= GROUP_SPAN_SECONDS) last.push(scene);
    else groups.push([scene]);
  }
  let done = 0;
  const ffmpeg = { ...(options.ffmpegPath !== undefined ? { ffmpegPath: options.ffmpegPath } : {}) };
  for (const group of groups) {
    throwIfAborted(options.signal);
    const times = group.map(middle);
    const frames = await decodeFramesAt(videoPath, times, { ...ffmpeg, frameDuration, signal: options.signal }).catch((error: unknown) => {
      if (options.signal?.aborted === true) throw error;
      return [];
    });
    for (const scene of group) {
      const frame = frames.find((f) => Math.abs(f.time - middle(scene)) < frameDuration / 2) ?? null;
      if (frame === null) {
        result.set(scene.scene_index, null);
      } else {
        const name = await writeThumbnail(frame.image, scene.scene_index, { dir: options.dir, format: 'jpeg', width: options.width ?? THUMBNAIL_WIDTH, quality: THUMBNAIL_QUALITY });
        result.set(scene.scene_index, path.join(options.dir, name));
      }
      options.onProgress?.(++done, scenes.length);
    }
  }
  return result;
}

/**
 * Write thumbnail bytes made elsewhere (an enrich chunk on another worker) as `dir/name`, through a temporary
 * name; returns the absolute path.
 */
export async function writeThumbnailFile(dir: string, name: string, bytes: Buffer): Promise<string> {
  const file = path.join(dir, name);
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(file, bytes, `the thumbnail ${file}`);
  return file;
}

/**
 * Write a poster JPEG for a video (a frame at 10 % of its length, at most 10 s in) to `file`. Returns false
 * when no frame could be decoded.
 */
export async function writePoster(videoPath: string, durationSeconds: number | null, file: string, options: FfmpegPathOptions & { width?: number; frameRate?: number | null; signal?: AbortSignal } = {}): Promise<boolean> {
  const at = durationSeconds !== null && durationSeconds > 0 ? Math.min(10, durationSeconds * 0.1) : 0;
  const frameDuration = options.frameRate ? 1 / options.frameRate : 1 / 25;
  const ffmpeg = { ...(options.ffmpegPath !== undefined ? { ffmpegPath: options.ffmpegPath } : {}) };
  let frames = await decodeFramesAt(videoPath, [at], { ...ffmpeg, frameDuration, signal: options.signal }).catch(() => []);
  if (frames.length === 0 && at > 0) frames = await decodeFramesAt(videoPath, [0], { ...ffmpeg, frameDuration, signal: options.signal }).catch(() => []);
  const frame = frames[0];
  if (frame === undefined) return false;
  const bytes = await encodeThumbnail(frame.image, { format: 'jpeg', width: options.width ?? THUMBNAIL_WIDTH, quality: THUMBNAIL_QUALITY });
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, bytes, `the poster ${file}`);
  return true;
}
