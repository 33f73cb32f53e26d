/**
 * probe(path): the hosted API's VideoMetadata from ffprobe, plus the stream facts the decoder needs. Every
 * kind of bad input ends here as an InputError with a stable code, before any decoding starts.
 */
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { InputError, throwIfAborted } from '../errors.js';
import type { VideoMetadata } from '../types.js';
import { fileUrl, resolveFfmpegPaths, runTool, safeInputArgs, type FfmpegPathOptions } from './ffmpeg.js';

/** Facts about the video stream that VideoMetadata does not carry. */
export interface StreamInfo {
  /** Index of the video stream ffmpeg will decode. */
  index: number;
  /** Clockwise display rotation in degrees: 0, 90, 180 or 270. */
  rotation: 0 | 90 | 180 | 270;
  /** Sample (pixel) aspect ratio as a number; 1 for square pixels. */
  sample_aspect_ratio: number;
  /** Width and height as shown: rotation and pixel aspect applied. */
  display_width: number;
  display_height: number;
  /** Container start time of the stream in seconds (frame times are reported relative to the first frame). */
  start_time: number;
  /** True when the stream's real frame rate differs from its average: timestamps are not evenly spaced. */
  variable_frame_rate: boolean;
  /** Average frame rate, unrounded (VideoMetadata.frame_rate is rounded to 3 decimals). */
  frame_rate: number;
  /** Stream time base, e.g. [1, 30000]. */
  time_base: [number, number];
  /** Frame count from the container when it states one. */
  nb_frames: number | null;
  /** Pixel format, e.g. yuv420p. */
  pix_fmt: string | null;
  /** ffprobe's raw container name list, e.g. "mov,mp4,m4a,3gp,3g2,mj2". */
  raw_format_name: string;
  /** The video stream's own stated duration in seconds (stream header, or Matroska's DURATION tag), or null. */
  duration: number | null;
  /** The container's duration in seconds (all streams), or null. */
  container_duration: number | null;
  /** The container's start time in seconds (the earliest stream start), or null. */
  container_start_time: number | null;
  /**
   * False when the container itself shows it was cut short (an Ogg file whose last page is not an end-of-stream
   * page, or ends mid-page); null when the format has no such marker.
   */
  complete: boolean | null;
}

/** What probe() returns. */
export interface ProbeResult {
  /** Absolute path of the file. */
  path: string;
  metadata: VideoMetadata;
  stream: StreamInfo;
}

/** Options for probe(). */
export interface ProbeOptions extends FfmpegPathOptions {
  signal?: AbortSignal | undefined;
  /** Kill ffprobe after this long. Default 30 000 ms. */
  timeoutMs?: number | undefined;
}

/** Largest width or height accepted (16K). */
export const MAX_DIMENSION = 16384;

const REFERENCE_FORMATS = new Set(['hls', 'applehttp', 'concat', 'dash', 'webm_dash_manifest', 'sdp', 'rtsp', 'rtp', 'mpegdash', 'ffmetadata']);
const IMAGE_FORMATS = /^(image2|image2pipe|.*_pipe|apng|gif)$/;
const IMAGE_EXTENSIONS = /\.(png|jpe?g|jp2|j2k|bmp|tiff?|webp|gif|tga|dpx|exr|ppm|pgm|pbm|pam|pcx|sgi|sun|ras|xbm|xwd|xpm|pix|im1|im8|im24)$/i;
const IMAGE_CODECS = new Set(['mjpeg', 'png', 'bmp', 'gif', 'webp', 'tiff', 'jpeg2000', 'jpegls', 'ppm', 'pgm', 'pam', 'apng']);

function parseRatio(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const [a, b] = value.split(/[/:]/).map(Number);
  if (a === undefined || !Number.isFinite(a)) return null;
  if (b === undefined) return a;
  if (!Number.isFinite(b) || b === 0 || a === 0) return null;
  return a / b;
}

function num(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : null;
}

/** The short container name a person expects ("mp4" rather than "mov,mp4,m4a,3gp,3g2,mj2"). */
export function shortFormatName(raw: string, filePath: string, majorBrand: string | undefined): string {
  const ext = path.extname(filePath).slice(1).toLowerCase();
  const names = raw.split(',');
  if (names.includes('mp4') || names.includes('mov')) {
    if (['mp4', 'mov', '3gp', '3g2', 'mj2', 'm4a'].includes(ext)) return ext;
    if (ext === 'm4v') return 'mp4';
    return (majorBrand ?? '').trim() === 'qt' ? 'mov' : 'mp4';
  }
  if (names.includes('matroska') || names.includes('webm')) return ext === 'webm' ? 'webm' : 'mkv';
  return names[0] ?? raw;
}

/** Seconds from a Matroska DURATION tag ("00:00:10.000000000"), or null. */
function tagDuration(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const m = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(value.trim());
  if (m === null) return null;
  const seconds = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  return Number.isFinite(seconds) ? seconds : null;
}

/**
 * Whether an Ogg file ends properly: its last page is complete and carries the end-of-stream flag. A file cut
 * anywhere (`head -c`) fails one of the two. Reads the last 64 KiB.
 */
async function oggComplete(filePath: string, size: number): Promise<boolean> {
  const handle = await open(filePath, 'r');
  try {
    const length = Math.min(size, 65_536);
    const tail = Buffer.alloc(length);
    await handle.read(tail, 0, length, size - length);
    const at = tail.lastIndexOf('OggS');
    if (at < 0 || at + 27 > tail.length) return false;
    const segments = tail[at + 26]!;
    if (at + 27 + segments > tail.length) return false;
    let body = 0;
    for (let i = 0; i < segments; i++) body += tail[at + 27 + i]!;
    const complete = at + 27 + segments + body <= tail.length;
    return complete && (tail[at + 5]! & 0x04) !== 0;
  } finally {
    await handle.close();
  }
}

function normaliseRotation(degrees: number): 0 | 90 | 180 | 270 {
  const r = ((Math.round(degrees / 90) * 90) % 360 + 360) % 360;
  return r as 0 | 90 | 180 | 270;
}

/** Containers recognisable by their first bytes: a file that starts like one and still fails to open is damaged. */
const CONTAINER_MAGIC: [number, Buffer][] = [
  [4, Buffer.from('ftyp')],
  [4, Buffer.from('moov')],
  [4, Buffer.from('mdat')],
  [4, Buffer.from('free')],
  [4, Buffer.from('wide')],
  [0, Buffer.from([0x1a, 0x45, 0xdf, 0xa3])],
  [0, Buffer.from('RIFF')],
  [0, Buffer.from('FLV')],
  [0, Buffer.from('OggS')],
  [0, Buffer.from([0x00, 0x00, 0x01, 0xba])],
];

/** Text formats that make ffmpeg open other files or URLs, at the start of a file (after a BOM and white space). */
const REFERENCE_MAGIC = /^(\uFEFF)?\s*(#EXTM3U|ffconcat version|<\?xml[\s\S]*<MPD|<MPD|v=0\s|RTSP\/|#EXTINF|\[playlist\])/i;
/**
 * Markers of the same formats anywhere in a text file: ffmpeg's DASH probe looks for `<MPD` anywhere in its
 * probe buffer, so a comment or any text before it does not make a manifest harmless.
 */
const REFERENCE_ANYWHERE = /#EXTM3U|#EXT-X-|#EXTINF|ffconcat version|<MPD[\s>]|urn:mpeg:dash|<SmoothStreamingMedia|^v=0\s*$[\s\S]*^m=|^(file|ffconcat)\s+'/im;
/** How much of a file the reference check reads (after any ID3v2 tags). */
const SNIFF_BYTES = 65_536;

/** Length of the ID3v2 tag at the start of `head` (header, body, footer), or 0 when there is none. */
function id3v2Length(head: Buffer): number {
  if (head.length < 10 || head.toString('latin1', 0, 3) !== 'ID3' || head[3]! === 0xff || head[4]! === 0xff) return 0;
  const sizeBytes = [head[6]!, head[7]!, head[8]!, head[9]!];
  if (sizeBytes.some((b) => b >= 0x80)) return 0;
  const body = (sizeBytes[0]! << 21) | (sizeBytes[1]! << 14) | (sizeBytes[2]! << 7) | sizeBytes[3]!;
  return 10 + body + ((head[5]! & 0x10) !== 0 ? 10 : 0);
}

/** The first bytes of a file, and the first bytes after its ID3v2 tags (ffmpeg probes past them). */
async function sniff(filePath: string, bytes = 512): Promise<{ head: Buffer; content: Buffer }> {
  const handle = await open(filePath, 'r');
  try {
    const read = async (at: number): Promise<Buffer> => {
      const buffer = Buffer.alloc(bytes);
      const { bytesRead } = await handle.read(buffer, 0, bytes, at);
      return buffer.subarray(0, bytesRead);
    };
    const head = await read(0);
    let content = head;
    let offset = 0;
    for (let tags = 0; tags < 16; tags++) {
      const length = id3v2Length(content);
      if (length === 0) break;
      offset += length;
      content = await read(offset);
    }
    return { head, content };
  } finally {
    await handle.close();
  }
}

/** True when the bytes read like text (no NUL, almost all printable): a playlist, not a binary container. */
function textLike(bytes: Buffer): boolean {
  if (bytes.length === 0 || bytes.includes(0)) return false;
  let printable = 0;
  for (const b of bytes) if (b >= 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) printable++;
  return printable >= 0.95 * bytes.length;
}

/** True when a file's bytes are a playlist or reference list, the way ffmpeg's probing would see them. */
function isReference(head: Buffer, content: Buffer): boolean {
  for (const bytes of [head, content]) {
    const text = bytes.toString('latin1');
    if (REFERENCE_MAGIC.test(text)) return true;
    if (textLike(bytes) && REFERENCE_ANYWHERE.test(text)) return true;
  }
  return false;
}

async function checkFile(filePath: string): Promise<number> {
  let info;
  try {
    info = await stat(filePath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new InputError('FILE_NOT_FOUND', `File not found: ${filePath}`, { cause: error, details: { path: filePath } });
    throw new InputError('FILE_UNREADABLE', `Cannot read ${filePath}: ${(error as Error).message}`, { cause: error, details: { path: filePath } });
  }
  if (info.isDirectory()) throw new InputError('NOT_A_FILE', `${filePath} is a directory, not a video file`, { details: { path: filePath } });
  if (!info.isFile()) throw new InputError('NOT_A_FILE', `${filePath} is not a regular file`, { details: { path: filePath } });
  if (info.size === 0) throw new InputError('EMPTY_FILE', `${filePath} is empty (0 bytes)`, { details: { path: filePath } });
  let sniffed: { head: Buffer; content: Buffer };
  try {
    sniffed = await sniff(filePath, SNIFF_BYTES);
  } catch (error) {
    throw new InputError('FILE_UNREADABLE', `Cannot read ${filePath}: ${(error as Error).message}`, { cause: error, details: { path: filePath } });
  }
  if (isReference(sniffed.head, sniffed.content)) {
    throw new InputError('EXTERNAL_REFERENCE', `${path.basename(filePath)} is a playlist or reference list; scenescope reads only self-contained media files`, { details: { path: filePath } });
  }
  return info.size;
}

function looksLikeContainer(head: Buffer): boolean {
  return CONTAINER_MAGIC.some(([at, magic]) => head.subarray(at, at + magic.length).equals(magic));
}

interface FfprobeJson {
  streams?: Record<string, unknown>[];
  format?: Record<string, unknown>;
}

/**
 * Probe a video file with ffprobe.
 * @throws InputError with code FILE_NOT_FOUND, NOT_A_FILE, EMPTY_FILE, FILE_UNREADABLE, UNSUPPORTED_FORMAT,
 *   EXTERNAL_REFERENCE, STILL_IMAGE, NO_VIDEO_STREAM or ABSURD_DIMENSIONS; DecodeError FFMPEG_NOT_FOUND;
 *   AbortError.
 */
export async function probe(filePath: string, options: ProbeOptions = {}): Promise<ProbeResult> {
  const absolute = path.resolve(filePath);
  throwIfAborted(options.signal);
  const size = await checkFile(absolute);
  const { ffprobe } = resolveFfmpegPaths(options);
  const args = ['-v', 'error', ...safeInputArgs(ffprobe), '-print_format', 'json', '-show_format', '-show_streams', fileUrl(absolute)];
  const result = await runTool(ffprobe, args, { signal: options.signal, timeoutMs: options.timeoutMs ?? 30_000 });
  throwIfAborted(options.signal);
  const stderr = result.stderr.trim();
  if (/Format not on whitelist/i.test(stderr)) {
    if (IMAGE_EXTENSIONS.test(absolute)) {
      // ffmpeg's image2 demuxer claims image names (and expands %d patterns into sibling files); it is denied.
      throw new InputError('STILL_IMAGE', `${path.basename(absolute)} is a still image (or an image-sequence name), not a video`, { details: { path: absolute } });
    }
    throw new InputError('EXTERNAL_REFERENCE', `${path.basename(absolute)} is a playlist, reference list or image sequence; scenescope reads only self-contained media files`, { details: { path: absolute, stderr } });
  }
  if (/not on whitelist|Protocol not found|Unsupported protocol/i.test(stderr)) {
    throw new InputError('EXTERNAL_REFERENCE', `${path.basename(absolute)} refers to other files or network resources, which scenescope does not follow`, { details: { path: absolute, stderr } });
  }
  let json: FfprobeJson = {};
  try {
    json = JSON.parse(result.stdout.toString('utf8') || '{}') as FfprobeJson;
  } catch {
    json = {};
  }
  const format = json.format;
  if (result.code !== 0 || format === undefined) {
    if (result.code === null && !options.signal?.aborted) {
      throw new InputError('UNSUPPORTED_FORMAT', `ffprobe did not finish reading ${path.basename(absolute)} in time`, { details: { path: absolute } });
    }
    const line = stderr.split('\n').pop() ?? '';
    const size = /Picture size (\d+x\d+) is invalid/.exec(stderr);
    if (size !== null) {
      throw new InputError('ABSURD_DIMENSIONS', `${path.basename(absolute)} has unsupported dimensions ${size[1]} (accepted: 2 to ${MAX_DIMENSION} pixels a side)`, { details: { path: absolute, stderr } });
    }
    if (/Operation not permitted|Unsafe file name/i.test(stderr)) {
      throw new InputError('EXTERNAL_REFERENCE', `${path.basename(absolute)} refers to other files, which scenescope does not follow`, { details: { path: absolute, stderr } });
    }
    if (looksLikeContainer((await sniff(absolute)).head) || /partial file/i.test(stderr)) {
      throw new InputError('DECODE_FAILED', `${path.basename(absolute)} is truncated or corrupt: ffprobe cannot read its index${line ? ` (${line.replace(/^.*?: /, '')})` : ''}`, { details: { path: absolute, stderr } });
    }
    throw new InputError('UNSUPPORTED_FORMAT', `${path.basename(absolute)} is not a video file ffmpeg can read${line ? ` (${line.replace(/^.*?: /, '')})` : ''}`, { details: { path: absolute, stderr } });
  }
  const rawFormat = String(format['format_name'] ?? '');
  if (rawFormat.split(',').some((name) => REFERENCE_FORMATS.has(name))) {
    throw new InputError('EXTERNAL_REFERENCE', `${path.basename(absolute)} is a ${rawFormat} playlist or reference file; scenescope reads only self-contained media files`, { details: { path: absolute, format: rawFormat } });
  }
  const streams = json.streams ?? [];
  const video = streams.find((s) => s['codec_type'] === 'video' && (s['disposition'] as Record<string, unknown> | undefined)?.['attached_pic'] !== 1);
  const audio = streams.find((s) => s['codec_type'] === 'audio');
  const duration = num(format['duration']) ?? num(video?.['duration']);
  if (video === undefined) {
    if (streams.some((s) => s['codec_type'] === 'video')) {
      throw new InputError('NO_VIDEO_STREAM', `${path.basename(absolute)} has only cover art, no video stream`, { details: { path: absolute } });
    }
    throw new InputError('NO_VIDEO_STREAM', `${path.basename(absolute)} has no video stream${audio ? ' (audio only)' : ''}`, { details: { path: absolute } });
  }
  const codec = String(video['codec_name'] ?? '');
  const nbFrames = num(video['nb_frames']);
  const imageContainer = rawFormat !== 'gif' && IMAGE_FORMATS.test(rawFormat);
  const singleImage = rawFormat !== 'gif' && IMAGE_CODECS.has(codec) && (nbFrames === 1 || duration === null || duration <= 0);
  if (imageContainer || singleImage) {
    throw new InputError('STILL_IMAGE', `${path.basename(absolute)} is a still image (${codec}), not a video`, { details: { path: absolute, codec } });
  }
  const width = num(video['width']);
  const height = num(video['height']);
  if (width === null || height === null || width < 2 || height < 2 || width > MAX_DIMENSION || height > MAX_DIMENSION) {
    throw new InputError('ABSURD_DIMENSIONS', `${path.basename(absolute)} has unsupported dimensions ${width ?? '?'}x${height ?? '?'} (accepted: 2 to ${MAX_DIMENSION} pixels a side)`, { details: { path: absolute, width, height } });
  }
  const rFrameRate = parseRatio(video['r_frame_rate']);
  const avgFrameRate = parseRatio(video['avg_frame_rate']);
  const frameRate = avgFrameRate ?? rFrameRate;
  if (frameRate !== null && (frameRate <= 0 || frameRate > 1000)) {
    throw new InputError('ABSURD_DIMENSIONS', `${path.basename(absolute)} has an unsupported frame rate of ${frameRate} fps`, { details: { path: absolute, frameRate } });
  }
  let rotation = 0;
  const tags = (video['tags'] ?? {}) as Record<string, unknown>;
  const sideData = (video['side_data_list'] ?? []) as Record<string, unknown>[];
  const matrix = sideData.find((d) => d['rotation'] !== undefined);
  if (matrix !== undefined) rotation = -Number(matrix['rotation']);
  else if (tags['rotate'] !== undefined) rotation = Number(tags['rotate']);
  const rot = normaliseRotation(Number.isFinite(rotation) ? rotation : 0);
  const sar = parseRatio(video['sample_aspect_ratio']) ?? 1;
  const sarValue = sar > 0 && sar < 100 ? sar : 1;
  const shownWidth = Math.max(2, Math.round(width * sarValue));
  const [displayWidth, displayHeight] = rot === 90 || rot === 270 ? [height, shownWidth] : [shownWidth, height];
  const bitRate = num(format['bit_rate']) ?? num(video['bit_rate']);
  const formatTags = (format['tags'] ?? {}) as Record<string, unknown>;
  const metadata: VideoMetadata = {
    duration_seconds: duration,
    resolution: `${width}x${height}`,
    width,
    height,
    frame_rate: frameRate === null ? null : Math.round(frameRate * 1000) / 1000,
    video_codec: codec || null,
    audio_codec: audio === undefined ? null : String(audio['codec_name'] ?? '') || null,
    bitrate_kbps: bitRate !== null ? Math.round(bitRate / 1000) : duration !== null && duration > 0 ? Math.round((size * 8) / duration / 1000) : null,
    file_size_bytes: size,
    format_name: shortFormatName(rawFormat, absolute, typeof formatTags['major_brand'] === 'string' ? formatTags['major_brand'] : undefined),
  };
  const stream: StreamInfo = {
    index: Number(video['index'] ?? 0),
    rotation: rot,
    sample_aspect_ratio: sarValue,
    display_width: displayWidth,
    display_height: displayHeight,
    start_time: num(video['start_time']) ?? num(format['start_time']) ?? 0,
    frame_rate: frameRate ?? 25,
    time_base: (String(video['time_base'] ?? '1/1').split('/').map(Number) as [number, number]),
    variable_frame_rate: rFrameRate !== null && avgFrameRate !== null && Math.abs(rFrameRate - avgFrameRate) / rFrameRate > 0.01,
    nb_frames: nbFrames,
    pix_fmt: typeof video['pix_fmt'] === 'string' ? video['pix_fmt'] : null,
    raw_format_name: rawFormat,
    duration: num(video['duration']) ?? tagDuration(tags['DURATION'] ?? tags['duration']),
    container_duration: num(format['duration']),
    container_start_time: num(format['start_time']),
    complete: rawFormat.split(',').includes('ogg') ? await oggComplete(absolute, size) : null,
  };
  return { path: absolute, metadata, stream };
}
