/**
 * Where a long video can be cut into chunks that decode on their own: its keyframes near given positions.
 *
 * One ffprobe process reads a packet after each position (`-read_intervals "t%+#1,..."`: the demuxer seeks to
 * the keyframe at or before t, as ffmpeg's `-ss` does, and reads one packet), so finding the chunk starts of a
 * two-hour film costs a dozen seeks, not a pass over the file. A chunk that starts at a keyframe decodes its
 * frames exactly as a decode of the whole file does (the decoder state is reset there), which is what makes
 * chunked features bit-identical to one pass (src/jobs/chunks.ts checks it on every seam).
 */
import { DecodeError, throwIfAborted } from '../errors.js';
import { fileUrl, resolveFfmpegPaths, runTool, safeInputArgs, type FfmpegPathOptions } from './ffmpeg.js';
import type { ProbeResult } from './probe.js';

/** A keyframe: its presentation timestamp in the stream's time base, and in seconds. */
export interface Keyframe {
  pts: number;
  seconds: number;
}

/**
 * The keyframe at or before each position (seconds on the stream's clock), in order, duplicates removed.
 * A position where the demuxer lands on a packet that is not a keyframe, or on none, is left out (the chunk
 * before it simply gets longer).
 * @throws DecodeError FFMPEG_NOT_FOUND; AbortError.
 */
export async function keyframesAtOrBefore(probed: ProbeResult, positions: readonly number[], options: FfmpegPathOptions & { signal?: AbortSignal | undefined } = {}): Promise<Keyframe[]> {
  throwIfAborted(options.signal);
  if (positions.length === 0) return [];
  const { ffprobe } = resolveFfmpegPaths(options);
  const intervals = positions.map((t) => `${Math.max(0, t).toFixed(6)}%+#1`).join(',');
  const args = ['-v', 'error', ...safeInputArgs(ffprobe), '-select_streams', String(probed.stream.index), '-show_entries', 'packet=pts,flags', '-of', 'csv=p=0', '-read_intervals', intervals, fileUrl(probed.path)];
  const result = await runTool(ffprobe, args, { signal: options.signal, timeoutMs: 60_000 });
  throwIfAborted(options.signal);
  if (result.code !== 0) throw new DecodeError('DECODE_FAILED', `ffprobe could not seek in ${probed.path} to find keyframes (${result.stderr.trim().split('\n').pop() ?? 'error'})`, { details: { path: probed.path } });
  const [num, den] = timeBaseOf(probed);
  const found = new Map<number, Keyframe>();
  for (const line of result.stdout.toString('utf8').split('\n')) {
    const [pts, flags] = line.trim().split(',');
    if (pts === undefined || flags === undefined || !/^-?\d+$/.test(pts) || !flags.startsWith('K')) continue;
    const value = Number(pts);
    found.set(value, { pts: value, seconds: (value * num) / den });
  }
  return [...found.values()].sort((a, b) => a.pts - b.pts);
}

/** The stream's time base as [num, den], 1/90000 when unusable. */
function timeBaseOf(probed: ProbeResult): [number, number] {
  const [a, b] = probed.stream.time_base;
  return a > 0 && b > 0 && Number.isFinite(a) && Number.isFinite(b) ? [a, b] : [1, 90000];
}
