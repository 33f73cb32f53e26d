/**
 * Durations and positions on the command line, the way PySceneDetect users write them: `15f` or `15 frames`,
 * `0.6s`, `600ms`, `00:00:00.600` or `1:05.5`. A bare number keeps scenescope's documented meaning, seconds.
 * Frames become seconds once the video's frame rate is known ({@link toSeconds}).
 */
import { UsageError } from './io.js';

/** A parsed duration: seconds, or frames waiting for the frame rate. */
export type Duration = { seconds: number } | { frames: number };

const FRAMES = /^(\d+)\s*(?:f|frames?)$/i;
const SECONDS = /^(\d+(?:\.\d*)?|\.\d+)\s*(s|sec|secs|seconds?|ms)?$/i;
const TIMECODE = /^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$/;

/** The accepted forms, for help texts and error messages. */
export const DURATION_FORMS = '15f, 15 frames, 0.6s, 600ms, 00:00:00.600 (a bare number is seconds)';

/**
 * Parse `text` given for option `--name`.
 * @throws UsageError naming the option, the accepted forms and why (negative, malformed).
 */
export function parseDuration(name: string, text: string, command?: string): Duration {
  const value = text.trim();
  const fail = (why: string): UsageError => new UsageError(`--${name} ${why}, got ${JSON.stringify(text)}; use ${DURATION_FORMS}`, command);
  if (value.startsWith('-')) throw fail('cannot be negative');
  const frames = FRAMES.exec(value);
  if (frames !== null) return { frames: Number(frames[1]) };
  const seconds = SECONDS.exec(value);
  if (seconds !== null) {
    const n = Number(seconds[1]);
    return { seconds: seconds[2]?.toLowerCase() === 'ms' ? n / 1000 : n };
  }
  const tc = TIMECODE.exec(value);
  if (tc !== null) {
    const [h, m, s] = [Number(tc[1] ?? 0), Number(tc[2]), Number(tc[3])];
    if (m >= 60 || s >= 60) throw fail('has minutes or seconds of 60 or more');
    return { seconds: h * 3600 + m * 60 + s };
  }
  throw fail('is not a duration');
}

/** True when the duration needs the frame rate to become seconds. */
export function needsFrameRate(d: Duration | undefined): boolean {
  return d !== undefined && 'frames' in d;
}

/** Seconds of a duration at `frameRate` frames per second. */
export function toSeconds(d: Duration, frameRate: number): number {
  return 'frames' in d ? d.frames / frameRate : d.seconds;
}
