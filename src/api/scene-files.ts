/**
 * Files made from scenes, as PySceneDetect's `split-video` and `save-images` make them: one video file per scene
 * (ffmpeg stream copy, or a re-encode for frame-exact cuts) and N still images per scene (sharp: jpeg, png or
 * webp, at a chosen size). Names follow a template such as `$VIDEO_NAME-Scene-$SCENE_NUMBER`.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Scene } from '../detect/types.js';
import { AbortError, ScenescopeError, throwIfAborted } from '../errors.js';
import { decodeFramesAt } from '../enrich/frames.js';
import { loadSharp } from '../enrich/runtime.js';
import { fileUrl, resolveFfmpegPaths, runTool, safeInputArgs, type FfmpegPathOptions } from '../media/ffmpeg.js';
import { formatTime } from '../detect/scenes.js';

/** The scene fields the file makers need (a detect or analyze scene, or one loaded from a scene list). */
export type SceneSpan = Pick<Scene, 'scene_index' | 'start_frame' | 'end_frame' | 'start_time' | 'end_time'>;

/** Progress of a file-making run. */
export interface SceneFilesProgress {
  done: number;
  total: number;
  percent: number;
  currentStep: string;
}

interface CommonOptions extends FfmpegPathOptions {
  /** Folder for the files (created). Default: the working directory. */
  outputDir?: string;
  signal?: AbortSignal;
  onProgress?: (progress: SceneFilesProgress) => void;
}

/** Options of {@link splitVideo}. */
export interface SplitOptions extends CommonOptions {
  /** File name template without extension. Default `$VIDEO_NAME-Scene-$SCENE_NUMBER`. */
  template?: string;
  /**
   * Re-encode (H.264/AAC, .mp4) so every file starts exactly at its scene's first frame. Default false: stream
   * copy, fast and lossless, but each file starts at the keyframe at or before the scene (as with PySceneDetect's
   * copy mode).
   */
  reencode?: boolean;
  /** x264 CRF when re-encoding. Default 20. */
  crf?: number;
}

/** Options of {@link saveSceneImages}. */
export interface ImagesOptions extends CommonOptions {
  /** Images per scene, spread from one frame after its start to one frame before its end. Default 3. */
  count?: number;
  /** Output width in pixels (height follows the aspect unless given). Default: the video's. */
  width?: number;
  /** Output height in pixels (width follows the aspect unless given). */
  height?: number;
  /** "jpeg" (default), "png" or "webp". */
  format?: 'jpeg' | 'png' | 'webp';
  /** jpeg/webp quality 1-100. Default 90. */
  quality?: number;
  /** File name template without extension. Default `$VIDEO_NAME-Scene-$SCENE_NUMBER-$IMAGE_NUMBER`. */
  template?: string;
}

/** Default name templates (PySceneDetect's). */
export const SPLIT_TEMPLATE = '$VIDEO_NAME-Scene-$SCENE_NUMBER';
/** Default image name template. */
export const IMAGES_TEMPLATE = '$VIDEO_NAME-Scene-$SCENE_NUMBER-$IMAGE_NUMBER';

/**
 * Fill a name template: `$VIDEO_NAME`, `$SCENE_NUMBER` (1-based, 3 digits), `$IMAGE_NUMBER` (1-based, 2 digits),
 * `$START_TIME` / `$END_TIME` (HH-MM-SS.mmm), `$START_FRAME` / `$END_FRAME`. Path separators are replaced so a
 * name stays inside the output folder.
 */
export function fillTemplate(template: string, videoPath: string, scene: SceneSpan, image?: number): string {
  const stamp = (t: number): string => formatTime(t).replace(/:/g, '-');
  const values: Record<string, string> = {
    VIDEO_NAME: path.basename(videoPath, path.extname(videoPath)),
    SCENE_NUMBER: String(scene.scene_index + 1).padStart(3, '0'),
    IMAGE_NUMBER: String((image ?? 0) + 1).padStart(2, '0'),
    START_TIME: stamp(scene.start_time),
    END_TIME: stamp(scene.end_time),
    START_FRAME: String(scene.start_frame),
    END_FRAME: String(scene.end_frame),
  };
  const name = template.replace(/\$([A-Z_]+)/g, (whole, key: string) => values[key] ?? whole);
  return name.replace(/[\\/]/g, '_');
}

function progressOf(onProgress: CommonOptions['onProgress'], done: number, total: number, what: string): void {
  onProgress?.({ done, total, percent: total === 0 ? 100 : (100 * done) / total, currentStep: `${what} (${done}/${total})` });
}

async function outputDir(options: CommonOptions): Promise<string> {
  const dir = path.resolve(options.outputDir ?? '.');
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * Write one video file per scene. Returns the files in scene order.
 * @throws ScenescopeError ENCODE_FAILED when ffmpeg fails on a scene (its last stderr line says why); AbortError.
 */
export async function splitVideo(videoPath: string, scenes: readonly SceneSpan[], options: SplitOptions = {}): Promise<string[]> {
  throwIfAborted(options.signal);
  const { ffmpeg } = resolveFfmpegPaths(options);
  const dir = await outputDir(options);
  const reencode = options.reencode === true;
  const ext = reencode ? '.mp4' : path.extname(videoPath) || '.mp4';
  const files: string[] = [];
  progressOf(options.onProgress, 0, scenes.length, 'Splitting');
  for (const scene of scenes) {
    const file = path.join(dir, fillTemplate(options.template ?? SPLIT_TEMPLATE, videoPath, scene) + ext);
    const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp${ext}`);
    const duration = Math.max(0.001, scene.end_time - scene.start_time);
    const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-ss', scene.start_time.toFixed(6), ...safeInputArgs(), '-i', fileUrl(videoPath), '-t', duration.toFixed(6), '-map', '0:v:0', '-map', '0:a?'];
    if (reencode) args.push('-c:v', 'libx264', '-preset', 'veryfast', '-crf', String(options.crf ?? 20), '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '160k');
    else args.push('-c', 'copy', '-avoid_negative_ts', 'make_zero');
    args.push(fileUrl(tmp));
    const result = await runTool(ffmpeg, args, { signal: options.signal });
    if (options.signal?.aborted === true) {
      await rm(tmp, { force: true });
      throw new AbortError(undefined, { cause: options.signal.reason });
    }
    if (result.code !== 0) {
      await rm(tmp, { force: true });
      const why = result.stderr.trim().split('\n').pop() ?? `exit code ${String(result.code)}`;
      throw new ScenescopeError('ENCODE_FAILED', `ffmpeg could not write scene ${scene.scene_index + 1} to ${file}: ${why}`, { details: { file, exitCode: result.code } });
    }
    await rename(tmp, file);
    files.push(file);
    progressOf(options.onProgress, files.length, scenes.length, 'Splitting');
  }
  return files;
}

/** The times of `count` images in a scene: one frame in from each end, evenly spread (the middle for one). */
export function imageTimes(scene: SceneSpan, count: number, frameDuration: number): number[] {
  const first = scene.start_time + frameDuration;
  const last = scene.end_time - 2 * frameDuration;
  if (count === 1 || last <= first) return Array.from({ length: count }, () => scene.start_time + Math.max(0, (scene.end_time - scene.start_time) / 2 - frameDuration / 2));
  return Array.from({ length: count }, (_, i) => first + ((last - first) * i) / (count - 1));
}

/**
 * Write `count` images per scene. Returns the files, scene by scene.
 * @throws InputError DECODE_FAILED when a frame cannot be decoded; ScenescopeError OUTPUT_FAILED; AbortError.
 */
export async function saveSceneImages(videoPath: string, scenes: readonly SceneSpan[], options: ImagesOptions & { frameRate: number }): Promise<string[][]> {
  throwIfAborted(options.signal);
  const dir = await outputDir(options);
  const sharp = await loadSharp();
  const count = options.count ?? 3;
  const format = options.format ?? 'jpeg';
  const ext = format === 'jpeg' ? '.jpg' : `.${format}`;
  const frameDuration = 1 / options.frameRate;
  const out: string[][] = [];
  progressOf(options.onProgress, 0, scenes.length, 'Saving images');
  for (const scene of scenes) {
    const times = imageTimes(scene, count, frameDuration);
    const frames = await decodeFramesAt(videoPath, times, { frameDuration, signal: options.signal, ffmpegPath: options.ffmpegPath, ffprobePath: options.ffprobePath });
    const files: string[] = [];
    for (let i = 0; i < times.length; i++) {
      // Times closer than a frame collapse into one decoded frame; reuse the nearest one.
      const frame = frames[Math.min(i, frames.length - 1)]!;
      let pipeline = sharp(frame.image.data, { raw: { width: frame.image.width, height: frame.image.height, channels: 3 } });
      if (options.width !== undefined || options.height !== undefined) pipeline = pipeline.resize({ width: options.width, height: options.height, fit: options.width !== undefined && options.height !== undefined ? 'fill' : 'inside', kernel: 'lanczos3' });
      const quality = options.quality ?? 90;
      const bytes = await (format === 'png' ? pipeline.png() : format === 'webp' ? pipeline.webp({ quality }) : pipeline.jpeg({ quality })).toBuffer();
      const file = path.join(dir, fillTemplate(options.template ?? IMAGES_TEMPLATE, videoPath, scene, i) + ext);
      try {
        await writeFile(file, bytes);
      } catch (error) {
        throw new ScenescopeError('OUTPUT_FAILED', `Cannot write ${file}: ${(error as Error).message}`, { cause: error, details: { target: file } });
      }
      files.push(file);
    }
    out.push(files);
    progressOf(options.onProgress, out.length, scenes.length, 'Saving images');
  }
  return out;
}
