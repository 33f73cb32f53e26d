/**
 * Errors thrown by scenescope. Every error carries a stable `code` (see {@link ErrorCode}); the message is one
 * line meant for people, the code is for programs. `cause` is kept when one error wraps another.
 */

/** Every error code scenescope can produce. The list is stable: codes are added, never renamed. */
export const ERROR_CODES = {
  /** An option had the wrong type, range or name. */
  INVALID_OPTION: 'invalid option',
  /** The input path does not exist. */
  FILE_NOT_FOUND: 'file not found',
  /** The input path is a directory, device or other non-regular file. */
  NOT_A_FILE: 'not a regular file',
  /** The input file has zero bytes. */
  EMPTY_FILE: 'empty file',
  /** The input could not be read: permissions or I/O. */
  FILE_UNREADABLE: 'file unreadable',
  /** ffprobe/ffmpeg do not recognise the file as a media container. */
  UNSUPPORTED_FORMAT: 'unsupported or unrecognised format',
  /** The file has no video stream (for example audio only). */
  NO_VIDEO_STREAM: 'no video stream',
  /** The file is a still image, not a video. */
  STILL_IMAGE: 'still image',
  /** The container refers to other files or network resources (playlists, concat lists, references). */
  EXTERNAL_REFERENCE: 'external reference',
  /** Width, height, frame rate or duration are outside what the engine accepts. */
  ABSURD_DIMENSIONS: 'absurd dimensions',
  /** The video is truncated or corrupt and no frame could be decoded. */
  DECODE_FAILED: 'decode failed',
  /** The video stream's codec has no decoder here, or a variant ffmpeg cannot decode (CineForm, for one). */
  UNSUPPORTED_CODEC: 'unsupported codec',
  /** Decoding went past the call's frame or time budget (maxFrames, timeLimitMs): a decode bomb, or a budget too small. */
  BUDGET_EXCEEDED: 'budget exceeded',
  /** ffmpeg or ffprobe could not be started. */
  FFMPEG_NOT_FOUND: 'ffmpeg not found',
  /** The native addon was required but could not be loaded. */
  NATIVE_UNAVAILABLE: 'native addon unavailable',
  /** A feature worker failed. */
  WORKER_FAILED: 'worker failed',
  /** A stats CSV could not be parsed. */
  STATS_INVALID: 'invalid stats file',
  /** The operation was aborted through its AbortSignal. */
  ABORTED: 'aborted',
  /** A wait ran past its timeout. */
  TIMEOUT: 'timeout',
  /** A model file is missing, corrupt or fails verification. */
  MODEL_UNAVAILABLE: 'model unavailable',
  /** A model ran but failed. */
  MODEL_FAILED: 'model failed',
  /** A models folder that was named (option, --models, SCENESCOPE_MODELS_DIR) does not exist or is not a folder. */
  MODELS_DIR_NOT_FOUND: 'models folder not found',
  /** An output file (for example the embeddings file) could not be written. */
  WRITE_FAILED: 'write failed',
  /** OCR failed. */
  OCR_FAILED: 'ocr failed',
  /** An OCR language was asked for whose `@tesseract.js-data/<lang>` package is not installed. */
  OCR_LANGUAGE_MISSING: 'ocr language data missing',
  /** The library database failed or is inconsistent. */
  STORE_FAILED: 'store failed',
  /** There is no library at the given path or URL, and the command does not create one. */
  LIBRARY_NOT_FOUND: 'library not found',
  /** The library's database file was deleted or replaced while it was open. */
  LIBRARY_GONE: 'library gone',
  /** The worker's host cannot read the media file of a job (not mounted there, or no permission). */
  MEDIA_UNREADABLE_ON_HOST: 'media unreadable on this host',
  /** A record (media, job, scene) does not exist. */
  NOT_FOUND: 'not found',
  /** A job operation is not allowed in the job's current state (for example retry of a completed job). */
  INVALID_STATE: 'invalid job state',
  /** Retrying would exceed max_retries. */
  RETRY_LIMIT: 'retry limit reached',
  /** A job failed. */
  JOB_FAILED: 'job failed',
  /** A write failed because the disk (or the quota) is full: free space and retry. */
  DISK_FULL: 'disk full',
  /** The command line is wrong: unknown command or option, missing or malformed value (CLI exit code 2). */
  USAGE: 'usage error',
  /** A result could not be written: full disk, closed pipe, no permission. */
  OUTPUT_FAILED: 'output could not be written',
  /** ffmpeg failed to write a scene file or image (split, images). */
  ENCODE_FAILED: 'encode failed',
  /** Anything unexpected: a bug. */
  INTERNAL: 'internal error',
} as const;

/** A stable machine-readable error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The base of every error scenescope throws. */
export class ScenescopeError extends Error {
  override name = 'ScenescopeError';
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** Extra facts (a path, an exit status, stderr tail), safe to serialise. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  /** A plain object for JSON output, worker messages and the job store. */
  toJSON(): { name: string; code: ErrorCode; message: string; details: Readonly<Record<string, unknown>> } {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

/** Bad input file: missing, empty, not a video, corrupt, dangerous. */
export class InputError extends ScenescopeError {
  override name = 'InputError';
}

/** ffmpeg/ffprobe failures that are not the input's fault (binary missing, crashed). */
export class DecodeError extends ScenescopeError {
  override name = 'DecodeError';
}

/** A bad option at the public boundary. */
export class OptionError extends ScenescopeError {
  override name = 'OptionError';
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super('INVALID_OPTION', message, options);
  }
}

/** The operation was cancelled through an AbortSignal. */
export class AbortError extends ScenescopeError {
  override name = 'AbortError';
  constructor(message = 'The operation was aborted', options: { cause?: unknown } = {}) {
    super('ABORTED', message, options);
  }
}

/** Model registry and inference failures. */
export class ModelError extends ScenescopeError {
  override name = 'ModelError';
}

/** Database failures. */
export class StoreError extends ScenescopeError {
  override name = 'StoreError';
}

/** A job operation refused or a job that failed. Carries the job status when there is one. */
export class JobError extends ScenescopeError {
  override name = 'JobError';
}

/** Rebuild a ScenescopeError from its JSON form (for example a worker thread's reply). */
export function errorFromJSON(value: { code?: unknown; message?: unknown; details?: unknown }): ScenescopeError {
  const code = typeof value.code === 'string' && value.code in ERROR_CODES ? (value.code as ErrorCode) : 'INTERNAL';
  const message = typeof value.message === 'string' ? value.message : 'Unknown error';
  const details = value.details !== null && typeof value.details === 'object' ? (value.details as Record<string, unknown>) : {};
  return new ScenescopeError(code, message, { details });
}

/** Throw an AbortError if the signal is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new AbortError(undefined, { cause: signal.reason });
}

/** True if the value is a ScenescopeError with the given code. */
export function hasCode(error: unknown, code: ErrorCode): boolean {
  return error instanceof ScenescopeError && error.code === code;
}
