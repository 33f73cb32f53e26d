/**
 * `models fetch`: download model files from the manifest's addresses on a connected machine.
 *
 * Each file is downloaded into `<modelsDir>/<dir>/<name>.<random>.part`, created exclusively (`O_EXCL |
 * O_NOFOLLOW`), so a name planted in a shared models folder (a symbolic link, a hard link, someone else's file)
 * is never opened for writing. An interrupted download (dropped connection, stall, Ctrl-C) leaves the `.part`
 * file behind and the next attempt asks the server for the rest with an HTTP Range request; a `.part` is resumed
 * only when it is a regular file of ours with one link, opened without following links. A server that ignores
 * Range (200 instead of 206) makes the download start over. Once complete the file is checked against the
 * manifest's size (or size bound) and sha256 (or JSON shape) and only then renamed to its final name (atomic on
 * one filesystem; a link at the final name is replaced, not followed). A file that fails verification or grows
 * past its size is deleted, `.part` included, so bad bytes are never resumed. The model's folder itself must be
 * a real directory, not a link.
 *
 * A mirror (an internal web server, or the tests' server on 127.0.0.1) replaces every address with
 * `<baseUrl>/<dir>/<name>`: the layout of the models folder itself, so any models folder served over HTTP is a
 * mirror.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { lstat, open, readdir, rename, rm, rmdir, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { AbortError, ModelError, throwIfAborted } from '../errors.js';
import { clearDestination, ensureModelDir, EXCLUSIVE_CREATE, finishReport, selectEntries, verifyProblem, type CommonInstallOptions, type FileAction, type InstallReport } from './install.js';
import { checkFile, defaultModelsDir, loadManifest, modelDir, type ModelEntry, type ModelFile } from './registry.js';

/** Options of {@link fetchModels}. */
export interface FetchOptions extends CommonInstallOptions {
  /**
   * Mirror base address: every file is fetched from `<baseUrl>/<dir>/<name>` instead of its manifest address.
   * Default: `SCENESCOPE_MODELS_BASE_URL` from `env`, else the manifest addresses.
   */
  baseUrl?: string;
  /** Environment for `SCENESCOPE_MODELS_BASE_URL` (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Attempts per file, resuming each time (default 3). */
  attempts?: number;
  /** Abort an attempt when no byte arrives for this long (default 60 000 ms). */
  stallTimeoutMs?: number;
  /** The fetch implementation (default the global one); for tests and proxies. */
  fetch?: typeof globalThis.fetch;
}

/** Address a file is fetched from. */
export function downloadUrl(entry: ModelEntry, file: ModelFile, baseUrl: string | undefined): string {
  if (baseUrl === undefined || baseUrl === '') return file.url;
  return `${baseUrl.replace(/\/+$/, '')}/${encodeURIComponent(entry.dir ?? entry.id)}/${encodeURIComponent(file.name)}`;
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Our own `.part` file for `destination`: its path, and the handle it is written through. */
interface PartFile {
  path: string;
  /** Bytes already in it (resumed). */
  have: number;
}

/**
 * The `.part` file to resume for `destination`, when one of ours is there: a regular file (not a link), one
 * link, owned by this user. Other `.part` files of that name are stale or planted and are removed (unlinking
 * never touches a link's target). Undefined when there is nothing to resume.
 */
async function findPart(destination: string): Promise<PartFile | undefined> {
  const dir = dirname(destination);
  const pattern = new RegExp(`^${escapeRegExp(basename(destination))}\\.(?:[0-9a-f]{16}\\.)?part$`);
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  let best: PartFile | undefined;
  for (const name of await readdir(dir)) {
    if (!pattern.test(name)) continue;
    const path = join(dir, name);
    const info = await lstat(path);
    const ours = info.isFile() && info.nlink === 1 && (uid === undefined || info.uid === uid) && /\.[0-9a-f]{16}\.part$/.test(name);
    if (ours && (best === undefined || info.size > best.have)) {
      if (best !== undefined) await rm(best.path, { force: true });
      best = { path, have: info.size };
    } else {
      await rm(path, { force: true });
    }
  }
  return best;
}

/** A fresh `.part` name next to `destination`. */
function newPartPath(destination: string): string {
  return `${destination}.${randomBytes(8).toString('hex')}.part`;
}

/**
 * Open our `.part` file for appending without following a link, and check it is still the regular file we
 * looked at (same device and inode, one link). A fresh one is created exclusively.
 */
async function openPart(part: PartFile, fresh: boolean): Promise<FileHandle> {
  if (fresh) return open(part.path, EXCLUSIVE_CREATE, 0o644);
  const before = await lstat(part.path);
  const handle = await open(part.path, fsConstants.O_WRONLY | fsConstants.O_APPEND | (fsConstants.O_NOFOLLOW ?? 0));
  const after = await handle.stat();
  if (!after.isFile() || after.nlink !== 1 || after.ino !== before.ino || after.dev !== before.dev) {
    await handle.close();
    throw new PermanentError('MODEL_UNAVAILABLE', `${part.path} changed while it was opened; refusing to write to it`, { details: { part: part.path } });
  }
  return handle;
}

async function sha256Of(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(path, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0));
  try {
    for await (const chunk of handle.createReadStream(signal === undefined ? { autoClose: false } : { autoClose: false, signal })) hash.update(chunk as Buffer);
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/** Thrown for failures that retrying cannot fix (HTTP 4xx, verification). */
class PermanentError extends ModelError {
  override name = 'ModelError';
}

/**
 * One attempt: request the rest of the file (Range when `.part` has bytes), append to `.part`.
 * Resolves when the server says the body is complete; rejects on network errors, stalls and bad statuses.
 */
async function attempt(url: string, part: PartFile, file: ModelFile, options: FetchOptions, report: (done: number, total: number | undefined) => void): Promise<void> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const limit = file.bytes ?? file.maxBytes;
  let have = part.have;
  if (limit !== undefined && have > limit) {
    await rm(part.path, { force: true });
    part.have = have = 0;
  }
  const controller = new AbortController();
  const stallMs = options.stallTimeoutMs ?? 60_000;
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      controller.abort(new Error(`no data for ${stallMs} ms`));
    }, stallMs);
  };
  const onAbort = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  arm();
  try {
    const headers: Record<string, string> = { 'user-agent': 'scenescope-models-fetch' };
    if (have > 0) headers.range = `bytes=${have}-`;
    const response = await doFetch(url, { headers, redirect: 'follow', signal: controller.signal });
    if (response.status === 416 && have > 0) {
      // The .part file may already hold everything; verification decides.
      await response.body?.cancel();
      return;
    }
    if (response.status !== 200 && response.status !== 206) {
      await response.body?.cancel();
      const error = `HTTP ${response.status}${response.statusText === '' ? '' : ' ' + response.statusText} from ${url}`;
      if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
        throw new PermanentError('MODEL_UNAVAILABLE', `Download of ${file.name} failed: ${error}`, { details: { url, status: response.status } });
      }
      throw new Error(error);
    }
    let offset = 0;
    if (response.status === 206) {
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
      offset = range === null ? -1 : Number(range[1]);
      if (offset !== have) {
        // Not the range we asked for: start over rather than splice bytes in the wrong place.
        await response.body?.cancel();
        await rm(part.path, { force: true });
        part.have = 0;
        throw new Error(`server answered range ${response.headers.get('content-range') ?? '(none)'} to bytes=${have}-`);
      }
    } else if (have > 0) {
      // A whole body where the rest was asked for: start a new .part rather than truncate the old one.
      await rm(part.path, { force: true });
      part.have = have = 0;
    }
    const length = Number(response.headers.get('content-length') ?? NaN);
    const total = Number.isFinite(length) ? offset + length : file.bytes;
    if (response.body === null) throw new Error(`empty response from ${url}`);
    if (have === 0) await rm(part.path, { force: true });
    if (have === 0) part.path = newPartPath(part.path.replace(/(\.[0-9a-f]{16})?\.part$/, ''));
    const handle = await openPart(part, have === 0);
    let done = have;
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        arm();
        if (limit !== undefined && done + chunk.length > limit) {
          throw new PermanentError('MODEL_UNAVAILABLE', `Download of ${file.name} is larger than the ${limit} bytes the manifest ${file.bytes === undefined ? 'allows' : 'expects'} (${url})`, { details: { url } });
        }
        await handle.write(chunk);
        done += chunk.length;
        part.have = done;
        report(done, total);
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (Number.isFinite(length) && done !== offset + length) throw new Error(`connection closed after ${done} of ${offset + length} bytes`);
  } catch (error) {
    if (options.signal?.aborted === true) throw new AbortError(undefined, { cause: options.signal.reason });
    if (stalled) throw new Error(`download of ${file.name} stalled: no data for ${stallMs} ms`, { cause: error });
    throw error;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Download one file with resume and verification, into `destination` (atomic rename).
 * @returns bytes of the installed file.
 * @throws ModelError MODEL_UNAVAILABLE (HTTP 4xx, attempts exhausted, verification failed); AbortError.
 */
export async function downloadFile(url: string, destination: string, file: ModelFile, options: FetchOptions = {}, report: (done: number, total: number | undefined) => void = () => undefined): Promise<number> {
  const part: PartFile = (await findPart(destination)) ?? { path: newPartPath(destination), have: 0 };
  const attempts = options.attempts ?? 3;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    throwIfAborted(options.signal);
    try {
      await attempt(url, part, file, options, report);
      lastError = undefined;
      break;
    } catch (error) {
      if (error instanceof PermanentError) {
        await rm(part.path, { force: true });
        throw error;
      }
      if (error instanceof AbortError) throw error;
      lastError = error;
    }
  }
  if (lastError !== undefined) {
    throw new ModelError('MODEL_UNAVAILABLE', `Download of ${file.name} failed after ${attempts} attempts: ${(lastError as Error).message}; run fetch again to resume (${part.path})`, {
      cause: lastError,
      details: { url, part: part.path },
    });
  }
  let bad: string | undefined;
  let bytes = 0;
  try {
    const info = await lstat(part.path);
    bytes = info.size;
    bad = !info.isFile() || info.nlink !== 1 ? `${part.path} is not our regular file` : await verifyProblem(file, part.path, bytes, await sha256Of(part.path, options.signal));
  } catch (error) {
    throwIfAborted(options.signal);
    bad = `${file.name} cannot be read back: ${(error as Error).message}`;
  }
  if (bad !== undefined) {
    await rm(part.path, { force: true });
    throw new ModelError('MODEL_UNAVAILABLE', `${bad} (downloaded from ${url}); not installed`, { details: { url } });
  }
  await clearDestination(destination);
  await rename(part.path, destination);
  return bytes;
}

/**
 * Download the selected models' files from their official addresses (or a mirror), resuming interrupted downloads
 * and verifying every file before it is installed. Files already installed and verified are skipped. Derived files
 * (no official download, see `ModelFile.derived`) are reported `not-found` unless a mirror is used. Optional files
 * are fetched only with `includeOptional`.
 * @throws ModelError MODEL_UNAVAILABLE for an unknown id; AbortError. Download failures are reported per file.
 */
export async function fetchModels(options: FetchOptions = {}): Promise<InstallReport> {
  const modelsDir = resolve(options.modelsDir ?? defaultModelsDir(options.env));
  const entries = selectEntries(options.manifest ?? loadManifest(), options.ids);
  const envBase = (options.env ?? process.env).SCENESCOPE_MODELS_BASE_URL;
  const baseUrl = options.baseUrl ?? (envBase === '' ? undefined : envBase);
  const actions: FileAction[] = [];
  for (const entry of entries) {
    const dir = modelDir(modelsDir, entry);
    for (const file of entry.files) {
      throwIfAborted(options.signal);
      if (file.optional === true && options.includeOptional !== true) continue;
      const destination = join(dir, file.name);
      const current = await checkFile(destination, file, true, options.signal);
      if (current.state === 'ok' || (current.state === 'unverified' && file.sha256 === '')) {
        actions.push({ id: entry.id, file: file.name, action: 'present' });
        continue;
      }
      if (file.derived !== undefined && baseUrl === undefined) {
        actions.push({ id: entry.id, file: file.name, action: 'not-found', reason: `${file.name} has no official download: ${file.derived}` });
        continue;
      }
      const url = downloadUrl(entry, file, baseUrl);
      try {
        await ensureModelDir(modelsDir, dir);
        if (current.state === 'corrupt') await rm(destination, { force: true });
        await clearDestination(destination);
        const bytes = await downloadFile(url, destination, file, options, (done, total) => options.onProgress?.({ id: entry.id, file: file.name, done, total }));
        actions.push({ id: entry.id, file: file.name, action: 'installed', bytes });
      } catch (error) {
        if (error instanceof AbortError) throw error;
        actions.push({ id: entry.id, file: file.name, action: 'failed', reason: (error as Error).message });
      }
    }
    // A model none of whose files arrived leaves no empty folder (rmdir removes only an empty directory).
    await rmdir(dir).catch(() => undefined);
  }
  return finishReport(modelsDir, entries, actions, options.ids !== undefined && options.ids.length > 0, options.signal);
}
