/**
 * Where the ffmpeg and ffprobe binaries are, and how every process is started: argument arrays only (no
 * shell), inputs given as `file:` URLs so that a name like `http:x.mp4` or `concat:a|b` stays a local file, and a
 * protocol whitelist so that a container cannot point ffmpeg at the network or at other files.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { accessSync, chmodSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { DecodeError } from '../errors.js';

const require = createRequire(import.meta.url);

/** Paths to the two binaries. */
export interface FfmpegPaths {
  ffmpeg: string;
  ffprobe: string;
}

/** Options that choose binaries. Each falls back to an environment variable, then to the bundled package. */
export interface FfmpegPathOptions {
  /** Path to ffmpeg. Default: `SCENESCOPE_FFMPEG_PATH`, else `@ffmpeg-installer/ffmpeg`. */
  ffmpegPath?: string | undefined;
  /** Path to ffprobe. Default: `SCENESCOPE_FFPROBE_PATH`, else `@ffprobe-installer/ffprobe`. */
  ffprobePath?: string | undefined;
}

/** Protocols an input may use: local files and our own pipes, nothing else. */
export const PROTOCOL_WHITELIST = 'file,pipe';

/**
 * Electron packs node_modules into app.asar, where binaries cannot be executed; electron-builder unpacks them
 * into app.asar.unpacked. Point there when the path goes through an asar archive.
 */
function unasar(p: string): string {
  return p.replace(`app.asar${path.sep}`, `app.asar.unpacked${path.sep}`);
}

let bundled: FfmpegPaths | undefined;
const bundledErrors: string[] = [];

function bundledPaths(): FfmpegPaths {
  if (bundled !== undefined) return bundled;
  let ffmpeg = '';
  let ffprobe = '';
  try {
    ffmpeg = unasar((require('@ffmpeg-installer/ffmpeg') as { path: string }).path);
  } catch (error) {
    bundledErrors.push(`@ffmpeg-installer/ffmpeg: ${String(error)}`);
  }
  try {
    // One platform's binary (an optional dependency per platform), not ffprobe-static's six (336 MB).
    ffprobe = unasar((require('@ffprobe-installer/ffprobe') as { path: string }).path);
  } catch (error) {
    bundledErrors.push(`@ffprobe-installer/ffprobe: ${String(error)}`);
  }
  bundled = { ffmpeg: executable(ffmpeg), ffprobe: executable(ffprobe) };
  return bundled;
}

/**
 * The installer packages ship their binary without the execute bit and set it in a postinstall script, which
 * does not run with --ignore-scripts or an unapproved script (npm 11). Set it here then, when we may.
 */
function executable(file: string): string {
  if (file === '' || process.platform === 'win32') return file;
  try {
    accessSync(file, constants.X_OK);
  } catch {
    try {
      chmodSync(file, 0o755);
    } catch (error) {
      bundledErrors.push(`${file} is not executable and cannot be made so: ${(error as Error).message}`);
    }
  }
  return file;
}

/**
 * Resolve the binaries: option, then `SCENESCOPE_FFMPEG_PATH` / `SCENESCOPE_FFPROBE_PATH`, then the bundled
 * packages. A path that is given (option or environment) and is not a file is an error, never a silent
 * fallback to the bundled binary: a mistyped path would otherwise run a different ffmpeg than the one asked for.
 * @throws DecodeError FFMPEG_NOT_FOUND naming the path (or every place that was tried).
 */
export function resolveFfmpegPaths(options: FfmpegPathOptions = {}): FfmpegPaths {
  const pick = (which: 'ffmpeg' | 'ffprobe', option: string | undefined, envName: string): string => {
    for (const [source, candidate] of [
      [`the ${which}Path option`, option],
      [envName, process.env[envName]],
    ] as const) {
      if (candidate === undefined || candidate === '') continue;
      if (isFile(candidate)) return candidate;
      throw new DecodeError('FFMPEG_NOT_FOUND', `Cannot find ${which}: ${candidate} (from ${source}) ${existsSync(candidate) ? 'is not a file' : 'does not exist'}`, { details: { path: candidate, source } });
    }
    const fallback = bundledPaths()[which];
    if (fallback !== '' && isFile(fallback)) return fallback;
    const tried = fallback === '' ? [] : [`bundled package: ${fallback} does not exist`];
    throw new DecodeError('FFMPEG_NOT_FOUND', `Cannot find ${which} (${[...tried, ...bundledErrors].join('; ') || 'no candidate'}); set ${envName} or the ${which}Path option`);
  };
  return {
    ffmpeg: pick('ffmpeg', options.ffmpegPath, 'SCENESCOPE_FFMPEG_PATH'),
    ffprobe: pick('ffprobe', options.ffprobePath, 'SCENESCOPE_FFPROBE_PATH'),
  };
}

function isFile(candidate: string): boolean {
  try {
    return statSync(candidate).isFile();
  } catch {
    return false;
  }
}

/** An input argument that ffmpeg always reads as a local file, whatever characters the name holds. */
export function fileUrl(filePath: string): string {
  return `file:${path.resolve(filePath)}`;
}

/**
 * Demuxers that read other files or the network (playlists, concat lists, manifests, session descriptions),
 * expand a name into a sequence of sibling files (image2), or are capture devices and filter graphs. A media
 * file must never be opened by one of them, whatever ffmpeg's probing decides the bytes are.
 */
export const DENIED_DEMUXERS = new Set([
  'hls', 'applehttp', 'concat', 'dash', 'mpegdash', 'webm_dash_manifest', 'imf', 'sdp', 'rtsp', 'rtp', 'sap', 'ffmetadata',
  'image2', 'lavfi', 'avisynth', 'vapoursynth',
  'alsa', 'oss', 'jack', 'pulse', 'sndio', 'openal', 'fbdev', 'kmsgrab', 'v4l2', 'video4linux2', 'x11grab', 'xcbgrab',
  'libcdio', 'libdc1394', 'dshow', 'vfwcap', 'gdigrab', 'avfoundation', 'decklink', 'android_camera', 'iec61883', 'bktr',
]);

const whitelists = new Map<string, string | null>();

/**
 * The `-format_whitelist` value for a binary: every demuxer it has except {@link DENIED_DEMUXERS}, read once per
 * binary from `-demuxers`. Null when the list cannot be read (the sniffing in probe() still applies).
 */
export function formatWhitelist(binary: string): string | null {
  const cached = whitelists.get(binary);
  if (cached !== undefined) return cached;
  let value: string | null = null;
  try {
    const out = execFileSync(binary, ['-hide_banner', '-demuxers'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000, windowsHide: true });
    const names = [...out.matchAll(/^ D[ E.]? (\S+)\s/gm)].map((m) => m[1]!).filter((name) => !name.split(',').some((n) => DENIED_DEMUXERS.has(n)));
    value = names.length > 0 ? names.join(',') : null;
  } catch {
    value = null;
  }
  whitelists.set(binary, value);
  return value;
}

/**
 * Input options that every ffmpeg/ffprobe process gets before `-i`: the protocol whitelist and, when the
 * binary is named, a demuxer whitelist that leaves out every demuxer that reads other files
 * ({@link formatWhitelist}): a playlist that slips past probe()'s sniffing still fails with
 * "Format not on whitelist" before it opens anything.
 */
export function safeInputArgs(binary?: string): string[] {
  const args = ['-protocol_whitelist', PROTOCOL_WHITELIST];
  const formats = binary === undefined ? null : formatWhitelist(binary);
  if (formats !== null) args.push('-format_whitelist', formats);
  return args;
}

/** A spawned process with its collected stderr tail. */
export interface Spawned {
  child: ChildProcess;
  /** The last few KiB of stderr (for error messages). */
  stderrTail(): string;
}

/**
 * Spawn a binary with an argument array. An abort signal kills the process (SIGKILL: ffmpeg ignores nothing
 * of that). Stdin is closed so ffmpeg never waits on the terminal, unless `stdin: 'pipe'` asks for a pipe to
 * feed it (an encoder reading raw frames); stdout is a pipe unless `stdout: 'ignore'`.
 */
export function spawnTool(
  binary: string,
  args: readonly string[],
  options: { signal?: AbortSignal | undefined; onStderr?: ((chunk: string) => void) | undefined; stdin?: 'pipe' | 'ignore'; stdout?: 'pipe' | 'ignore' } = {},
): Spawned {
  const child = spawn(binary, args, { stdio: [options.stdin ?? 'ignore', options.stdout ?? 'pipe', 'pipe'], windowsHide: true });
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    options.onStderr?.(chunk);
    tail = (tail + chunk).slice(-8192);
  });
  const signal = options.signal;
  if (signal !== undefined) {
    const kill = (): void => {
      child.kill('SIGKILL');
    };
    if (signal.aborted) kill();
    else {
      signal.addEventListener('abort', kill, { once: true });
      child.once('close', () => signal.removeEventListener('abort', kill));
    }
  }
  return { child, stderrTail: () => tail };
}

/** Run a tool to completion and collect stdout (as a Buffer), stderr and the exit code. */
export function runTool(binary: string, args: readonly string[], options: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined } = {}): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const { child, stderrTail } = spawnTool(binary, args, { signal: options.signal });
    const chunks: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
    let timer: NodeJS.Timeout | undefined;
    if (options.timeoutMs !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', (error) => {
      if (timer) clearTimeout(timer);
      reject(new DecodeError('FFMPEG_NOT_FOUND', `Cannot start ${path.basename(binary)}: ${error.message}`, { cause: error }));
    });
    child.once('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(chunks), stderr: stderrTail() });
    });
  });
}
