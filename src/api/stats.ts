/**
 * Per-frame statistics as CSV, so detection can be re-run with other detectors and thresholds without decoding
 * again. The CSV is plain (a header row, then one row per frame) so any CSV reader takes it; what identifies
 * the video (size, mtime), the analysis size and range sits in a sidecar `<file>.json` together with the CSV's
 * byte length. A stats file whose sidecar is missing or does not match the video is recomputed, never trusted.
 * Files from before the sidecar (identity in a `# {json}` first line) are still read.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, writeFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { GRID_SIZE, HIST_BINS, SCALAR_COUNT, SCALAR_NAMES } from '../features/types.js';
import { ScenescopeError } from '../errors.js';
import type { FeatureSeries } from '../detect/series.js';
import type { ScoreTrack } from '../detect/detector.js';

/** What identifies the video a stats file was made from. */
export interface StatsIdentity {
  format: 'scenescope-stats';
  version: 1;
  file_size: number;
  mtime_ms: number;
  analysis: string;
  frame_rate: number;
  /** The analysed range, "start-end" in seconds ("0-end" for the whole video). */
  range?: string;
}

/** Write the series (and, for people reading the file, the detector's score tracks) to a CSV file. */
export async function writeStats(file: string, series: FeatureSeries, identity: StatsIdentity, scores: readonly ScoreTrack[] = []): Promise<void> {
  const lines: string[] = [];
  lines.push(['frame', 'time', ...SCALAR_NAMES, ...scores.map((s) => s.name), 'hash', 'hist', 'grid'].join(','));
  for (let i = 0; i < series.count; i++) {
    const row: string[] = [String(i), String(series.times[i])];
    for (let k = 0; k < SCALAR_COUNT; k++) row.push(String(series.scalars[i * SCALAR_COUNT + k]));
    for (const s of scores) row.push(String(s.values[i] ?? ''));
    row.push(series.hash[2 * i]!.toString(16).padStart(8, '0') + series.hash[2 * i + 1]!.toString(16).padStart(8, '0'));
    row.push(Array.from(series.hist.subarray(i * HIST_BINS, (i + 1) * HIST_BINS)).join(' '));
    row.push(Buffer.from(series.grid.subarray(i * GRID_SIZE, (i + 1) * GRID_SIZE)).toString('hex'));
    lines.push(row.join(','));
  }
  const csv = lines.join('\n') + '\n';
  const sidecar = JSON.stringify({ ...identity, rows: series.count, csv_bytes: Buffer.byteLength(csv) }, null, 2) + '\n';
  // Both files go to temp names first: a full disk or a kill never leaves a truncated CSV or a stray .tmp.
  const tmps = [`${file}.${process.pid}.tmp`, `${statsSidecar(file)}.${process.pid}.tmp`];
  try {
    await writeFile(tmps[0]!, csv);
    await writeFile(tmps[1]!, sidecar);
    await rename(tmps[0]!, file);
    await rename(tmps[1]!, statsSidecar(file));
  } catch (error) {
    await Promise.all(tmps.map((t) => unlink(t).catch(() => undefined)));
    const errno = (error as NodeJS.ErrnoException).code ?? 'EIO';
    throw new ScenescopeError('OUTPUT_FAILED', `Cannot write the stats file ${file}: ${errno === 'ENOSPC' ? 'no space left on device' : (error as Error).message} (${errno})`, { cause: error, details: { target: file, errno } });
  }
}

/** The sidecar that identifies the video a stats CSV belongs to: `<file>.json`. */
export function statsSidecar(file: string): string {
  return `${file}.json`;
}

/**
 * Read a stats file. Returns null when it does not exist or was made for another file or analysis size.
 * @throws ScenescopeError STATS_INVALID when it matches but cannot be parsed.
 */
export async function readStats(file: string, expected: StatsIdentity): Promise<FeatureSeries | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  let lines = text.split('\n').filter((l) => l.length > 0);
  let identity: Partial<StatsIdentity> & { csv_bytes?: number };
  try {
    if (lines[0]?.startsWith('# {') === true) {
      identity = JSON.parse(lines[0].slice(2)) as Partial<StatsIdentity>;
      lines = lines.slice(1);
    } else {
      identity = JSON.parse(await readFile(statsSidecar(file), 'utf8')) as typeof identity;
      if (identity.csv_bytes !== Buffer.byteLength(text)) return null;
    }
  } catch {
    return null;
  }
  for (const key of ['format', 'version', 'file_size', 'mtime_ms', 'analysis'] as const) {
    if (identity[key] !== expected[key]) return null;
  }
  if ((identity.range ?? '0-end') !== (expected.range ?? '0-end')) return null;
  const bad = (why: string): ScenescopeError => new ScenescopeError('STATS_INVALID', `Stats file ${file} is damaged: ${why}`);
  const header = (lines[0] ?? '').split(',');
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw bad(`no column ${name}`);
    return i;
  };
  const timeCol = col('time');
  const scalarCols = SCALAR_NAMES.map(col);
  const hashCol = col('hash');
  const histCol = col('hist');
  const gridCol = col('grid');
  const rows = lines.slice(1);
  const n = rows.length;
  const series: FeatureSeries = {
    count: n,
    times: new Float64Array(n),
    frameRate: typeof identity.frame_rate === 'number' ? identity.frame_rate : expected.frame_rate,
    scalars: new Float64Array(n * SCALAR_COUNT),
    hist: new Uint32Array(n * HIST_BINS),
    hash: new Uint32Array(n * 2),
    grid: new Uint8Array(n * GRID_SIZE),
  };
  rows.forEach((line, i) => {
    const cells = line.split(',');
    if (Number(cells[0]) !== i) throw bad(`row ${i + 2} is frame ${cells[0]}, expected ${i}`);
    series.times[i] = Number(cells[timeCol]);
    scalarCols.forEach((c, k) => (series.scalars[i * SCALAR_COUNT + k] = Number(cells[c])));
    const hash = cells[hashCol] ?? '';
    if (!/^[0-9a-f]{16}$/.test(hash)) throw bad(`bad hash on row ${i + 2}`);
    series.hash[2 * i] = parseInt(hash.slice(0, 8), 16);
    series.hash[2 * i + 1] = parseInt(hash.slice(8), 16);
    const hist = (cells[histCol] ?? '').split(' ').map(Number);
    if (hist.length !== HIST_BINS) throw bad(`bad histogram on row ${i + 2}`);
    series.hist.set(hist, i * HIST_BINS);
    const grid = Buffer.from(cells[gridCol] ?? '', 'hex');
    if (grid.length !== GRID_SIZE) throw bad(`bad grid on row ${i + 2}`);
    series.grid.set(grid, i * GRID_SIZE);
  });
  if (series.scalars.some((v) => !Number.isFinite(v)) || series.times.some((v) => !Number.isFinite(v))) throw bad('non-numeric values');
  return series;
}

/** Where windowed stats writing reads the features and the score tracks from. */
export interface StatsSource {
  count: number;
  /** Frames [start, end); the series is only read until the next call (it may live in reused buffers). */
  read(start: number, end: number): FeatureSeries;
  /** Names of the score tracks, in column order. */
  trackNames: readonly string[];
  /** Score values of frames [start, end), frame-major (one per track a frame). */
  readTracks(start: number, end: number): Float64Array;
}

function writeError(error: unknown, file: string): ScenescopeError {
  if (error instanceof ScenescopeError) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new ScenescopeError('DISK_FULL', `No space left to write the stats file ${file}`, { cause: error });
  return new ScenescopeError('OUTPUT_FAILED', `Cannot write the stats file ${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

/**
 * Write stats like {@link writeStats}, streaming rows window by window from an off-heap series, so a long
 * video's stats never sit in memory. Writes a temporary file next to `file` and renames it; the temporary file
 * is removed when writing fails.
 * @throws ScenescopeError DISK_FULL when the disk is full, OUTPUT_FAILED for other write failures.
 */
export async function writeStatsWindowed(file: string, source: StatsSource, identity: StatsIdentity, windowFrames = 4096): Promise<void> {
  const suffix = `${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const tmps = [`${file}.${suffix}`, `${statsSidecar(file)}.${suffix}`] as const;
  const widths = source.trackNames.length;
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(tmps[0], 'wx', 0o644);
    let bytes = 0;
    const put = async (text: string): Promise<void> => {
      bytes += Buffer.byteLength(text);
      await handle!.write(text);
    };
    await put(['frame', 'time', ...SCALAR_NAMES, ...source.trackNames, 'hash', 'hist', 'grid'].join(',') + '\n');
    for (let start = 0; start < source.count; start += windowFrames) {
      const end = Math.min(source.count, start + windowFrames);
      const series = source.read(start, end);
      const tracks = source.readTracks(start, end);
      const lines: string[] = [];
      for (let i = 0; i < series.count; i++) {
        const row: string[] = [String(start + i), String(series.times[i])];
        for (let k = 0; k < SCALAR_COUNT; k++) row.push(String(series.scalars[i * SCALAR_COUNT + k]));
        for (let t = 0; t < widths; t++) row.push(String(tracks[i * widths + t] ?? ''));
        row.push(series.hash[2 * i]!.toString(16).padStart(8, '0') + series.hash[2 * i + 1]!.toString(16).padStart(8, '0'));
        row.push(Array.from(series.hist.subarray(i * HIST_BINS, (i + 1) * HIST_BINS)).join(' '));
        row.push(Buffer.from(series.grid.subarray(i * GRID_SIZE, (i + 1) * GRID_SIZE)).toString('hex'));
        lines.push(row.join(','));
      }
      if (lines.length > 0) await put(lines.join('\n') + '\n');
    }
    await handle.close();
    handle = undefined;
    // The identity goes beside the CSV (plain, for any CSV reader), with its length so a changed CSV is not trusted.
    await writeFile(tmps[1], JSON.stringify({ ...identity, rows: source.count, csv_bytes: bytes }, null, 2) + '\n', { flag: 'wx' });
    await rename(tmps[0], file);
    await rename(tmps[1], statsSidecar(file));
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await Promise.all(tmps.map((t) => rm(t, { force: true }).catch(() => undefined)));
    throw writeError(error, file);
  }
}

/** Where streamed stats rows go (an off-heap series). */
export interface StatsSink {
  appendFrame(time: number, scalars: ArrayLike<number>, hist: ArrayLike<number>, hashHigh: number, hashLow: number, grid: ArrayLike<number>): void;
}

/**
 * Read a stats file like {@link readStats}, streaming its rows into `sink` (made by `makeSink` once the
 * identity matches), so a long video's stats never sit in memory.
 * @returns the sink, or null when the file is absent or made for another video or analysis size.
 * @throws ScenescopeError STATS_INVALID when it matches but cannot be parsed.
 */
export async function readStatsInto<S extends StatsSink>(file: string, expected: StatsIdentity, makeSink: (frameRate: number) => S): Promise<S | null> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch {
    return null;
  }
  const bad = (why: string): ScenescopeError => new ScenescopeError('STATS_INVALID', `Stats file ${file} is damaged: ${why}`);
  const lines = createInterface({ input: handle.createReadStream({ encoding: 'utf8' }), crlfDelay: Infinity });
  try {
    let sink: S | null = null;
    let header: string[] | null = null;
    let cols: { time: number; scalars: number[]; hash: number; hist: number; grid: number } | null = null;
    let row = 0;
    let first = true;
    let lineNo = 0;
    const scalars = new Float64Array(SCALAR_COUNT);
    for await (const line of lines) {
      lineNo++;
      if (line.length === 0) continue;
      if (first) {
        first = false;
        // The identity is in the sidecar (or, in files from before it, a `# {json}` first line).
        const legacy = line.startsWith('# {');
        let identity: Partial<StatsIdentity> & { csv_bytes?: number };
        try {
          identity = JSON.parse(legacy ? line.slice(2) : await readFile(statsSidecar(file), 'utf8')) as typeof identity;
          if (!legacy && identity.csv_bytes !== (await stat(file)).size) return null;
        } catch {
          return null;
        }
        for (const key of ['format', 'version', 'file_size', 'mtime_ms', 'analysis'] as const) {
          if (identity[key] !== expected[key]) return null;
        }
        if ((identity.range ?? '0-end') !== (expected.range ?? '0-end')) return null;
        sink = makeSink(typeof identity.frame_rate === 'number' ? identity.frame_rate : expected.frame_rate);
        if (legacy) continue;
      }
      if (header === null) {
        header = line.split(',');
        const col = (name: string): number => {
          const i = header!.indexOf(name);
          if (i < 0) throw bad(`no column ${name}`);
          return i;
        };
        cols = { time: col('time'), scalars: SCALAR_NAMES.map(col), hash: col('hash'), hist: col('hist'), grid: col('grid') };
        continue;
      }
      const c = cols!;
      const cells = line.split(',');
      if (Number(cells[0]) !== row) throw bad(`line ${lineNo} is frame ${cells[0]}, expected ${row}`);
      const time = Number(cells[c.time]);
      c.scalars.forEach((at, k) => (scalars[k] = Number(cells[at])));
      if (!Number.isFinite(time) || scalars.some((v) => !Number.isFinite(v))) throw bad('non-numeric values');
      const hash = cells[c.hash] ?? '';
      if (!/^[0-9a-f]{16}$/.test(hash)) throw bad(`bad hash on line ${lineNo}`);
      const hist = (cells[c.hist] ?? '').split(' ').map(Number);
      if (hist.length !== HIST_BINS) throw bad(`bad histogram on line ${lineNo}`);
      const grid = Buffer.from(cells[c.grid] ?? '', 'hex');
      if (grid.length !== GRID_SIZE) throw bad(`bad grid on line ${lineNo}`);
      sink!.appendFrame(time, scalars, hist, parseInt(hash.slice(0, 8), 16), parseInt(hash.slice(8), 16), grid);
      row++;
    }
    if (sink !== null && header === null) throw bad('no column header');
    return sink;
  } finally {
    lines.close();
    await handle.close().catch(() => undefined);
  }
}
