/**
 * The per-frame measures the enricher uses to choose keyframes (time, mean luma, luma deviation, sharpness,
 * brightness change), handed from the detect step to the enrich step through a small binary file in the job's
 * folder: 5 float32 per frame (20 bytes; 1.8 MB for an hour at 25 fps), versus ~1.2 KB per frame for the full
 * stats CSV and far too much for a database row. Written through a temporary name, so a resumed enrich step
 * finds either the whole file or none (and then enriches without frame measures).
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { FeatureSeries } from '../detect/series.js';
import type { EnrichFrame } from '../enrich/types.js';
import { SCALAR_COUNT, SCALAR_NAMES } from '../features/types.js';

/** File name inside the job folder. */
export const FRAMES_FILE = 'frames.f32';
const FIELDS = 5;
const MAGIC = 0x53434631; // "SCF1"

/** Write the enrich measures of a feature series. */
export async function writeFramesFile(file: string, series: FeatureSeries): Promise<void> {
  const index = (name: (typeof SCALAR_NAMES)[number]): number => SCALAR_NAMES.indexOf(name);
  const columns = [index('mean_luma'), index('std_luma'), index('sharpness'), index('delta_lum')];
  const data = new Float32Array(2 + series.count * FIELDS);
  const header = new Uint32Array(data.buffer, 0, 2);
  header[0] = MAGIC;
  header[1] = series.count;
  for (let i = 0; i < series.count; i++) {
    const at = 2 + i * FIELDS;
    data[at] = series.times[i]!;
    for (let c = 0; c < columns.length; c++) data[at + 1 + c] = series.scalars[i * SCALAR_COUNT + columns[c]!]!;
  }
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, new Uint8Array(data.buffer));
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
}

/** Read the frames file: a function giving the frames [start, end) of a scene, or null when absent or damaged. */
export async function readFramesFile(file: string): Promise<((start: number, end: number) => EnrichFrame[]) | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    return null;
  }
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
