/**
 * The per-frame measures the enricher uses to choose keyframes (time, mean luma, luma deviation, sharpness,
 * brightness change), handed from the detect step to the enrich step through a small binary file in the job's
 * folder: 5 float32 per frame (20 bytes; 1.8 MB for an hour at 25 fps), versus ~1.2 KB per frame for the full
 * stats CSV and far too much for a database row. Written through a temporary name, so a resumed enrich step
 * finds either the whole file or none (and then enriches without frame measures).
 *
 * The job folder is not shared between hosts, so the detect step also stores the file in its output, packed
 * ({@link packFramesFile}: gzip + base64, about 1.7-2.2 MB of JSON per hour at 25 fps, measured on two real clips): an enrich step resumed on
 * another host restores it ({@link unpackFramesFile}) and chooses the same keyframes as the host that detected.
 */
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { open, readFile, rename, rm } from 'node:fs/promises';
import type { FeatureSeries } from '../detect/series.js';
import type { EnrichFrame } from '../enrich/types.js';
import { SCALAR_COUNT, SCALAR_NAMES } from '../features/types.js';
import { diskFullOr, writeFileAtomic } from '../util/atomic-write.js';

/** File name inside the job folder. */
export const FRAMES_FILE = 'frames.f32';
const FIELDS = 5;
const MAGIC = 0x53434631; // "SCF1"

/** Where the measures are read from: a series read in windows (a detect result's `readFeatures`). */
export interface FramesSource {
  count: number;
  read(start: number, end: number): FeatureSeries;
}

/** Frames read at a time while writing. */
const WRITE_WINDOW = 8192;

/**
 * Write the enrich measures of a feature series, reading it in windows (a long video's series never comes onto
 * the heap: only the 20 bytes a frame of the file being written are buffered, a window at a time).
 */
export async function writeFramesFile(file: string, series: FeatureSeries | FramesSource): Promise<void> {
  const source: FramesSource = 'read' in series ? series : { count: series.count, read: (s, e) => sliceSeries(series, s, e) };
  const index = (name: (typeof SCALAR_NAMES)[number]): number => SCALAR_NAMES.indexOf(name);
  const columns = [index('mean_luma'), index('std_luma'), index('sharpness'), index('delta_lum')];
  const temporary = `${file}.${process.pid}.tmp`;
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(temporary, 'w');
    const header = new Uint32Array([MAGIC, source.count]);
    await handle.write(new Uint8Array(header.buffer));
    for (let start = 0; start < source.count; start += WRITE_WINDOW) {
      const window = source.read(start, Math.min(source.count, start + WRITE_WINDOW));
      const data = new Float32Array(window.count * FIELDS);
      for (let i = 0; i < window.count; i++) {
        const at = i * FIELDS;
        data[at] = window.times[i]!;
        for (let c = 0; c < columns.length; c++) data[at + 1 + c] = window.scalars[i * SCALAR_COUNT + columns[c]!]!;
      }
      await handle.write(new Uint8Array(data.buffer));
    }
    await handle.close();
    handle = undefined;
    await rename(temporary, file);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await rm(temporary, { force: true }).catch(() => undefined);
    throw diskFullOr(error, file);
  }
}

function sliceSeries(series: FeatureSeries, s: number, e: number): FeatureSeries {
  return { ...series, count: e - s, times: series.times.subarray(s, e), scalars: series.scalars.subarray(s * SCALAR_COUNT, e * SCALAR_COUNT) };
}

/** Read the frames file: a function giving the frames [start, end) of a scene, or null when absent or damaged. */
export async function readFramesFile(file: string): Promise<((start: number, end: number) => EnrichFrame[]) | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    return null;
  }
  return parseFrames(bytes);
}

/** The frames file packed for a step's stored output (gzip, base64), or null when there is no valid file. */
export async function packFramesFile(file: string): Promise<string | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    return null;
  }
  if (parseFrames(bytes) === null) return null;
  return (await promisify(gzip)(bytes, { level: 6 })).toString('base64');
}

/**
 * Write a packed frames file (from {@link packFramesFile}) to `file`, through a temporary name. Returns false,
 * writing nothing, when the packed text is not a valid frames file (damaged or from another version).
 */
export async function unpackFramesFile(file: string, packed: string): Promise<boolean> {
  let bytes: Buffer;
  try {
    bytes = await promisify(gunzip)(Buffer.from(packed, 'base64'));
  } catch {
    return false;
  }
  if (parseFrames(bytes) === null) return false;
  await writeFileAtomic(file, bytes);
  return true;
}

function parseFrames(bytes: Buffer): ((start: number, end: number) => EnrichFrame[]) | null {
  if (bytes.byteLength < 8 || bytes.byteLength % 4 !== 0) return null;
  const data = new Float32Array(Uint8Array.from(bytes).buffer);
  const header = new Uint32Array(data.buffer, 0, 2);
  const count = header[1]!;
  if (header[0] !== MAGIC || data.length !== 2 + count * FIELDS) return null;
  return (start, end) => {
    const frames: EnrichFrame[] = [];
    for (let i = Math.max(0, start); i < Math.min(count, end); i++) {
      const at = 2 + i * FIELDS;
      frames.push({ time: data[at]!, mean_luma: data[at + 1]!, std_luma: data[at + 2]!, sharpness: data[at + 3]!, delta_lum: data[at + 4]! });
    }
    return frames;
  };
}
