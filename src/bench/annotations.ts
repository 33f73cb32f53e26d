/**
 * Readers for shot boundary annotations. A dataset folder and a format name give the videos with their ground
 * truth; the parsers are exported too, for one file at a time.
 *
 * Formats (frames are 0-based; see docs/benchmarks.md for the layouts):
 * - `auto` (the default of `scenescope bench`): `truth` when the folder holds a truth.json, else `scenescope`.
 * - `scenescope`: this project's generated corpus: `<name>.mp4` beside `<name>.json` holding `transitions` and
 *   `distractors` (see corpus.ts).
 * - `truth`: one `truth.json` for the folder, the layout of ../shared/media/real: a `matching` block (the
 *   dataset's own matching rule) and `clips`, each with a `file`, a `role` ("transitions" or "negative"),
 *   `frames`, `fps`, typed `transitions` (`kind`, `start_frame`, `end_frame`, optional `uncertain`) and
 *   `non_transitions` (hard-negative spans, optional `uncertain`). A negative clip is one distractor of kind
 *   `negative` spanning the whole clip; each non-transition is a distractor of kind `non_transition`.
 * - `bbc`: the BBC Planet Earth set: `annotations/shots/<episode>.txt`, one shot per line, "start end" (first and
 *   last frame, inclusive); a video `bbc_01.mp4` or `01_From_Pole_to_Pole.mp4` matches the file whose name starts
 *   with the same episode number. TransNetV2 shifts these annotations by +1 frame against its decoder; pass
 *   `frameOffset: 1` to do the same.
 * - `rai`: the RAI set: `<name>_gt.txt` (or `<name>.txt`), one shot per line, "start end".
 * - `autoshot`: the AutoShot test set: `annotations/<id>.txt` shot lists as above, or its single label file
 *   (`kuaishou_v2.txt`: blocks of a "<id>.mp4 <frames>" header line and "a,b" transition lines, ClipShots-style).
 * - `clipshots`: ClipShots JSON: `{ "video.mp4": { "transitions": [[a, b], ...], "frame_num": n } }`, where `a` is
 *   the last frame of the old shot and `b` the first frame of the new one (b = a + 1 for a cut).
 * - `csv`: plain cut lists: per video `<name>.csv|.txt` (one frame per line, or a header with a `frame` column
 *   and optional `kind`, `start_frame`, `end_frame`) or `<name>.json` (an array of frames or of
 *   `{frame, kind?, start_frame?, end_frame?}`, or `{ "cuts": [...] }`); or one JSON file mapping video file
 *   names to such arrays.
 *
 * Between two consecutive shots of a shot list: when the second starts right after the first ends, the
 * boundary is a cut at the second's first frame; when frames lie between them, those frames are a gradual
 * transition of unspecified kind ("gradual"), and the boundary frame is its middle.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.js';
import { integerIn, oneOf, opt, plainOptions, func } from '../util/validate.js';
import { DISTRACTOR_KINDS, type DatasetEntry, type DatasetMatching, type DistractorKind, type TruthDistractor, type TruthKind, type TruthTransition } from './types.js';

/** Names of the annotation formats `scenescope bench --format` takes. */
export const DATASET_FORMATS = ['auto', 'scenescope', 'truth', 'bbc', 'rai', 'clipshots', 'autoshot', 'csv'] as const;
/** One annotation format. */
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/** Extensions taken as videos. */
export const VIDEO_EXTENSIONS: readonly string[] = ['.mp4', '.mkv', '.mov', '.avi', '.webm', '.mpg', '.mpeg', '.ts', '.m4v', '.wmv', '.flv'];

/** Options of {@link readDataset}. */
export interface ReadDatasetOptions {
  /** Frames added to every annotated frame (TransNetV2 uses +1 on BBC). Default 0. */
  frameOffset?: number | undefined;
  /** Called once per video without annotation and per file that could not be used. */
  onWarning?: ((message: string) => void) | undefined;
}

/** A shot: first and last frame, inclusive. */
export type Shot = readonly [number, number];

/** The result of a text parser: what it read and what it had to skip. */
export interface Parsed<T> {
  value: T;
  warnings: string[];
}

// ---------------------------------------------------------------------------------------------------------
// Parsers of single files

/** Parse a shot list: one "start end" per line (spaces, tabs or commas). Lines without two integers are skipped. */
export function parseShotList(text: string, source = 'shot list'): Parsed<Shot[]> {
  const shots: Shot[] = [];
  const warnings: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const numbers = trimmed.split(/[\s,;]+/).filter((t) => t !== '');
    const a = Number(numbers[0]);
    const b = Number(numbers[1]);
    if (numbers.length < 2 || !Number.isInteger(a) || !Number.isInteger(b)) {
      if (/\d/.test(trimmed) && shots.length > 0) warnings.push(`${source}:${i + 1}: skipped ${JSON.stringify(trimmed)}`);
      return;
    }
    if (b < a) {
      warnings.push(`${source}:${i + 1}: shot ends before it starts (${a} ${b}); skipped`);
      return;
    }
    shots.push([a, b]);
  });
  shots.sort((x, y) => x[0] - y[0]);
  return { value: shots, warnings };
}

/** Transitions between consecutive shots (see the module header for the rule). */
export function shotsToTransitions(shots: readonly Shot[], offset = 0): TruthTransition[] {
  const out: TruthTransition[] = [];
  for (let i = 1; i < shots.length; i++) {
    const previousEnd = shots[i - 1]![1] + offset;
    const start = shots[i]![0] + offset;
    if (start <= previousEnd + 1) {
      // Adjacent (or overlapping, as some annotators mark dissolves): a cut where the new shot starts, or the
      // overlap as a gradual span.
      if (start >= previousEnd + 1) out.push({ kind: 'cut', start_frame: start, end_frame: start, frame: start });
      else out.push(gradual(start, previousEnd));
    } else out.push(gradual(previousEnd + 1, start - 1));
  }
  return out;
}

function gradual(start: number, end: number): TruthTransition {
  return { kind: 'gradual', start_frame: start, end_frame: end, frame: Math.floor((start + end + 1) / 2) };
}

/** Transitions from ClipShots/AutoShot pairs [a, b]: a = last frame of the old shot, b = first of the new. */
export function pairsToTransitions(pairs: readonly (readonly [number, number])[], offset = 0, source = 'pairs'): Parsed<TruthTransition[]> {
  const warnings: string[] = [];
  const out: TruthTransition[] = [];
  for (const [a, b] of pairs) {
    if (!Number.isInteger(a) || !Number.isInteger(b) || b <= a) {
      warnings.push(`${source}: transition [${a}, ${b}] is not increasing; skipped`);
      continue;
    }
    if (b === a + 1) out.push({ kind: 'cut', start_frame: b + offset, end_frame: b + offset, frame: b + offset });
    else out.push(gradual(a + 1 + offset, b - 1 + offset));
  }
  out.sort((x, y) => x.frame - y.frame);
  return { value: out, warnings };
}

/** Parse a ClipShots annotation file: video file name to transition pairs and frame count. */
export function parseClipShots(json: unknown, source = 'ClipShots JSON'): Map<string, { pairs: [number, number][]; frame_count: number | undefined }> {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new InputError('UNSUPPORTED_FORMAT', `${source} is not a ClipShots annotation object`);
  }
  const out = new Map<string, { pairs: [number, number][]; frame_count: number | undefined }>();
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    const record = value as { transitions?: unknown; frame_num?: unknown } | null;
    if (record === null || typeof record !== 'object' || !Array.isArray(record.transitions)) continue;
    const pairs = record.transitions
      .filter((p): p is [number, number] => Array.isArray(p) && p.length >= 2 && typeof p[0] === 'number' && typeof p[1] === 'number')
      .map((p) => [p[0], p[1]] as [number, number]);
    out.set(name, { pairs, frame_count: typeof record.frame_num === 'number' ? Math.round(record.frame_num) : undefined });
  }
  return out;
}

/**
 * Parse AutoShot's single label file: blocks of "<id>.mp4 <frames>" then "a,b" lines. The published file has
 * typos ("568,,569", "2959.2960", "178,179,"); every line's integers are read leniently and the rest reported.
 */
export function parseAutoShotLabels(text: string, source = 'AutoShot labels'): Parsed<Map<string, { pairs: [number, number][]; frame_count: number | undefined }>> {
  const out = new Map<string, { pairs: [number, number][]; frame_count: number | undefined }>();
  const warnings: string[] = [];
  let current: { pairs: [number, number][]; frame_count: number | undefined } | undefined;
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '') return;
    const header = /^(\S+\.(?:mp4|mkv|mov|avi|webm))\s+(\d+)?\s*$/i.exec(trimmed);
    if (header !== null) {
      current = { pairs: [], frame_count: header[2] === undefined ? undefined : Number(header[2]) };
      out.set(header[1]!, current);
      return;
    }
    const numbers = trimmed.match(/\d+/g) ?? [];
    if (current === undefined || numbers.length !== 2) {
      warnings.push(`${source}:${i + 1}: skipped ${JSON.stringify(trimmed)}`);
      return;
    }
    current.pairs.push([Number(numbers[0]), Number(numbers[1])]);
  });
  return { value: out, warnings };
}

const GRADUAL_NAMES = new Set(['dissolve', 'fade', 'wipe', 'gradual']);

function transitionFromRecord(record: unknown, offset: number): TruthTransition | undefined {
  if (typeof record === 'number' && Number.isInteger(record)) {
    return { kind: 'cut', start_frame: record + offset, end_frame: record + offset, frame: record + offset };
  }
  if (record === null || typeof record !== 'object') return undefined;
  const r = record as Record<string, unknown>;
  const frame = typeof r.frame === 'number' ? r.frame : undefined;
  const start = typeof r.start_frame === 'number' ? r.start_frame : frame;
  const end = typeof r.end_frame === 'number' ? r.end_frame : frame;
  if (start === undefined || end === undefined || end < start) return undefined;
  const kindName = typeof r.kind === 'string' ? r.kind : start === end ? 'cut' : 'gradual';
  const kind: TruthKind = kindName === 'cut' ? 'cut' : GRADUAL_NAMES.has(kindName) ? (kindName as TruthKind) : 'gradual';
  const at = frame ?? (kind === 'cut' ? start : Math.floor((start + end + 1) / 2));
  return { kind, start_frame: start + offset, end_frame: end + offset, frame: at + offset };
}

/** Parse a plain cut list in CSV/text form (see the module header). */
export function parseCutCsv(text: string, offset = 0, source = 'cut list'): Parsed<TruthTransition[]> {
  const warnings: string[] = [];
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  let columns: string[] | undefined;
  if (lines.length > 0 && /[a-z]/i.test(lines[0]!)) columns = lines.shift()!.split(/[,;\t]/).map((c) => c.trim().toLowerCase());
  const out: TruthTransition[] = [];
  lines.forEach((line, i) => {
    const cells = line.split(/[,;\t]/).map((c) => c.trim());
    let record: unknown;
    if (columns === undefined) record = Number(cells[0]);
    else {
      const r: Record<string, unknown> = {};
      columns.forEach((name, c) => {
        const cell = cells[c];
        if (cell === undefined || cell === '') return;
        r[name === 'cut' ? 'frame' : name] = name === 'kind' ? cell : Number(cell);
      });
      record = r;
    }
    const t = transitionFromRecord(record, offset);
    if (t === undefined) warnings.push(`${source}:${i + 1 + (columns === undefined ? 0 : 1)}: skipped ${JSON.stringify(line)}`);
    else out.push(t);
  });
  out.sort((a, b) => a.frame - b.frame);
  return { value: out, warnings };
}

/** Parse a plain cut list in JSON form: an array, or `{cuts|transitions: [...]}`. */
export function parseCutJson(json: unknown, offset = 0, source = 'cut list'): Parsed<TruthTransition[]> {
  const list = Array.isArray(json) ? json : json !== null && typeof json === 'object' ? ((json as Record<string, unknown>).cuts ?? (json as Record<string, unknown>).transitions) : undefined;
  if (!Array.isArray(list)) throw new InputError('UNSUPPORTED_FORMAT', `${source} is neither an array of cut frames nor an object with "cuts"`);
  const warnings: string[] = [];
  const out: TruthTransition[] = [];
  list.forEach((record, i) => {
    const t = transitionFromRecord(record, offset);
    if (t === undefined) warnings.push(`${source}[${i}]: skipped ${JSON.stringify(record)}`);
    else out.push(t);
  });
  out.sort((a, b) => a.frame - b.frame);
  return { value: out, warnings };
}

/** Parse a scenescope corpus truth file (see corpus.ts). */
export function parseCorpusTruth(json: unknown, source = 'truth file'): { transitions: TruthTransition[]; distractors: TruthDistractor[]; frame_count?: number; frame_rate?: number; video?: string; schema?: string } {
  const j = json as Record<string, unknown> | null;
  if (j === null || typeof j !== 'object' || !Array.isArray(j.transitions)) throw new InputError('UNSUPPORTED_FORMAT', `${source} has no "transitions" array`);
  const transitions: TruthTransition[] = [];
  for (const record of j.transitions) {
    const t = transitionFromRecord(record, 0);
    if (t !== undefined) transitions.push(t);
  }
  const distractors: TruthDistractor[] = [];
  for (const d of Array.isArray(j.distractors) ? j.distractors : []) {
    const r = d as Record<string, unknown>;
    if (typeof r.kind === 'string' && (DISTRACTOR_KINDS as readonly string[]).includes(r.kind) && typeof r.start_frame === 'number' && typeof r.end_frame === 'number') {
      distractors.push({ kind: r.kind as DistractorKind, start_frame: r.start_frame, end_frame: r.end_frame });
    }
  }
  const out: { transitions: TruthTransition[]; distractors: TruthDistractor[]; frame_count?: number; frame_rate?: number; video?: string; schema?: string } = { transitions, distractors };
  if (typeof j.schema === 'string') out.schema = j.schema;
  if (typeof j.frame_count === 'number') out.frame_count = j.frame_count;
  if (typeof j.frame_rate === 'number') out.frame_rate = j.frame_rate;
  if (typeof j.video === 'string') out.video = j.video;
  return out;
}

/** The file name a truth.json dataset is read from. */
export const TRUTH_FILE = 'truth.json';

/** One clip of a truth.json dataset, as {@link parseTruthJson} reads it. */
export interface TruthJsonClip {
  file: string;
  role: 'transitions' | 'negative';
  transitions: TruthTransition[];
  distractors: TruthDistractor[];
  frame_count?: number | undefined;
  frame_rate?: number | undefined;
}

/** The matching rule of ../shared/media/real/README.md, used when a truth.json has no `matching` block. */
export const DEFAULT_TRUTH_MATCHING: DatasetMatching = { cut_tolerance_frames: 1, gradual_tolerance_frames: 2, one_to_one: true };

const TRUTH_JSON_KINDS: readonly string[] = ['cut', 'dissolve', 'fade', 'wipe'];

/**
 * Parse a truth.json dataset (see the module header). Throws UNSUPPORTED_FORMAT when the file has no `clips`
 * array or its `matching` block is not one-to-one; transitions and spans that cannot be read are skipped with
 * a warning.
 */
export function parseTruthJson(json: unknown, source = TRUTH_FILE): Parsed<{ matching: DatasetMatching; clips: TruthJsonClip[] }> {
  const j = json as Record<string, unknown> | null;
  if (j === null || typeof j !== 'object' || !Array.isArray(j.clips)) throw new InputError('UNSUPPORTED_FORMAT', `${source} has no "clips" array`);
  const warnings: string[] = [];
  const m = (j.matching ?? {}) as Record<string, unknown>;
  const tolerance = (key: string, fallback: number): number => {
    const v = m[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 100) throw new InputError('UNSUPPORTED_FORMAT', `${source}: matching.${key} must be an integer 0-100, not ${JSON.stringify(v)}`);
    return v;
  };
  const matching: DatasetMatching = {
    cut_tolerance_frames: tolerance('cut_tolerance_frames', DEFAULT_TRUTH_MATCHING.cut_tolerance_frames),
    gradual_tolerance_frames: tolerance('gradual_tolerance_frames', DEFAULT_TRUTH_MATCHING.gradual_tolerance_frames),
    one_to_one: m.one_to_one === undefined ? true : m.one_to_one === true,
  };
  if (!matching.one_to_one) throw new InputError('UNSUPPORTED_FORMAT', `${source}: matching.one_to_one is false; the scorer only matches one to one`);
  const clips: TruthJsonClip[] = [];
  j.clips.forEach((raw, i) => {
    const c = raw as Record<string, unknown> | null;
    if (c === null || typeof c !== 'object' || typeof c.file !== 'string' || c.file === '') {
      warnings.push(`${source}: clips[${i}] has no "file"; skipped`);
      return;
    }
    const file = c.file;
    const role = c.role === 'negative' ? 'negative' : 'transitions';
    if (c.role !== undefined && c.role !== 'negative' && c.role !== 'transitions') warnings.push(`${source}: ${file}: unknown role ${JSON.stringify(c.role)}, read as "transitions"`);
    const frameCount = typeof c.frames === 'number' && Number.isInteger(c.frames) && c.frames > 0 ? c.frames : undefined;
    const frameRate = typeof c.fps === 'number' && c.fps > 0 ? c.fps : undefined;
    const transitions: TruthTransition[] = [];
    (Array.isArray(c.transitions) ? c.transitions : []).forEach((rt, k) => {
      const t = rt as Record<string, unknown> | null;
      const start = t?.start_frame;
      const end = t?.end_frame;
      if (t === null || typeof t !== 'object' || typeof t.kind !== 'string' || !TRUTH_JSON_KINDS.includes(t.kind) || !Number.isInteger(start) || !Number.isInteger(end) || (end as number) < (start as number)) {
        warnings.push(`${source}: ${file}: transitions[${k}] is not {kind: cut|dissolve|fade|wipe, start_frame <= end_frame}; skipped`);
        return;
      }
      const s = start as number;
      const e = end as number;
      const kind = t.kind as TruthKind;
      if (kind === 'cut' && s !== e) warnings.push(`${source}: ${file}: cut transitions[${k}] spans ${s}-${e}; matched at ${s}`);
      const frame = kind === 'cut' ? s : Math.floor((s + e + 1) / 2);
      transitions.push({ kind, start_frame: kind === 'cut' ? s : s, end_frame: kind === 'cut' ? s : e, frame, ...(t.uncertain === true ? { uncertain: true } : {}) });
    });
    transitions.sort((a, b) => a.frame - b.frame);
    const distractors: TruthDistractor[] = [];
    (Array.isArray(c.non_transitions) ? c.non_transitions : []).forEach((rn, k) => {
      const n = rn as Record<string, unknown> | null;
      if (n === null || typeof n !== 'object' || !Number.isInteger(n.start_frame) || !Number.isInteger(n.end_frame) || (n.end_frame as number) < (n.start_frame as number)) {
        warnings.push(`${source}: ${file}: non_transitions[${k}] is not {start_frame <= end_frame}; skipped`);
        return;
      }
      distractors.push({ kind: 'non_transition', start_frame: n.start_frame as number, end_frame: n.end_frame as number, ...(n.uncertain === true ? { uncertain: true } : {}), ...(typeof n.what === 'string' ? { what: n.what } : {}) });
    });
    // Specific spans first, so a false positive is charged to the span that says what happens there.
    distractors.sort((a, b) => a.end_frame - a.start_frame - (b.end_frame - b.start_frame));
    if (role === 'negative') distractors.push({ kind: 'negative', start_frame: 0, end_frame: (frameCount ?? 1e9) - 1, what: 'negative clip: the right answer is no boundary' });
    clips.push({ file, role, transitions, distractors, frame_count: frameCount, frame_rate: frameRate });
  });
  return { value: { matching, clips }, warnings };
}

// ---------------------------------------------------------------------------------------------------------
// Folders

async function walk(dir: string, out: string[] = [], depth = 0): Promise<string[]> {
  if (depth > 6) return out;
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) await walk(full, out, depth + 1);
    else if (e.isFile()) out.push(full);
  }
  return out.sort();
}

/** Lower-case name without extensions and the suffixes datasets add ("_gt", "-scenes", "bbc_"). */
export function annotationKey(file: string): string {
  let name = path.basename(file).toLowerCase();
  for (;;) {
    const ext = path.extname(name);
    if (ext === '' || !['.txt', '.json', '.csv', '.scenes', ...VIDEO_EXTENSIONS].includes(ext)) break;
    name = name.slice(0, -ext.length);
  }
  return name.replace(/^bbc_/, '').replace(/(_gt|-scenes|_scenes|_shots)$/, '');
}

function leadingNumber(key: string): number | undefined {
  const m = /^(\d+)(?:$|[^\d])/.exec(key);
  return m === null ? undefined : Number(m[1]);
}

/** Pair each video with the annotation file of the same key (or, failing that, the same leading number). */
function pairFiles(videos: readonly string[], annotations: readonly string[]): Map<string, string> {
  const byKey = new Map<string, string>();
  const byNumber = new Map<number, string[]>();
  for (const a of annotations) {
    const key = annotationKey(a);
    if (!byKey.has(key)) byKey.set(key, a);
    const n = leadingNumber(key);
    if (n !== undefined) byNumber.set(n, [...(byNumber.get(n) ?? []), a]);
  }
  const out = new Map<string, string>();
  for (const v of videos) {
    const key = annotationKey(v);
    const exact = byKey.get(key);
    if (exact !== undefined) {
      out.set(v, exact);
      continue;
    }
    const n = leadingNumber(key);
    const candidates = n === undefined ? undefined : byNumber.get(n);
    if (candidates !== undefined && candidates.length === 1) out.set(v, candidates[0]!);
  }
  return out;
}

function entry(video: string, truth: TruthTransition[], warnings: string[], extra: Partial<DatasetEntry> = {}): DatasetEntry {
  return { video, name: path.basename(video, path.extname(video)), truth, distractors: [], warnings, ...extra };
}

async function readJson(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InputError('UNSUPPORTED_FORMAT', `${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Read a dataset folder: every video in it (recursively) that has an annotation in the given format, with its
 * ground truth, sorted by path. Videos without annotation are reported through `onWarning` and left out.
 * Throws FILE_NOT_FOUND when the folder does not exist or holds no annotated video, UNSUPPORTED_FORMAT for
 * unreadable annotation files, INVALID_OPTION for bad options.
 */
export async function readDataset(dir: string, requested: DatasetFormat, options?: ReadDatasetOptions): Promise<DatasetEntry[]> {
  const o = plainOptions('readDataset options', options, ['frameOffset', 'onWarning']);
  const offset = opt(o, 'frameOffset', 0, (n, v) => integerIn(n, v, -1000, 1000));
  const warn = opt<(message: string) => void>(o, 'onWarning', () => undefined, func);
  let format = oneOf('format', requested, DATASET_FORMATS);
  const info = await stat(dir).catch(() => undefined);
  if (info === undefined || !info.isDirectory()) throw new InputError('FILE_NOT_FOUND', `Dataset folder ${dir} does not exist`);
  const files = await walk(path.resolve(dir));
  const videos = files.filter((f) => VIDEO_EXTENSIONS.includes(path.extname(f).toLowerCase()));
  const texts = files.filter((f) => path.extname(f).toLowerCase() === '.txt');
  const jsons = files.filter((f) => path.extname(f).toLowerCase() === '.json');
  const entries: DatasetEntry[] = [];
  if (format === 'auto') format = files.includes(path.join(path.resolve(dir), TRUTH_FILE)) ? 'truth' : 'scenescope';
  const missing = (v: string): void => warn(`${path.relative(dir, v)}: no ${format} annotation; skipped`);

  switch (format) {
    case 'truth': {
      const truthFile = path.join(path.resolve(dir), TRUTH_FILE);
      if (!files.includes(truthFile)) throw new InputError('FILE_NOT_FOUND', `No ${TRUTH_FILE} in ${dir}`);
      const parsed = parseTruthJson(await readJson(truthFile), truthFile);
      for (const w of parsed.warnings) warn(w);
      const byName = new Map(parsed.value.clips.map((c) => [c.file, c]));
      for (const c of parsed.value.clips) {
        const video = path.resolve(dir, c.file);
        if (!files.includes(video)) warn(`${c.file}: listed in ${TRUTH_FILE} but not in the folder; skipped`);
        else entries.push(entry(video, c.transitions, [], { distractors: c.distractors, frame_count: c.frame_count, frame_rate: c.frame_rate, matching: parsed.value.matching }));
      }
      for (const v of videos) if (!byName.has(path.relative(path.resolve(dir), v).split(path.sep).join('/'))) missing(v);
      break;
    }
    case 'scenescope': {
      for (const v of videos) {
        const truthFile = v.slice(0, -path.extname(v).length) + '.json';
        if (!jsons.includes(truthFile)) {
          missing(v);
          continue;
        }
        const t = parseCorpusTruth(await readJson(truthFile), truthFile);
        entries.push(entry(v, t.transitions, [], { distractors: t.distractors, frame_count: t.frame_count, frame_rate: t.frame_rate, schema: t.schema }));
      }
      break;
    }
    case 'bbc':
    case 'rai':
    case 'autoshot': {
      const labelFiles: string[] = [];
      const shotFiles: string[] = [];
      for (const t of texts) {
        const first = (await readFile(t, 'utf8')).slice(0, 400).split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
        if (/^\s*\S+\.(mp4|mkv|mov|avi|webm)\s+\d*\s*$/i.test(first)) labelFiles.push(t);
        // A shot list's lines hold two numbers (a few more columns at most); a BBC scene file is one long list.
        else if (/^\s*\d+([\s,;]+\d+){1,3}\s*$/.test(first)) shotFiles.push(t);
      }
      const labels = new Map<string, { pairs: [number, number][]; frame_count: number | undefined; source: string }>();
      const labelWarnings: string[] = [];
      for (const f of labelFiles) {
        const parsed = parseAutoShotLabels(await readFile(f, 'utf8'), path.basename(f));
        labelWarnings.push(...parsed.warnings);
        for (const [name, value] of parsed.value) labels.set(name.toLowerCase(), { ...value, source: path.basename(f) });
      }
      const paired = pairFiles(videos, shotFiles);
      for (const v of videos) {
        const shotFile = paired.get(v);
        if (shotFile !== undefined) {
          const shots = parseShotList(await readFile(shotFile, 'utf8'), path.basename(shotFile));
          const last = shots.value[shots.value.length - 1];
          entries.push(entry(v, shotsToTransitions(shots.value, offset), shots.warnings, { frame_count: last === undefined ? undefined : last[1] + 1 }));
          continue;
        }
        const label = labels.get(path.basename(v).toLowerCase());
        if (label !== undefined) {
          const t = pairsToTransitions(label.pairs, offset, `${label.source}:${path.basename(v)}`);
          entries.push(entry(v, t.value, t.warnings, { frame_count: label.frame_count }));
          continue;
        }
        missing(v);
      }
      for (const w of labelWarnings) warn(w);
      break;
    }
    case 'clipshots': {
      const annotations = new Map<string, { pairs: [number, number][]; frame_count: number | undefined; source: string }>();
      for (const f of jsons) {
        let parsed;
        try {
          parsed = parseClipShots(await readJson(f), f);
        } catch {
          continue;
        }
        for (const [name, value] of parsed) annotations.set(name.toLowerCase(), { ...value, source: path.basename(f) });
      }
      for (const v of videos) {
        const a = annotations.get(path.basename(v).toLowerCase());
        if (a === undefined) {
          missing(v);
          continue;
        }
        const t = pairsToTransitions(a.pairs, offset, `${a.source}:${path.basename(v)}`);
        entries.push(entry(v, t.value, t.warnings, { frame_count: a.frame_count }));
      }
      break;
    }
    case 'csv': {
      const lists = files.filter((f) => ['.csv', '.txt', '.json'].includes(path.extname(f).toLowerCase()) && !VIDEO_EXTENSIONS.includes(path.extname(f).toLowerCase()));
      const shared = new Map<string, unknown>();
      for (const f of jsons) {
        const j = await readJson(f).catch(() => undefined);
        if (j !== null && typeof j === 'object' && !Array.isArray(j) && !('cuts' in j) && !('transitions' in j)) {
          for (const [name, value] of Object.entries(j)) if (Array.isArray(value)) shared.set(name.toLowerCase(), value);
        }
      }
      const paired = pairFiles(videos, lists);
      for (const v of videos) {
        const file = paired.get(v);
        if (file !== undefined && !shared.has(path.basename(v).toLowerCase())) {
          const parsed = path.extname(file).toLowerCase() === '.json' ? parseCutJson(await readJson(file), offset, path.basename(file)) : parseCutCsv(await readFile(file, 'utf8'), offset, path.basename(file));
          entries.push(entry(v, parsed.value, parsed.warnings));
          continue;
        }
        const list = shared.get(path.basename(v).toLowerCase());
        if (list !== undefined) {
          const parsed = parseCutJson(list, offset, path.basename(v));
          entries.push(entry(v, parsed.value, parsed.warnings));
          continue;
        }
        missing(v);
      }
      break;
    }
  }
  if (entries.length === 0) throw new InputError('FILE_NOT_FOUND', `No video with a ${format} annotation in ${dir}`);
  return entries;
}
