/**
 * The model registry: `models/manifest.json` lists every model the engine knows (id, task, files with sha256,
 * licence, official download address, input/output spec). Model files are never committed; they live in a
 * models folder laid out as `<modelsDir>/<entry.dir ?? entry.id>/<file name>`, which is exactly the layout of
 * `../shared/models`, of a USB stick prepared with `scenescope models fetch`, and of the default folder.
 *
 * This module only reads: it finds the manifest, resolves the models folder and checks what is installed.
 * Copying and downloading live in `install.ts` and `fetch.ts`.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelError, throwIfAborted } from '../errors.js';
import { modelsDir as modelsDirFor } from '../util/paths.js';

/** The tasks a registered model can serve. */
export const MODEL_TASKS = ['classify', 'embed', 'detect-objects', 'detect-text', 'text-direction', 'recognize-text', 'caption'] as const;

/** What a model is for. */
export type ModelTask = (typeof MODEL_TASKS)[number];

/** One file of a model, as listed in the manifest. */
export interface ModelFile {
  /** Plain file name inside the model's folder (no path separators). */
  name: string;
  /**
   * Lowercase hex sha256 of the file's bytes. The empty string means "not pinned": the file comes from an
   * immutable (commit-pinned) address but no hash was published for it, so only presence and size are checked.
   */
  sha256: string;
  /** Size in bytes, when known; checked cheaply on every lookup (catches truncated copies). */
  bytes?: number;
  /** Official download address. */
  url: string;
  /**
   * When true the model works without this file: it is installed and fetched when available, verified when
   * present, and left out of `files` when absent.
   */
  optional?: boolean;
  /**
   * Set when the file has no official download of its own (it was derived from the file at `url`); says how.
   * `models fetch` skips such files with this explanation; install them with `models install --from`.
   */
  derived?: string;
  /**
   * Upper bound in bytes for a file whose exact size is not pinned (`bytes` absent): a download or copy past it
   * is refused, so a hostile mirror cannot fill the disk.
   */
  maxBytes?: number;
  /**
   * For a JSON file without a pinned sha256: it must parse as a JSON object holding these top-level keys
   * (an empty list: any object). Checked on install, on fetch and on every verified lookup.
   */
  json?: string[];
}

/** One model, as listed in the manifest. */
export interface ModelEntry {
  /** Stable id; also the folder name under the models folder unless `dir` says otherwise. */
  id: string;
  task: ModelTask;
  version: string;
  /** SPDX id or a short licence statement. */
  license: string;
  /** Where people read about the model. */
  homepage: string;
  files: ModelFile[];
  /** Input spec (free-form, for people and for the code that feeds the model). */
  inputs: unknown;
  /** Output spec (free-form). */
  outputs: unknown;
  notes?: string;
  /** Folder name under the models folder when several entries share one folder (default: `id`). */
  dir?: string;
  /**
   * Set when the analysis pipeline does not use this model; says why. Such entries stay in the manifest so
   * existing folders still verify and install, but `models list` leaves them out (unless `--all`).
   */
  unused?: string;
}

/** Where a model was found, or why it was not. */
export type ModelLocation =
  | { ok: true; id: string; dir: string; files: Record<string, string> }
  | { ok: false; id: string; reason: string; hint: string };

/** Status of one file of one model in a models folder. */
export interface ModelFileStatus {
  name: string;
  path: string;
  optional: boolean;
  /** `unverified`: present with the right size but its hash was not checked (verify: false, or no pinned hash). */
  state: 'ok' | 'unverified' | 'missing' | 'corrupt';
  /** Why the file is missing or corrupt. */
  reason?: string;
}

/** Status of one model in a models folder. */
export interface ModelStatus {
  id: string;
  task: ModelTask;
  version: string;
  dir: string;
  /** `installed`: every required file present (and verified when asked); `partial`: some required files missing. */
  state: 'installed' | 'missing' | 'partial' | 'corrupt';
  files: ModelFileStatus[];
  /** One line for people when the state is not `installed`. */
  reason?: string;
}

/** Options for {@link locateModel} and {@link checkModel}. */
export interface LocateOptions {
  /** The models folder (default {@link defaultModelsDir}). */
  modelsDir?: string;
  /**
   * Check every file's sha256 (default false: only presence and size). Hashes are cached in memory by
   * (path, size, mtime), so a second check of an unchanged file is free.
   */
  verify?: boolean;
  /** A manifest to use instead of the packaged one (tests, mirrors). */
  manifest?: readonly ModelEntry[];
  /** Cancels hashing (AbortError). */
  signal?: AbortSignal;
}

const ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,99}$/;
const FILE_PATTERN = /^(?!\.\.?$)[A-Za-z0-9._+-]{1,200}$/;
const SHA_PATTERN = /^[0-9a-f]{64}$/;

let packageRootCache: string | undefined;

/**
 * The package root: the nearest folder above this module whose package.json is named "scenescope". Works from
 * `src/` (ts-node style runs) and from `dist/src/`.
 * @throws ModelError MODEL_UNAVAILABLE when no such folder exists (a broken install).
 */
export function packageRoot(): string {
  if (packageRootCache !== undefined) return packageRootCache;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      try {
        const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: unknown };
        if (pkg.name === 'scenescope') {
          packageRootCache = dir;
          return dir;
        }
      } catch {
        // Not ours or unreadable: keep walking up.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new ModelError('MODEL_UNAVAILABLE', 'Cannot find the scenescope package root (package.json named "scenescope") above ' + fileURLToPath(import.meta.url));
}

/** Path of the packaged manifest, `models/manifest.json` under the package root. */
export function manifestPath(): string {
  return join(packageRoot(), 'models', 'manifest.json');
}

const manifestCache = new Map<string, ModelEntry[]>();

/**
 * Read and validate a model manifest (default: the packaged `models/manifest.json`). The result is cached per
 * path; callers must not mutate it.
 * @throws ModelError MODEL_UNAVAILABLE when the manifest is missing, not JSON, or malformed (the message names
 *   the entry and field).
 */
export function loadManifest(path?: string): ModelEntry[] {
  const file = resolve(path ?? manifestPath());
  const cached = manifestCache.get(file);
  if (cached !== undefined) return cached;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ModelError('MODEL_UNAVAILABLE', `Cannot read the model manifest ${file}: ${(error as Error).message}`, { cause: error, details: { path: file } });
  }
  const entries = parseManifest(raw, file);
  manifestCache.set(file, entries);
  return entries;
}

/**
 * Validate a manifest already parsed from JSON: either `{ "models": [...] }` or a bare array of entries.
 * @throws ModelError MODEL_UNAVAILABLE naming the first bad field.
 */
export function parseManifest(raw: unknown, source = 'manifest'): ModelEntry[] {
  const list = Array.isArray(raw) ? raw : raw !== null && typeof raw === 'object' ? (raw as { models?: unknown }).models : undefined;
  const bad = (what: string): ModelError => new ModelError('MODEL_UNAVAILABLE', `Invalid model manifest ${source}: ${what}`, { details: { path: source } });
  if (!Array.isArray(list)) throw bad('expected an object with a "models" array');
  const seen = new Set<string>();
  const entries: ModelEntry[] = [];
  list.forEach((item: unknown, index) => {
    if (item === null || typeof item !== 'object') throw bad(`models[${index}] is not an object`);
    const e = item as Record<string, unknown>;
    const where = `models[${index}]${typeof e.id === 'string' ? ` (${e.id})` : ''}`;
    const str = (key: string): string => {
      const value = e[key];
      if (typeof value !== 'string' || value.length === 0) throw bad(`${where}.${key} must be a non-empty string`);
      return value;
    };
    const id = str('id');
    if (!ID_PATTERN.test(id)) throw bad(`${where}.id must match ${ID_PATTERN}`);
    if (seen.has(id)) throw bad(`${where}.id is a duplicate`);
    seen.add(id);
    const task = str('task');
    if (!(MODEL_TASKS as readonly string[]).includes(task)) throw bad(`${where}.task must be one of ${MODEL_TASKS.join(', ')}`);
    if (e.dir !== undefined && (typeof e.dir !== 'string' || !ID_PATTERN.test(e.dir))) throw bad(`${where}.dir must match ${ID_PATTERN}`);
    if (!Array.isArray(e.files) || e.files.length === 0) throw bad(`${where}.files must be a non-empty array`);
    const names = new Set<string>();
    const files: ModelFile[] = e.files.map((f: unknown, j) => {
      const fw = `${where}.files[${j}]`;
      if (f === null || typeof f !== 'object') throw bad(`${fw} is not an object`);
      const o = f as Record<string, unknown>;
      if (typeof o.name !== 'string' || !FILE_PATTERN.test(o.name)) throw bad(`${fw}.name must be a plain file name`);
      if (names.has(o.name)) throw bad(`${fw}.name is a duplicate`);
      names.add(o.name);
      if (typeof o.sha256 !== 'string' || (o.sha256 !== '' && !SHA_PATTERN.test(o.sha256))) throw bad(`${fw}.sha256 must be 64 lowercase hex digits (or "" when not pinned)`);
      if (typeof o.url !== 'string' || !/^https?:\/\//.test(o.url)) throw bad(`${fw}.url must be an http(s) address`);
      if (o.bytes !== undefined && (typeof o.bytes !== 'number' || !Number.isSafeInteger(o.bytes) || o.bytes < 0)) throw bad(`${fw}.bytes must be a non-negative integer`);
      if (o.optional !== undefined && typeof o.optional !== 'boolean') throw bad(`${fw}.optional must be a boolean`);
      if (o.derived !== undefined && typeof o.derived !== 'string') throw bad(`${fw}.derived must be a string`);
      if (o.maxBytes !== undefined && (typeof o.maxBytes !== 'number' || !Number.isSafeInteger(o.maxBytes) || o.maxBytes <= 0)) throw bad(`${fw}.maxBytes must be a positive integer`);
      if (o.json !== undefined && (!Array.isArray(o.json) || !o.json.every((k) => typeof k === 'string'))) throw bad(`${fw}.json must be an array of key names`);
      if (o.sha256 === '' && o.bytes === undefined && o.maxBytes === undefined) throw bad(`${fw} pins neither sha256 nor bytes, so it needs maxBytes`);
      const file: ModelFile = { name: o.name, sha256: o.sha256, url: o.url };
      if (o.bytes !== undefined) file.bytes = o.bytes as number;
      if (o.optional === true) file.optional = true;
      if (typeof o.derived === 'string') file.derived = o.derived;
      if (o.maxBytes !== undefined) file.maxBytes = o.maxBytes as number;
      if (Array.isArray(o.json)) file.json = [...(o.json as string[])];
      return file;
    });
    if (files.every((f) => f.optional === true)) throw bad(`${where}.files must hold at least one required file`);
    const entry: ModelEntry = {
      id,
      task: task as ModelTask,
      version: str('version'),
      license: str('license'),
      homepage: str('homepage'),
      files,
      inputs: e.inputs ?? null,
      outputs: e.outputs ?? null,
    };
    if (typeof e.notes === 'string') entry.notes = e.notes;
    if (typeof e.dir === 'string') entry.dir = e.dir;
    if (e.unused !== undefined) {
      if (typeof e.unused !== 'string' || e.unused.length === 0) throw bad(`${where}.unused must be a non-empty string (why the pipeline does not use it)`);
      entry.unused = e.unused;
    }
    entries.push(entry);
  });
  return entries;
}

/**
 * The models folder: `SCENESCOPE_MODELS_DIR` when set; otherwise the per-user data folder,
 * `$XDG_DATA_HOME/scenescope/models` (XDG_DATA_HOME defaults to `~/.local/share`), and on Windows
 * `%LOCALAPPDATA%\scenescope\models`.
 */
export function defaultModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  return modelsDirFor({ env });
}

/** Folder of one model inside a models folder. */
export function modelDir(modelsDir: string, entry: ModelEntry): string {
  return join(modelsDir, entry.dir ?? entry.id);
}

/**
 * The manifest entry with this id.
 * @throws ModelError MODEL_UNAVAILABLE for an unknown id (the message lists the known ids).
 */
export function getModelEntry(id: string, manifest: readonly ModelEntry[] = loadManifest()): ModelEntry {
  const entry = manifest.find((e) => e.id === id);
  if (entry === undefined) {
    throw new ModelError('MODEL_UNAVAILABLE', `Unknown model id "${id}"; known ids: ${manifest.map((e) => e.id).join(', ')}`, { details: { id } });
  }
  return entry;
}

const hashCache = new Map<string, { size: number; mtimeMs: number; sha256: string }>();

/**
 * sha256 of a file, cached in memory by (path, size, mtime) so that re-checking an unchanged file costs one stat.
 * @throws the fs error when the file cannot be read.
 */
export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const info = await stat(path);
  const cached = hashCache.get(path);
  if (cached !== undefined && cached.size === info.size && cached.mtimeMs === info.mtimeMs) return cached.sha256;
  const hash = createHash('sha256');
  const stream = createReadStream(path, signal === undefined ? {} : { signal });
  for await (const chunk of stream) hash.update(chunk as Buffer);
  const digest = hash.digest('hex');
  hashCache.set(path, { size: info.size, mtimeMs: info.mtimeMs, sha256: digest });
  return digest;
}

/**
 * Why the bytes of a JSON file without a pinned hash do not have the shape its manifest line asks for
 * (`json`), or undefined when they do (or when no shape is asked for).
 */
export function jsonShapeProblem(file: ModelFile, bytes: Buffer): string | undefined {
  if (file.json === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return `${file.name} is not valid JSON (${(error as Error).message})`;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return `${file.name} is not a JSON object`;
  const absent = file.json.filter((key) => !(key in (value as Record<string, unknown>)));
  if (absent.length > 0) return `${file.name} lacks the key${absent.length > 1 ? 's' : ''} ${absent.map((k) => `"${k}"`).join(', ')}`;
  return undefined;
}

/** Check one file against its manifest line. */
export async function checkFile(path: string, file: ModelFile, verify: boolean, signal?: AbortSignal): Promise<ModelFileStatus> {
  const base = { name: file.name, path, optional: file.optional === true };
  let size: number;
  try {
    const info = statSync(path);
    if (!info.isFile()) return { ...base, state: 'missing', reason: `${file.name} is not a regular file` };
    size = info.size;
  } catch {
    return { ...base, state: 'missing', reason: `${file.name} is missing` };
  }
  if (file.bytes !== undefined && size !== file.bytes) {
    return { ...base, state: 'corrupt', reason: `${file.name} has ${size} bytes, expected ${file.bytes}` };
  }
  if (file.maxBytes !== undefined && size > file.maxBytes) {
    return { ...base, state: 'corrupt', reason: `${file.name} has ${size} bytes, more than the ${file.maxBytes} allowed` };
  }
  if (!verify) return { ...base, state: 'unverified' };
  if (file.sha256 === '') {
    if (file.json !== undefined) {
      let problem: string | undefined;
      try {
        problem = jsonShapeProblem(file, readFileSync(path));
      } catch (error) {
        problem = `${file.name} cannot be read: ${(error as Error).message}`;
      }
      if (problem !== undefined) return { ...base, state: 'corrupt', reason: problem };
    }
    return { ...base, state: 'unverified', reason: `${file.name} has no pinned sha256 (presence, size bound${file.json === undefined ? '' : ' and JSON shape'} checked only)` };
  }
  let digest: string;
  try {
    digest = await sha256File(path, signal);
  } catch (error) {
    throwIfAborted(signal);
    return { ...base, state: 'corrupt', reason: `${file.name} cannot be read: ${(error as Error).message}` };
  }
  if (digest !== file.sha256) {
    return { ...base, state: 'corrupt', reason: `${file.name} fails verification: sha256 ${digest}, expected ${file.sha256}` };
  }
  return { ...base, state: 'ok' };
}

/** The files of a model that make it installable (required ones). */
function required(files: readonly ModelFileStatus[]): ModelFileStatus[] {
  return files.filter((f) => !f.optional);
}

/**
 * The full status of one model in a models folder: every file, and one state for the model. A corrupt optional
 * file makes the model corrupt (it would be loaded); a missing optional file does not matter.
 */
export async function checkModel(entry: ModelEntry, options: { modelsDir?: string; verify?: boolean; signal?: AbortSignal } = {}): Promise<ModelStatus> {
  const modelsDir = resolve(options.modelsDir ?? defaultModelsDir());
  const dir = modelDir(modelsDir, entry);
  const files: ModelFileStatus[] = [];
  for (const file of entry.files) files.push(await checkFile(join(dir, file.name), file, options.verify === true, options.signal));
  const base = { id: entry.id, task: entry.task, version: entry.version, dir, files };
  const corrupt = files.filter((f) => f.state === 'corrupt');
  const missing = required(files).filter((f) => f.state === 'missing');
  if (corrupt.length > 0) return { ...base, state: 'corrupt', reason: corrupt.map((f) => f.reason).join('; ') };
  if (missing.length === required(files).length) {
    return { ...base, state: 'missing', reason: existsSync(dir) ? `no model files in ${dir}` : `${dir} does not exist` };
  }
  if (missing.length > 0) return { ...base, state: 'partial', reason: missing.map((f) => f.reason).join('; ') + ` (in ${dir})` };
  return { ...base, state: 'installed' };
}

/** The one-line "how to install" for a model. */
export function installHint(id: string, modelsDir: string): string {
  return (
    `Install it with "scenescope models install --from <folder>" (a folder, e.g. a USB stick, holding ${id}/<files>) ` +
    `or "scenescope models fetch ${id}" on a connected machine; models folder: ${modelsDir} ` +
    `(change it with --models or SCENESCOPE_MODELS_DIR)`
  );
}

/**
 * Check that a models folder someone named exists: a typo would otherwise run a whole analysis without models.
 * (The default folder may be absent: that is every fresh install, so callers check only a folder that was given.)
 * @throws ModelError MODELS_DIR_NOT_FOUND when `dir` does not exist or is not a folder.
 */
export async function requireModelsDir(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => null);
  if (info === null || !info.isDirectory()) {
    throw new ModelError(
      'MODELS_DIR_NOT_FOUND',
      `The models folder ${dir} ${info === null ? 'does not exist' : 'is not a folder'}. Fill it with "scenescope models install --from <folder> --models ${dir}", or leave --models (and SCENESCOPE_MODELS_DIR) out to use the default folder`,
      { details: { path: dir } },
    );
  }
}

/**
 * Find an installed model. Never throws for a missing or corrupt model: the result says why and how to install it.
 * With `verify: true` every file's sha256 is checked (cached by path, size and mtime).
 * @throws ModelError MODEL_UNAVAILABLE only when the manifest itself cannot be read; AbortError.
 */
export async function locateModel(id: string, options: LocateOptions = {}): Promise<ModelLocation> {
  const modelsDir = resolve(options.modelsDir ?? defaultModelsDir());
  const manifest = options.manifest ?? loadManifest();
  const entry = manifest.find((e) => e.id === id);
  if (entry === undefined) {
    return { ok: false, id, reason: `unknown model id "${id}" (known: ${manifest.map((e) => e.id).join(', ')})`, hint: 'Use an id from "scenescope models list"' };
  }
  const status = await checkModel(entry, { modelsDir, verify: options.verify === true, ...(options.signal === undefined ? {} : { signal: options.signal }) });
  if (status.state !== 'installed') {
    return { ok: false, id, reason: `model ${id} is ${status.state}: ${status.reason ?? ''}`.trim(), hint: installHint(id, modelsDir) };
  }
  const files: Record<string, string> = {};
  for (const f of status.files) if (f.state === 'ok' || f.state === 'unverified') files[f.name] = f.path;
  return { ok: true, id, dir: status.dir, files };
}

/**
 * Like {@link locateModel} but throws when the model is not usable.
 * @throws ModelError MODEL_UNAVAILABLE with the reason and the install hint (in `details.hint`).
 */
export async function requireModel(id: string, options: LocateOptions = {}): Promise<Extract<ModelLocation, { ok: true }>> {
  const location = await locateModel(id, options);
  if (!location.ok) {
    throw new ModelError('MODEL_UNAVAILABLE', `${location.reason}. ${location.hint}`, { details: { id, reason: location.reason, hint: location.hint } });
  }
  return location;
}
