/**
 * library.media: register files (referenced in place or copied in), find duplicates by content, probe them
 * and make a poster, as the hosted API's upload does.
 *
 * upload(path): the record appears as `uploading` while the file is read once, in a stream, for its SHA-256
 * (and copied when asked); a file whose content is already in the library returns that record
 * (`duplicate: true`). Then `processing`: probe (VideoMetadata, visible through getProcessingStatus() at once)
 * and a poster JPEG; then `completed`, or `failed` with the probe's error code (a bad file is still
 * registered, and its analysis job, when queued, fails with the same code). An aborted upload ends `aborted`.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AbortError, InputError, ScenescopeError, StoreError, throwIfAborted } from '../errors.js';
import { writePoster } from '../jobs/thumbnails.js';
import { ANALYSIS_TYPES, type AnalysisType } from '../jobs/pipeline.js';
import { probe } from '../media/probe.js';
import { newId } from '../store/ids.js';
import type { MediaRecord } from '../store/types.js';
import { bool, func, integerIn, oneOf, opt, plainOptions, signal as signalCheck, string } from '../util/validate.js';
import { estimateStart } from './analysis.js';
import type { LibraryContext } from './context.js';
import { toProcessingStatus } from './records.js';
import type { MediaProcessingStatus, MediaUploadBatch, MediaUploadResult, UploadFolderOptions, UploadOptions } from './types.js';

/** File extensions that folder walks pick up (lower case, with the dot). */
export const VIDEO_EXTENSIONS: ReadonlySet<string> = new Set([
  '.mp4', '.m4v', '.mov', '.qt', '.mkv', '.webm', '.avi', '.wmv', '.asf', '.flv', '.mpg', '.mpeg', '.m2v', '.ts', '.mts', '.m2ts',
  '.3gp', '.3g2', '.ogv', '.mxf', '.vob', '.dv', '.y4m',
]);

interface ResolvedUpload {
  autoAnalyze: boolean;
  copy: boolean;
  analysisType: AnalysisType;
  priority: number;
  signal: AbortSignal | undefined;
  onProgress: UploadOptions['onProgress'];
}

const UPLOAD_KEYS = ['autoAnalyze', 'copy', 'analysisType', 'priority', 'signal', 'onProgress'] as const;

function resolveUpload(o: Record<string, unknown>): ResolvedUpload {
  return {
    autoAnalyze: opt(o, 'autoAnalyze', true, bool),
    copy: opt(o, 'copy', false, bool),
    analysisType: opt<AnalysisType>(o, 'analysisType', 'full', (n, v) => oneOf(n, v, ANALYSIS_TYPES)),
    priority: opt(o, 'priority', 0, (n, v) => integerIn(n, v, -1_000_000, 1_000_000)),
    signal: opt<AbortSignal | undefined>(o, 'signal', undefined, signalCheck),
    onProgress: opt<UploadOptions['onProgress']>(o, 'onProgress', undefined, func),
  };
}

function errorParts(error: unknown): { code: string; message: string } {
  if (error instanceof ScenescopeError) return { code: error.code, message: error.message };
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

/** Hash a file in one streaming pass, copying it to `copyTo` on the way when given. */
async function hashFile(file: string, options: { copyTo: string | null; signal: AbortSignal | undefined; onBytes: (bytes: number) => void }): Promise<string> {
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      options.onBytes(bytes);
      callback(null, chunk);
    },
  });
  const sink = options.copyTo !== null ? createWriteStream(options.copyTo) : new Writable({ write: (_chunk, _encoding, callback) => callback() });
  await pipeline(createReadStream(file), tap, sink, ...(options.signal !== undefined ? [{ signal: options.signal }] : []));
  return hash.digest('hex');
}

/** See the file header. */
export class MediaApi {
  readonly #ctx: LibraryContext;

  /** @internal */
  constructor(ctx: LibraryContext) {
    this.#ctx = ctx;
  }

  /**
   * Register one video file. Resolves when the record is completed or failed (probing takes seconds; analysis
   * goes on in the background).
   * @throws InputError FILE_NOT_FOUND / NOT_A_FILE (nothing registered; use uploadFolder() for folders),
   *   AbortError (the record ends `aborted`), OptionError.
   */
  async upload(filePath: string, options?: UploadOptions): Promise<MediaUploadResult> {
    string('path', filePath);
    return this.#upload(path.resolve(filePath), resolveUpload(plainOptions('upload options', options, UPLOAD_KEYS)));
  }

  /**
   * Register every video file of a folder (by extension, sorted, sub-folders too unless `recursive: false`).
   * Files that cannot be registered are listed in `errors`; bad videos are registered as failed.
   */
  async uploadFolder(folder: string, options?: UploadFolderOptions): Promise<MediaUploadBatch> {
    string('folder', folder);
    const o = plainOptions('uploadFolder options', options, ['autoAnalyze', 'copy', 'analysisType', 'priority', 'signal', 'recursive', 'onFile']);
    const recursive = opt(o, 'recursive', true, bool);
    const onFile = opt<UploadFolderOptions['onFile']>(o, 'onFile', undefined, func);
    const resolved = resolveUpload({ ...o, recursive: undefined, onFile: undefined });
    const files = await findVideoFiles(path.resolve(folder), recursive);
    const batch: MediaUploadBatch = { items: [], errors: [] };
    for (const file of files) {
      throwIfAborted(resolved.signal);
      try {
        const result = await this.#upload(file, resolved);
        batch.items.push(result);
        onFile?.(result);
      } catch (error) {
        if (error instanceof AbortError) throw error;
        const { code, message } = errorParts(error);
        batch.errors.push({ path: file, error_code: code, error_message: message });
      }
    }
    return batch;
  }

  /** The record, metadata and latest analysis of a media. @throws StoreError NOT_FOUND. */
  async getProcessingStatus(mediaId: string): Promise<MediaProcessingStatus> {
    string('mediaId', mediaId);
    const media = await this.#ctx.store.getMedia(mediaId);
    if (media === null) throw new StoreError('NOT_FOUND', `No media ${mediaId}`, { details: { media_id: mediaId } });
    return toProcessingStatus(media, await this.#ctx.store.getLatestJob(mediaId), this.#ctx.now());
  }

  /** Registered media, newest first. */
  async list(options?: { limit?: number; offset?: number }): Promise<{ items: MediaProcessingStatus[]; total_count: number }> {
    const o = plainOptions('list options', options, ['limit', 'offset']);
    const limit = opt(o, 'limit', 100, (n, v) => integerIn(n, v, 1, 10_000));
    const offset = opt(o, 'offset', 0, (n, v) => integerIn(n, v, 0, Number.MAX_SAFE_INTEGER));
    const page = await this.#ctx.store.listMedia({ limit, offset });
    const items: MediaProcessingStatus[] = [];
    for (const media of page.items) items.push(toProcessingStatus(media, await this.#ctx.store.getLatestJob(media.media_id), this.#ctx.now()));
    return { items, total_count: page.total };
  }

  async #upload(file: string, o: ResolvedUpload): Promise<MediaUploadResult> {
    throwIfAborted(o.signal);
    const store = this.#ctx.store;
    let info;
    try {
      info = await stat(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new InputError('FILE_NOT_FOUND', `No such file: ${file}`, { cause: error, details: { path: file } });
      throw new InputError('FILE_UNREADABLE', `Cannot read ${file}: ${(error as Error).message}`, { cause: error, details: { path: file } });
    }
    if (!info.isFile()) {
      throw new InputError('NOT_A_FILE', `${file} is ${info.isDirectory() ? 'a folder; use media.uploadFolder() for folders' : 'not a regular file'}`, { details: { path: file } });
    }
    const now = this.#ctx.now();
    const mediaId = newId('med');
    const fileName = path.basename(file);
    const record: MediaRecord = {
      media_id: mediaId,
      file_path: file,
      source_path: file,
      file_name: fileName,
      copied: false,
      sha256: null,
      file_size_bytes: info.size,
      upload_status: 'uploading',
      video_metadata: null,
      poster_path: null,
      error_code: null,
      error_message: null,
      owner: `${hostname()}:${process.pid}`,
      created_at: now,
      updated_at: now,
    };
    await store.insertMedia(record);

    // uploading: hash (and copy) in one pass.
    const copyDir = path.join(this.#ctx.assetsDir, 'media', mediaId);
    const copyPath = path.join(copyDir, fileName);
    let sha256: string;
    try {
      if (o.copy) await mkdir(copyDir, { recursive: true });
      sha256 = await hashFile(file, {
        copyTo: o.copy ? `${copyPath}.part` : null,
        signal: o.signal,
        onBytes: (bytes) => o.onProgress?.({ bytes, total_bytes: info.size, upload_status: 'uploading' }),
      });
      if (o.copy) await rename(`${copyPath}.part`, copyPath);
    } catch (error) {
      if (o.copy) await rm(copyDir, { recursive: true, force: true }).catch(() => undefined);
      if (o.signal?.aborted === true) {
        await store.updateMedia(mediaId, { upload_status: 'aborted', owner: null, error_code: 'ABORTED', error_message: 'The upload was aborted' });
        throw new AbortError('The upload was aborted', { cause: o.signal.reason });
      }
      const reason = new InputError('FILE_UNREADABLE', `Cannot read ${file}: ${(error as Error).message}`, { cause: error, details: { path: file } });
      await store.updateMedia(mediaId, { upload_status: 'failed', owner: null, error_code: reason.code, error_message: reason.message });
      return this.#result(mediaId, false, o);
    }
    const settled = await store.settleHash(mediaId, sha256, {
      upload_status: 'processing',
      ...(o.copy ? { file_path: copyPath, copied: true } : {}),
    });
    if (settled.duplicate) {
      if (o.copy) await rm(copyDir, { recursive: true, force: true }).catch(() => undefined);
      const existing = settled.media;
      // The known copy was moved or deleted: point the record at this one.
      if (!existing.copied && existing.file_path !== file && !(await stat(existing.file_path).then((s) => s.isFile(), () => false))) {
        await store.updateMedia(existing.media_id, { file_path: file, source_path: file, file_name: fileName });
      }
      return this.#result(existing.media_id, true, o);
    }
    o.onProgress?.({ bytes: info.size, total_bytes: info.size, upload_status: 'processing' });

    // processing: metadata, then a poster.
    const analysed = settled.media.file_path;
    try {
      const probed = await probe(analysed, { ...this.#ctx.ffmpeg, signal: o.signal });
      await store.updateMedia(mediaId, { video_metadata: probed.metadata, file_size_bytes: probed.metadata.file_size_bytes ?? info.size });
      const poster = path.join(this.#ctx.assetsDir, 'posters', `${mediaId}.jpg`);
      const made = await writePoster(analysed, probed.metadata.duration_seconds, poster, { ...this.#ctx.ffmpeg, frameRate: probed.metadata.frame_rate, ...(o.signal ? { signal: o.signal } : {}) }).catch((error: unknown) => {
        if (o.signal?.aborted === true) throw error;
        return false;
      });
      await store.updateMedia(mediaId, { upload_status: 'completed', owner: null, poster_path: made ? poster : null });
    } catch (error) {
      if (o.signal?.aborted === true) {
        await store.updateMedia(mediaId, { upload_status: 'aborted', owner: null, error_code: 'ABORTED', error_message: 'The upload was aborted' });
        throw new AbortError('The upload was aborted', { cause: o.signal.reason });
      }
      const { code, message } = errorParts(error);
      await store.updateMedia(mediaId, { upload_status: 'failed', owner: null, error_code: code, error_message: message });
    }
    o.onProgress?.({ bytes: info.size, total_bytes: info.size, upload_status: (await store.getMedia(mediaId))?.upload_status ?? 'failed' });
    return this.#result(mediaId, false, o);
  }

  async #result(mediaId: string, duplicate: boolean, o: ResolvedUpload): Promise<MediaUploadResult> {
    const store = this.#ctx.store;
    let jobId: string | null = null;
    // A duplicate keeps its analysis: its completed or active job is returned; it is queued again only when
    // it has no job or its last one failed or was cancelled.
    const latest = duplicate ? await store.getLatestJob(mediaId) : null;
    if (latest !== null && (latest.status !== 'failed' && latest.status !== 'cancelled' || !o.autoAnalyze)) {
      jobId = latest.job_id;
    } else if (o.autoAnalyze) {
      const { job, created } = await store.enqueue({ mediaId, analysisType: o.analysisType, priority: o.priority, maxRetries: this.#ctx.maxRetries });
      jobId = job.job_id;
      if (created) this.#ctx.wake();
    }
    const media = await store.getMedia(mediaId);
    if (media === null) throw new StoreError('NOT_FOUND', `No media ${mediaId}`, { details: { media_id: mediaId } });
    const estimate = jobId === null ? { queue_position: null, estimated_start_time: null } : await estimateStart(store, jobId, this.#ctx.now());
    return {
      media_id: media.media_id,
      file_name: media.file_name,
      file_path: media.file_path,
      upload_status: media.upload_status,
      duplicate,
      sha256: media.sha256,
      video_metadata: media.video_metadata,
      error_code: media.error_code,
      error_message: media.error_message,
      analysis_job_id: jobId,
      ...estimate,
    };
  }
}

/** Video files under a folder (by extension), sorted; symbolic links to folders are not followed. */
export async function findVideoFiles(folder: string, recursive: boolean): Promise<string[]> {
  const info = await stat(folder).catch((error: unknown) => {
    throw new InputError('FILE_NOT_FOUND', `No such folder: ${folder}`, { cause: error, details: { path: folder } });
  });
  if (!info.isDirectory()) throw new InputError('NOT_A_FILE', `${folder} is not a folder`, { details: { path: folder } });
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (recursive) await walk(full);
      } else if ((entry.isFile() || entry.isSymbolicLink()) && VIDEO_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) {
        out.push(full);
      }
    }
  };
  await walk(folder);
  return out;
}
