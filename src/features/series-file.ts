/**
 * An off-heap feature series: the per-frame features of a whole video kept in a temporary file, one fixed-size
 * record per frame, appended in frame order and read back in windows. A 24-hour recording at 30 fps has 2.6
 * million frames; at 768 bytes a frame its features would take 2 GB of heap, so only the frame times (8 bytes
 * a frame) stay in memory and detection reads bounded windows (see detect/windowed.ts).
 *
 * The file is created exclusively with a random name in the temp folder and unlinked at once: it holds no
 * name anyone could plant a link on, nothing is left behind when the process is killed, and its space is
 * returned when the descriptor closes ({@link SeriesFile.close}, or when the object is garbage-collected).
 */
import { closeSync, constants, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FeatureSeries } from '../detect/series.js';
import { ScenescopeError } from '../errors.js';
import { GRID_SIZE, HIST_BINS, SCALAR_COUNT, type FeatureBatch } from './types.js';

const SCALAR_BYTES = SCALAR_COUNT * 8;
const HIST_BYTES = HIST_BINS * 4;
const HASH_BYTES = 8;
/** Bytes of one frame's record: scalars (float64), histogram (uint32), hash (2 x uint32), grid (uint8). */
export const SERIES_RECORD_BYTES = SCALAR_BYTES + HIST_BYTES + HASH_BYTES + GRID_SIZE;

/** Frames buffered before a write to the file. */
const WRITE_FRAMES = 256;
/** Most frames read from the file at once. */
const SLICE_FRAMES = 4096;

const closer = new FinalizationRegistry<{ fd: number | null }>((held) => {
  if (held.fd !== null) {
    try {
      closeSync(held.fd);
    } catch {
      // Already closed.
    }
  }
});

function diskError(error: unknown, what: string): ScenescopeError {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new ScenescopeError('DISK_FULL', `No space left for the feature series (${what})`, { cause: error });
  return new ScenescopeError('INTERNAL', `Feature series file failed (${what}): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

/**
 * Create a temp file exclusively (random name, no link followed, mode 0600) and unlink it at once, so it lives
 * only as long as its descriptor: a killed process leaves nothing behind.
 * @throws ScenescopeError DISK_FULL or INTERNAL when the file cannot be created.
 */
function openUnlinked(dir: string, kind: string): number {
  const file = path.join(dir, `scenescope-${kind}-${process.pid}-${randomBytes(8).toString('hex')}.bin`);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
  } catch (error) {
    throw diskError(error, 'create');
  }
  try {
    unlinkSync(file);
  } catch {
    // A platform that cannot unlink an open file keeps it until close; nothing else to do.
  }
  return fd;
}

/**
 * A feature series kept in an unlinked temporary file. Append batches (or frames) in order, then read windows.
 * Reading is synchronous: windows are small and detection, which consumes them, is synchronous and pure.
 */
export class SeriesFile {
  /** Nominal frame rate of the series. */
  readonly frameRate: number;
  readonly #held: { fd: number | null };
  #times: Float64Array = new Float64Array(1024);
  /** Frames were appended without times: they come with {@link SeriesFile.setTimes}, and none are held until then. */
  #timesLater = false;
  #count = 0;
  #flushed = 0;
  readonly #pending = new Uint8Array(WRITE_FRAMES * SERIES_RECORD_BYTES);
  #pendingFrames = 0;
  /** The buffers {@link SeriesFile.window} reuses. */
  #window: { capacity: number; scalars: Float64Array; hist: Uint32Array; hash: Uint32Array; grid: Uint8Array; buffer: Uint8Array } | undefined;

  /**
   * @param frameRate nominal frame rate, for the windows' {@link FeatureSeries.frameRate}.
   * @param dir folder of the temporary file. Default: the OS temp folder.
   * @throws ScenescopeError DISK_FULL or INTERNAL when the file cannot be created.
   */
  constructor(frameRate: number, dir: string = tmpdir()) {
    this.frameRate = frameRate;
    this.#held = { fd: openUnlinked(dir, 'series') };
    closer.register(this, this.#held, this);
  }

  /** Frames appended so far. */
  get count(): number {
    return this.#count;
  }

  /**
   * Seconds of every frame appended (a copy).
   * @throws ScenescopeError INTERNAL when frames were appended without times and {@link SeriesFile.setTimes} was not called.
   */
  times(): Float64Array {
    return this.timesView().slice();
  }

  /**
   * Seconds of every frame appended, without a copy (8 bytes a frame: 21 MB for 24 hours at 30 fps). Do not modify.
   * @throws ScenescopeError INTERNAL when frames were appended without times and {@link SeriesFile.setTimes} was not called.
   */
  timesView(): Float64Array {
    if (this.#timesLater) throw new ScenescopeError('INTERNAL', 'The frame times of the feature series were not set');
    return this.#times.subarray(0, this.#count);
  }

  /**
   * Set the times of every frame (seconds).
   * @throws ScenescopeError INTERNAL when their number is not the number of frames appended.
   */
  setTimes(times: Float64Array): void {
    if (times.length !== this.#count) throw new ScenescopeError('INTERNAL', `${times.length} frame times for ${this.#count} frames`);
    this.#times = times;
    this.#timesLater = false;
  }

  /** Time of frame i in seconds. */
  time(i: number): number {
    return this.timesView()[i]!;
  }

  /**
   * Append one batch of features with the times of its frames (seconds). Without times (the decoder reports
   * them only once it ends), set them all with {@link SeriesFile.setTimes} before reading; none are held until then.
   */
  appendBatch(batch: FeatureBatch, times?: ArrayLike<number>): void {
    for (let i = 0; i < batch.count; i++) {
      this.#append(
        times === undefined ? undefined : (times[i] ?? Number.NaN),
        batch.scalars.subarray(i * SCALAR_COUNT, (i + 1) * SCALAR_COUNT),
        batch.hist.subarray(i * HIST_BINS, (i + 1) * HIST_BINS),
        batch.hash[2 * i]!,
        batch.hash[2 * i + 1]!,
        batch.grid.subarray(i * GRID_SIZE, (i + 1) * GRID_SIZE),
      );
    }
  }

  /** Append one frame. */
  appendFrame(time: number, scalars: ArrayLike<number>, hist: ArrayLike<number>, hashHigh: number, hashLow: number, grid: ArrayLike<number>): void {
    this.#append(time, scalars, hist, hashHigh, hashLow, grid);
  }

  #append(time: number | undefined, scalars: ArrayLike<number>, hist: ArrayLike<number>, hashHigh: number, hashLow: number, grid: ArrayLike<number>): void {
    const fd = this.#fd();
    if (time === undefined) this.#timesLater = true;
    else if (!this.#timesLater) {
      if (this.#count === this.#times.length) {
        const grown = new Float64Array(this.#times.length * 2);
        grown.set(this.#times);
        this.#times = grown;
      }
      this.#times[this.#count] = time;
    }
    this.#count++;
    const at = this.#pendingFrames * SERIES_RECORD_BYTES;
    const view = new DataView(this.#pending.buffer, at, SERIES_RECORD_BYTES);
    for (let k = 0; k < SCALAR_COUNT; k++) view.setFloat64(k * 8, scalars[k]!, true);
    for (let k = 0; k < HIST_BINS; k++) view.setUint32(SCALAR_BYTES + k * 4, hist[k]!, true);
    view.setUint32(SCALAR_BYTES + HIST_BYTES, hashHigh >>> 0, true);
    view.setUint32(SCALAR_BYTES + HIST_BYTES + 4, hashLow >>> 0, true);
    this.#pending.set(grid as ArrayLike<number>, at + SCALAR_BYTES + HIST_BYTES + HASH_BYTES);
    if (++this.#pendingFrames === WRITE_FRAMES) this.#flush(fd);
  }

  #fd(): number {
    if (this.#held.fd === null) throw new ScenescopeError('INTERNAL', 'The feature series file is closed');
    return this.#held.fd;
  }

  #flush(fd: number): void {
    const bytes = this.#pendingFrames * SERIES_RECORD_BYTES;
    let done = 0;
    try {
      while (done < bytes) done += writeSync(fd, this.#pending, done, bytes - done, this.#flushed * SERIES_RECORD_BYTES + done);
    } catch (error) {
      throw diskError(error, 'write');
    }
    this.#flushed += this.#pendingFrames;
    this.#pendingFrames = 0;
  }

  /**
   * The frames [start, end) as an in-memory series of its own (frame 0 of the window is frame `start`; its
   * times stay the video's).
   */
  read(start: number, end: number): FeatureSeries {
    const [s, e] = this.#range(start, end);
    const n = e - s;
    const series: FeatureSeries = {
      count: n,
      times: this.timesView().slice(s, e),
      frameRate: this.frameRate,
      scalars: new Float64Array(n * SCALAR_COUNT),
      hist: new Uint32Array(n * HIST_BINS),
      hash: new Uint32Array(n * 2),
      grid: new Uint8Array(n * GRID_SIZE),
    };
    this.#readInto(s, series, new Uint8Array(Math.min(n, SLICE_FRAMES) * SERIES_RECORD_BYTES));
    return series;
  }

  /**
   * The frames [start, end) like {@link SeriesFile.read}, in buffers the file keeps and reuses: the series is
   * valid until the next call of `window`, which overwrites it (copy what you keep). Windowed detection reads
   * its windows this way, so a long video costs one window's buffers in all rather than a new set per window
   * left to the garbage collector (which let dead windows pile up to tens of MB).
   */
  window(start: number, end: number): FeatureSeries {
    const [s, e] = this.#range(start, end);
    const n = e - s;
    let w = this.#window;
    if (w === undefined || w.capacity < n) {
      const capacity = Math.max(n, Math.ceil((w?.capacity ?? 0) * 1.25));
      w = { capacity, scalars: new Float64Array(capacity * SCALAR_COUNT), hist: new Uint32Array(capacity * HIST_BINS), hash: new Uint32Array(capacity * 2), grid: new Uint8Array(capacity * GRID_SIZE), buffer: new Uint8Array(Math.min(capacity, SLICE_FRAMES) * SERIES_RECORD_BYTES) };
      this.#window = w;
    }
    const series: FeatureSeries = {
      count: n,
      times: this.timesView().subarray(s, e),
      frameRate: this.frameRate,
      scalars: w.scalars.subarray(0, n * SCALAR_COUNT),
      hist: w.hist.subarray(0, n * HIST_BINS),
      hash: w.hash.subarray(0, n * 2),
      grid: w.grid.subarray(0, n * GRID_SIZE),
    };
    this.#readInto(s, series, w.buffer);
    return series;
  }

  #range(start: number, end: number): [number, number] {
    const fd = this.#fd();
    if (this.#pendingFrames > 0) this.#flush(fd);
    const s = Math.max(0, Math.min(start, this.#count));
    return [s, Math.max(s, Math.min(end, this.#count))];
  }

  /** Fill `series` (of `series.count` frames) from the records of frames from `s` on, `buffer` slice by slice. */
  #readInto(s: number, series: FeatureSeries, buffer: Uint8Array): void {
    const fd = this.#fd();
    const n = series.count;
    // Read in slices so a long window never needs a second full-size buffer.
    const sliceFrames = buffer.length / SERIES_RECORD_BYTES;
    for (let base = 0; base < n; base += sliceFrames) {
      const frames = Math.min(sliceFrames, n - base);
      const bytes = frames * SERIES_RECORD_BYTES;
      let got = 0;
      try {
        while (got < bytes) {
          const r = readSync(fd, buffer, got, bytes - got, (s + base) * SERIES_RECORD_BYTES + got);
          if (r === 0) throw new Error('unexpected end of file');
          got += r;
        }
      } catch (error) {
        throw diskError(error, 'read');
      }
      const view = new DataView(buffer.buffer, 0, bytes);
      for (let f = 0; f < frames; f++) {
        const at = f * SERIES_RECORD_BYTES;
        const i = base + f;
        for (let k = 0; k < SCALAR_COUNT; k++) series.scalars[i * SCALAR_COUNT + k] = view.getFloat64(at + k * 8, true);
        for (let k = 0; k < HIST_BINS; k++) series.hist[i * HIST_BINS + k] = view.getUint32(at + SCALAR_BYTES + k * 4, true);
        series.hash[2 * i] = view.getUint32(at + SCALAR_BYTES + HIST_BYTES, true);
        series.hash[2 * i + 1] = view.getUint32(at + SCALAR_BYTES + HIST_BYTES + 4, true);
        series.grid.set(buffer.subarray(at + SCALAR_BYTES + HIST_BYTES + HASH_BYTES, at + SERIES_RECORD_BYTES), i * GRID_SIZE);
      }
    }
  }

  /** Whether the file is still open. */
  get open(): boolean {
    return this.#held.fd !== null;
  }

  /** Close the file (its space is returned). Safe to call more than once. */
  close(): void {
    const fd = this.#held.fd;
    if (fd === null) return;
    this.#held.fd = null;
    this.#window = undefined;
    closer.unregister(this);
    try {
      closeSync(fd);
    } catch {
      // Already closed.
    }
  }
}

/** A per-frame Float64 track store (score tracks) in an unlinked temp file, one record of `width` values a frame. */
export class TrackFile {
  readonly width: number;
  readonly #held: { fd: number | null };
  #count = 0;

  /** @param width values per frame. */
  constructor(width: number, dir: string = tmpdir()) {
    this.width = width;
    this.#held = { fd: openUnlinked(dir, 'tracks') };
    closer.register(this, this.#held, this);
  }

  /** Frames written. */
  get count(): number {
    return this.#count;
  }

  /** Append frames: `tracks[t][i]` is track t's value for the i-th appended frame. */
  append(tracks: readonly Float64Array[], frames: number): void {
    const fd = this.#held.fd;
    if (fd === null) throw new ScenescopeError('INTERNAL', 'The score track file is closed');
    if (frames === 0 || this.width === 0) {
      this.#count += frames;
      return;
    }
    const data = new Float64Array(frames * this.width);
    for (let i = 0; i < frames; i++) for (let t = 0; t < this.width; t++) data[i * this.width + t] = tracks[t]![i]!;
    const bytes = new Uint8Array(data.buffer);
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, this.#count * this.width * 8 + done);
    } catch (error) {
      throw diskError(error, 'write');
    }
    this.#count += frames;
  }

  /** Values of frames [start, end), frame-major (`width` a frame). */
  read(start: number, end: number): Float64Array {
    const fd = this.#held.fd;
    if (fd === null) throw new ScenescopeError('INTERNAL', 'The score track file is closed');
    const s = Math.max(0, Math.min(start, this.#count));
    const e = Math.max(s, Math.min(end, this.#count));
    const out = new Float64Array((e - s) * this.width);
    const bytes = new Uint8Array(out.buffer);
    let got = 0;
    try {
      while (got < bytes.length) {
        const r = readSync(fd, bytes, got, bytes.length - got, s * this.width * 8 + got);
        if (r === 0) throw new Error('unexpected end of file');
        got += r;
      }
    } catch (error) {
      throw diskError(error, 'read');
    }
    return out;
  }

  /** Close the file. Safe to call more than once. */
  close(): void {
    const fd = this.#held.fd;
    if (fd === null) return;
    this.#held.fd = null;
    closer.unregister(this);
    try {
      closeSync(fd);
    } catch {
      // Already closed.
    }
  }
}
