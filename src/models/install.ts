/**
 * `models install --from <dir>`: the air-gapped path. Copies model files from a folder (a USB stick, a network
 * share, `../shared/models`) into the models folder, hashing while copying, and renames each file into place only
 * once its size and sha256 match the manifest, so an interrupted or corrupt copy never looks installed.
 *
 * A source folder may be laid out like the models folder (`<from>/<id>/<file>`), like an unmodified Hugging Face
 * snapshot (`<from>/<id>/onnx/<file>`), or flat (`<from>/<file>`, when it holds one model).
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants, createReadStream, statSync } from 'node:fs';
import { lstat, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { ModelError, throwIfAborted } from '../errors.js';
import { checkFile, checkModel, defaultModelsDir, jsonShapeProblem, loadManifest, modelDir, type ModelEntry, type ModelFile, type ModelStatus } from './registry.js';

/** What happened to one file. */
export interface FileAction {
  id: string;
  file: string;
  /**
   * `installed`: copied or downloaded and verified; `present`: already installed and verified, left alone;
   * `not-found`: the source has no such file (or a derived file has no download); `failed`: see `reason`.
   */
  action: 'installed' | 'present' | 'not-found' | 'failed';
  reason?: string;
  /** Bytes written (installed files). */
  bytes?: number;
}

/** The outcome of an install or fetch. */
export interface InstallReport {
  modelsDir: string;
  files: FileAction[];
  /** Status of every selected model afterwards (verified). */
  models: ModelStatus[];
  /** False when a file failed, or when a model named explicitly is not installed afterwards. */
  ok: boolean;
}

/** Progress of a copy or download. */
export interface InstallProgress {
  id: string;
  file: string;
  /** Bytes done so far for this file (including bytes resumed from an earlier attempt). */
  done: number;
  /** Total bytes when known. */
  total: number | undefined;
}

/** Options shared by install and fetch. */
export interface CommonInstallOptions {
  /** Destination models folder (default {@link defaultModelsDir}). */
  modelsDir?: string;
  /** Model ids to install (default: every model in the manifest). */
  ids?: readonly string[];
  /** Manifest to use instead of the packaged one. */
  manifest?: readonly ModelEntry[];
  /** Also install optional files (install: default true, when the source has them; fetch: default false). */
  includeOptional?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: InstallProgress) => void;
}

/** Options of {@link installModels}. */
export interface InstallOptions extends CommonInstallOptions {
  /** Folder to copy from. */
  from: string;
}

/**
 * The manifest entries named by `ids` (all when empty), in manifest order.
 * @throws ModelError MODEL_UNAVAILABLE for an unknown id.
 */
export function selectEntries(manifest: readonly ModelEntry[], ids: readonly string[] | undefined): ModelEntry[] {
  if (ids === undefined || ids.length === 0) return [...manifest];
  const unknown = ids.filter((id) => !manifest.some((e) => e.id === id));
  if (unknown.length > 0) {
    throw new ModelError('MODEL_UNAVAILABLE', `Unknown model id${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}; known ids: ${manifest.map((e) => e.id).join(', ')}`, {
      details: { ids: unknown },
    });
  }
  return manifest.filter((e) => ids.includes(e.id));
}

/** A temporary name next to the destination, so the final rename stays on one filesystem (atomic). */
export function temporaryPath(destination: string): string {
  return join(resolve(destination, '..'), `.${basename(destination)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Check size and sha256 of a finished temporary file against the manifest line.
 * @returns undefined when it matches, otherwise the reason.
 */
export function mismatch(file: ModelFile, size: number, sha256: string): string | undefined {
  if (file.bytes !== undefined && size !== file.bytes) return `${file.name} has ${size} bytes, expected ${file.bytes}`;
  if (file.maxBytes !== undefined && size > file.maxBytes) return `${file.name} has ${size} bytes, more than the ${file.maxBytes} allowed`;
  if (file.sha256 !== '' && sha256 !== file.sha256) return `${file.name} fails verification: sha256 ${sha256}, expected ${file.sha256}`;
  return undefined;
}

/**
 * {@link mismatch}, then the JSON shape of a file that has no pinned hash (read from `path`, already bounded by
 * `maxBytes`).
 * @internal shared by install and fetch.
 */
export async function verifyProblem(file: ModelFile, path: string, size: number, sha256: string): Promise<string | undefined> {
  const bad = mismatch(file, size, sha256);
  if (bad !== undefined || file.json === undefined || file.sha256 !== '') return bad;
  return jsonShapeProblem(file, await readFile(path));
}

/**
 * The model's folder inside the models folder, created when absent. A symbolic link there (or anything but a
 * directory) is refused: whoever can write into a shared models folder must not be able to redirect our writes.
 * @throws ModelError MODEL_UNAVAILABLE.
 */
export async function ensureModelDir(modelsDir: string, dir: string): Promise<void> {
  await mkdir(modelsDir, { recursive: true });
  try {
    await mkdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const info = await lstat(dir);
  if (info.isSymbolicLink() || !info.isDirectory()) {
    throw new ModelError('MODEL_UNAVAILABLE', `${dir} is ${info.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}; refusing to write model files through it`, { details: { dir } });
  }
}

/**
 * Remove whatever sits at a model file's final name when it is not a regular file we may replace (a symbolic
 * link is unlinked, never followed), so the final rename cannot be redirected.
 */
export async function clearDestination(destination: string): Promise<void> {
  try {
    const info = await lstat(destination);
    if (info.isSymbolicLink() || !info.isFile()) await rm(destination, { force: true, recursive: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Flags for a new temporary file: created here and now (never an existing file), never through a link. */
export const EXCLUSIVE_CREATE = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | (fsConstants.O_NOFOLLOW ?? 0);

/** Copy `source` to `destination` through a temporary file, verifying on the way; atomic rename at the end. */
async function copyVerified(source: string, destination: string, file: ModelFile, report: (done: number, total: number | undefined) => void, signal?: AbortSignal): Promise<number> {
  const total = statSync(source).size;
  const tmp = temporaryPath(destination);
  const hash = createHash('sha256');
  let size = 0;
  const handle = await open(tmp, EXCLUSIVE_CREATE, 0o644);
  try {
    for await (const chunk of createReadStream(source, signal === undefined ? { highWaterMark: 1 << 20 } : { highWaterMark: 1 << 20, signal })) {
      const buffer = chunk as Buffer;
      hash.update(buffer);
      await handle.write(buffer);
      size += buffer.length;
      report(size, total);
    }
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throwIfAborted(signal);
    throw error;
  }
  await handle.close();
  const bad = await verifyProblem(file, tmp, size, hash.digest('hex'));
  if (bad !== undefined) {
    await rm(tmp, { force: true });
    throw new ModelError('MODEL_UNAVAILABLE', `${bad} (source ${source}); not installed`, { details: { source, file: file.name } });
  }
  await clearDestination(destination);
  await rename(tmp, destination);
  return size;
}

/** Where a file may sit in a source folder, most specific first. */
function sourceCandidates(from: string, entry: ModelEntry, file: ModelFile): string[] {
  const dirs = [...new Set([entry.dir ?? entry.id, entry.id])];
  return [...dirs.flatMap((d) => [join(from, d, file.name), join(from, d, 'onnx', file.name)]), join(from, file.name)];
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Summarise actions into a report: verified status of every selected model, and `ok`.
 * @internal shared by install and fetch.
 */
export async function finishReport(modelsDir: string, entries: readonly ModelEntry[], files: FileAction[], explicit: boolean, signal?: AbortSignal): Promise<InstallReport> {
  const models: ModelStatus[] = [];
  for (const entry of entries) models.push(await checkModel(entry, { modelsDir, verify: true, ...(signal === undefined ? {} : { signal }) }));
  const failed = files.some((f) => f.action === 'failed');
  const missing = explicit && models.some((m) => m.state !== 'installed');
  return { modelsDir, files, models, ok: !failed && !missing };
}

/**
 * Copy and verify model files from a folder into the models folder. Files already installed and verified are left
 * alone; files the source lacks are reported as `not-found`; a file whose size or sha256 differs from the manifest
 * is not installed (`failed`). Never leaves a partial file under its final name.
 * @throws ModelError MODEL_UNAVAILABLE for an unknown id or a source folder that does not exist; AbortError.
 */
export async function installModels(options: InstallOptions): Promise<InstallReport> {
  const from = resolve(options.from);
  try {
    if (!statSync(from).isDirectory()) throw new Error('not a directory');
  } catch (error) {
    throw new ModelError('MODEL_UNAVAILABLE', `Cannot install from ${from}: not a readable folder`, { cause: error, details: { from } });
  }
  const modelsDir = resolve(options.modelsDir ?? defaultModelsDir());
  const entries = selectEntries(options.manifest ?? loadManifest(), options.ids);
  const includeOptional = options.includeOptional ?? true;
  const actions: FileAction[] = [];
  for (const entry of entries) {
    const dir = modelDir(modelsDir, entry);
    for (const file of entry.files) {
      throwIfAborted(options.signal);
      if (file.optional === true && !includeOptional) continue;
      const destination = join(dir, file.name);
      const current = await checkFile(destination, file, true, options.signal);
      if (current.state === 'ok' || (current.state === 'unverified' && file.sha256 === '')) {
        actions.push({ id: entry.id, file: file.name, action: 'present' });
        continue;
      }
      const source = sourceCandidates(from, entry, file).find(isFile);
      if (source === undefined) {
        if (file.optional === true) continue;
        actions.push({ id: entry.id, file: file.name, action: 'not-found', reason: `${file.name} not found under ${from}` });
        continue;
      }
      try {
        await ensureModelDir(modelsDir, dir);
        const bytes = await copyVerified(source, destination, file, (done, total) => options.onProgress?.({ id: entry.id, file: file.name, done, total }), options.signal);
        actions.push({ id: entry.id, file: file.name, action: 'installed', bytes });
      } catch (error) {
        throwIfAborted(options.signal);
        actions.push({ id: entry.id, file: file.name, action: 'failed', reason: (error as Error).message });
      }
    }
  }
  const explicit = options.ids !== undefined && options.ids.length > 0;
  return finishReport(modelsDir, entries, explicit ? actions : collapseAbsent(actions, from), explicit, options.signal);
}

/** When installing everything, a model the source lacks entirely is one line, not one line per file. */
function collapseAbsent(actions: FileAction[], from: string): FileAction[] {
  const out: FileAction[] = [];
  for (const action of actions) {
    const mine = actions.filter((a) => a.id === action.id);
    if (!mine.every((a) => a.action === 'not-found')) {
      out.push(action);
    } else if (out.every((a) => a.id !== action.id)) {
      out.push({ id: action.id, file: '*', action: 'not-found', reason: `no files of ${action.id} under ${from}` });
    }
  }
  return out;
}
