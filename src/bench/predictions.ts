/**
 * Other tools' outputs as detections, so `scenescope bench --predictions` scores PySceneDetect, TransNetV2 or
 * anyone's own tool with the same matcher as scenescope's detectors.
 *
 * Formats, recognised by content (frames are 0-based indices of decoded frames, as in the truth):
 * - **PySceneDetect scene list** (`scenedetect ... list-scenes`, `<video>-Scenes.csv`): an optional first row
 *   "Timecode List:,..." (absent with `list-scenes --skip-cuts`), then the header "Scene Number,Start Frame,...".
 *   Its "Start Frame" column is 1-based (PySceneDetect writes `frame_num + 1`); every scene after the first
 *   gives a boundary at `Start Frame - 1`. When the frame columns are missing, "Start Time (seconds)" is used.
 * - **Shot list** (TransNetV2's `<video>.scenes.txt`): one "start end" pair per line; every shot after the
 *   first gives a boundary at its start.
 * - **JSON**: an array of numbers, or of objects with `frame` (optionally `kind`, `start_frame`, `end_frame`,
 *   `confidence`) or `time`/`seconds`; or an object with one such array under `frames`, `cuts`, `boundaries`,
 *   `scenes` (scenescope's own `detect --json` output) or `times`/`seconds`. Numbers in `frames`/`cuts`/
 *   `boundaries` are frames, in `times`/`seconds` seconds; a bare array is frames when every number is an
 *   integer, else seconds (say `unit` to decide instead).
 * - **One JSON file for a whole dataset**: an object mapping video file names to any of the JSON forms above.
 *
 * Seconds become frames as `round(t * fps)`, which is exact for constant-frame-rate video. For variable-frame-
 * rate video (timestamp gaps) times cannot be mapped to decoded frames this way; give frames instead.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.js';
import { annotationKey } from './annotations.js';
import type { DetectedBoundary } from './types.js';

/** How bare numbers in a JSON prediction are read. */
export type PredictionUnit = 'auto' | 'frames' | 'seconds';

/** A prediction file as read, before seconds are turned into frames. */
export interface ParsedPrediction {
  /** Boundaries known by frame. */
  boundaries: DetectedBoundary[];
  /** Boundaries known only by time, in seconds. */
  times: number[];
  /** What the file was read as, for reports ("pyscenedetect-csv", "shot-list", "json"). */
  format: string;
  warnings: string[];
}

function splitCsvLine(line: string, separator: string): string[] {
  const out: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === separator) {
      out.push(cell.trim());
      cell = '';
    } else cell += c;
  }
  out.push(cell.trim());
  return out;
}

/** Is this text a PySceneDetect scene list? */
export function isPySceneDetectCsv(text: string): boolean {
  const lines = text.split(/\r?\n/, 3).map((l) => l.trim());
  return lines.some((l) => /^"?Scene Number"?\s*[,;\t|]/i.test(l));
}

/** Parse a PySceneDetect scene-list CSV (see the module header). */
export function parsePySceneDetectCsv(text: string, source = 'scene list'): ParsedPrediction {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const headerAt = lines.findIndex((l) => /^"?Scene Number"?\s*[,;\t|]/i.test(l.trim()));
  if (headerAt < 0) throw new InputError('UNSUPPORTED_FORMAT', `${source} is not a PySceneDetect scene list: no "Scene Number" header`);
  const separator = /^"?Scene Number"?\s*([,;\t|])/i.exec(lines[headerAt]!.trim())![1]!;
  const header = splitCsvLine(lines[headerAt]!, separator).map((h) => h.toLowerCase());
  const frameColumn = header.indexOf('start frame');
  const timeColumn = header.indexOf('start time (seconds)');
  if (frameColumn < 0 && timeColumn < 0) throw new InputError('UNSUPPORTED_FORMAT', `${source} has neither a "Start Frame" nor a "Start Time (seconds)" column`);
  const out: ParsedPrediction = { boundaries: [], times: [], format: 'pyscenedetect-csv', warnings: [] };
  const rows = lines.slice(headerAt + 1);
  rows.forEach((line, i) => {
    const cells = splitCsvLine(line, separator);
    const frame = frameColumn >= 0 ? Number(cells[frameColumn]) : Number.NaN;
    const time = timeColumn >= 0 ? Number(cells[timeColumn]) : Number.NaN;
    if (!Number.isInteger(frame) && !Number.isFinite(time)) {
      out.warnings.push(`${source}:${headerAt + i + 2}: skipped ${JSON.stringify(line)}`);
      return;
    }
    // The first scene starts the video; every later one starts after a boundary.
    if (i === 0) return;
    if (Number.isInteger(frame) && frame >= 1) out.boundaries.push({ frame: frame - 1, kind: 'cut' });
    else out.times.push(time);
  });
  return out;
}

/** Parse a shot list ("start end" per line, TransNetV2's .scenes.txt) into boundaries at each later shot's start. */
export function parseShotListPrediction(text: string, source = 'shot list'): ParsedPrediction {
  const out: ParsedPrediction = { boundaries: [], times: [], format: 'shot-list', warnings: [] };
  const starts: number[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    const [a, b] = t.split(/[\s,;]+/).map(Number);
    if (!Number.isInteger(a) || !Number.isInteger(b)) out.warnings.push(`${source}:${i + 1}: skipped ${JSON.stringify(t)}`);
    else starts.push(a!);
  });
  starts.sort((x, y) => x - y);
  for (const s of starts.slice(1)) out.boundaries.push({ frame: s, kind: 'cut' });
  return out;
}

const FRAME_KEYS = ['frames', 'cuts', 'boundaries', 'scenes'] as const;
const TIME_KEYS = ['times', 'seconds'] as const;

function record(value: unknown, unit: 'frames' | 'seconds', out: ParsedPrediction, where: string): void {
  if (typeof value === 'number' && Number.isFinite(value)) {
    if (unit === 'frames') {
      if (Number.isInteger(value) && value >= 0) out.boundaries.push({ frame: value });
      else out.warnings.push(`${where}: ${value} is not a frame index; skipped`);
    } else out.times.push(value);
    return;
  }
  const r = value as Record<string, unknown> | null;
  if (r !== null && typeof r === 'object') {
    // scenescope's own scenes: the boundary is the start of every scene after the first; read by the caller.
    const frame = typeof r.frame === 'number' ? r.frame : typeof r.start_frame === 'number' && unit === 'frames' ? r.start_frame : undefined;
    if (frame !== undefined && Number.isInteger(frame) && frame >= 0) {
      const d: DetectedBoundary = { frame };
      if (typeof r.kind === 'string') d.kind = r.kind;
      if (typeof r.start_frame === 'number' && typeof r.end_frame === 'number') {
        d.start_frame = r.start_frame;
        d.end_frame = r.end_frame;
      }
      if (typeof r.confidence === 'number') d.confidence = r.confidence;
      out.boundaries.push(d);
      return;
    }
    const time = typeof r.time === 'number' ? r.time : typeof r.seconds === 'number' ? r.seconds : typeof r.start === 'number' ? r.start : undefined;
    if (time !== undefined && Number.isFinite(time)) {
      out.times.push(time);
      return;
    }
  }
  out.warnings.push(`${where}: skipped ${JSON.stringify(value)}`);
}

/** Parse one JSON prediction (see the module header). Throws UNSUPPORTED_FORMAT when no list is found. */
export function parsePredictionJson(json: unknown, unit: PredictionUnit = 'auto', source = 'predictions'): ParsedPrediction {
  const out: ParsedPrediction = { boundaries: [], times: [], format: 'json', warnings: [] };
  let list: unknown[] | undefined;
  let listUnit: 'frames' | 'seconds' | undefined;
  let scenes = false;
  if (Array.isArray(json)) list = json;
  else if (json !== null && typeof json === 'object') {
    const o = json as Record<string, unknown>;
    for (const k of FRAME_KEYS) {
      if (Array.isArray(o[k])) {
        list = o[k] as unknown[];
        listUnit = 'frames';
        scenes = k === 'scenes';
        break;
      }
    }
    if (list === undefined) {
      for (const k of TIME_KEYS) {
        if (Array.isArray(o[k])) {
          list = o[k] as unknown[];
          listUnit = 'seconds';
          break;
        }
      }
    }
  }
  if (list === undefined) throw new InputError('UNSUPPORTED_FORMAT', `${source} holds no list of frames or times (an array, or "frames", "cuts", "boundaries", "scenes", "times")`);
  const resolved: 'frames' | 'seconds' = unit !== 'auto' ? unit : (listUnit ?? (list.every((v) => typeof v !== 'number' || Number.isInteger(v)) ? 'frames' : 'seconds'));
  if (scenes) {
    // A scene list: the first scene starts the video, every later start_frame is a boundary.
    list.slice(1).forEach((s, i) => {
      const r = s as Record<string, unknown> | null;
      const at = typeof r?.start_frame === 'number' ? r.start_frame : typeof r?.frame === 'number' ? r.frame : undefined;
      if (at === undefined) out.warnings.push(`${source}: scenes[${i + 1}] has no start_frame; skipped`);
      else {
        const d: DetectedBoundary = { frame: at };
        const b = r?.boundary as Record<string, unknown> | undefined;
        if (b !== undefined && typeof b.kind === 'string') d.kind = b.kind;
        out.boundaries.push(d);
      }
    });
    return out;
  }
  list.forEach((v, i) => record(v, resolved, out, `${source}[${i}]`));
  return out;
}

/** Parse a prediction file's text, recognising its format by content. */
export function parsePredictionText(text: string, unit: PredictionUnit = 'auto', source = 'predictions'): ParsedPrediction {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text) as unknown;
    } catch (error) {
      throw new InputError('UNSUPPORTED_FORMAT', `${source} is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
    return parsePredictionJson(json, unit, source);
  }
  if (isPySceneDetectCsv(text)) return parsePySceneDetectCsv(text, source);
  const shots = parseShotListPrediction(text, source);
  if (shots.boundaries.length > 0 || shots.warnings.length === 0) return shots;
  throw new InputError('UNSUPPORTED_FORMAT', `${source} is neither a PySceneDetect scene list, a shot list nor JSON`);
}

/** Turn a parsed prediction into boundaries in frames, sorted; times are rounded at `fps`. */
export function toBoundaries(parsed: ParsedPrediction, fps: number | undefined, source = 'predictions'): DetectedBoundary[] {
  const out = [...parsed.boundaries];
  if (parsed.times.length > 0) {
    if (fps === undefined || !(fps > 0)) throw new InputError('UNSUPPORTED_FORMAT', `${source} gives times in seconds but the frame rate of its video is unknown`);
    for (const t of parsed.times) out.push({ frame: Math.max(0, Math.round(t * fps)), kind: 'cut' });
  }
  return out.sort((a, b) => a.frame - b.frame);
}

/** The prediction source for each video of a dataset: its text (or JSON value) and where it came from. */
export type PredictionSource = { source: string; text: string } | { source: string; json: unknown };

/**
 * Find the prediction of each video under `where`: a folder (recursively; a file matches a video when their
 * names agree once extensions and the suffixes tools add, such as "-Scenes" or ".scenes", are dropped), or one
 * JSON file mapping video file names to predictions, or (for a dataset of one video) one prediction file.
 * Videos without a prediction are absent from the map. Throws FILE_NOT_FOUND when `where` does not exist.
 */
export async function findPredictions(where: string, videos: readonly string[]): Promise<Map<string, PredictionSource>> {
  const info = await stat(where).catch(() => undefined);
  if (info === undefined) throw new InputError('FILE_NOT_FOUND', `Predictions ${where} do not exist`);
  const out = new Map<string, PredictionSource>();
  if (info.isFile()) {
    const text = await readFile(where, 'utf8');
    const trimmed = text.trimStart();
    if (trimmed.startsWith('{')) {
      let json: unknown;
      try {
        json = JSON.parse(text) as unknown;
      } catch (error) {
        throw new InputError('UNSUPPORTED_FORMAT', `${where} is not valid JSON: ${(error as Error).message}`, { cause: error });
      }
      const o = json as Record<string, unknown>;
      const isSingle = [...FRAME_KEYS, ...TIME_KEYS].some((k) => Array.isArray(o[k]));
      if (!isSingle) {
        const byKey = new Map(Object.entries(o).map(([name, value]) => [annotationKey(name), value]));
        for (const v of videos) {
          const value = o[path.basename(v)] ?? byKey.get(annotationKey(v));
          if (value !== undefined) out.set(v, { source: `${path.basename(where)}:${path.basename(v)}`, json: value });
        }
        return out;
      }
    }
    if (videos.length === 1) out.set(videos[0]!, { source: where, text });
    else {
      const key = annotationKey(where);
      for (const v of videos) if (annotationKey(v) === key) out.set(v, { source: where, text });
    }
    return out;
  }
  const files: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > 6) return;
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full, depth + 1);
      else if (e.isFile() && /\.(csv|txt|json)$/i.test(e.name)) files.push(full);
    }
  };
  await walk(where, 0);
  files.sort();
  const byKey = new Map<string, string>();
  for (const f of files) if (!byKey.has(annotationKey(f))) byKey.set(annotationKey(f), f);
  for (const v of videos) {
    const f = byKey.get(annotationKey(v));
    if (f !== undefined) out.set(v, { source: f, text: await readFile(f, 'utf8') });
  }
  return out;
}

/** Read one video's prediction from its source as boundaries in frames. */
export function readPrediction(source: PredictionSource, fps: number | undefined, unit: PredictionUnit = 'auto'): { boundaries: DetectedBoundary[]; format: string; warnings: string[] } {
  const parsed = 'json' in source ? parsePredictionJson(source.json, unit, source.source) : parsePredictionText(source.text, unit, source.source);
  return { boundaries: toBoundaries(parsed, fps, source.source), format: parsed.format, warnings: parsed.warnings };
}
