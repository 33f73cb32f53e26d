/**
 * SMPTE timecode from a frame index, and back, at any frame rate.
 *
 * A timecode counts frames at an integer nominal rate (the "timebase": 24, 25, 30, 60...); it does not measure
 * wall-clock time. NTSC rates (23.976, 29.97, 59.94: N*1000/1001) count at the next integer. At 29.97 and 59.94
 * drop-frame timecode skips frame numbers 00 and 01 (00-03 at 59.94) at the start of every minute except every
 * tenth, so that the label stays within a few frames of the clock; no frame is dropped, only labels. Drop-frame
 * labels use ';' before the frames field ("00:01:00;02").
 *
 * Rates that are not NTSC and not integers (12.5 fps, 7.5 fps) count at the rounded rate with non-drop labels:
 * frame-exact, but the label drifts from the clock, as NDF 29.97 does.
 */
import { OptionError } from '../errors.js';
import { invalid } from '../util/validate.js';

/** A frame rate as editors use it: exact rational, integer timebase, and the drop-frame choice. */
export interface TimecodeRate {
  /** Frames per second as a float (num / den). */
  fps: number;
  /** Rational numerator (30000 for 29.97). */
  num: number;
  /** Rational denominator (1001 for 29.97). */
  den: number;
  /** Integer frames per timecode second (30 for 29.97). */
  base: number;
  /** Drop-frame labels (only 29.97 and 59.94 and their multiples of 30000/1001 can drop). */
  dropFrame: boolean;
}

/** Options of {@link timecodeRate}. */
export interface TimecodeRateOptions {
  /**
   * Use drop-frame labels. Default: true for 29.97 and 59.94, false otherwise. Requesting it for another rate
   * throws INVALID_OPTION.
   */
  dropFrame?: boolean | undefined;
}

/** Best rational form of a float frame rate: N*1000/1001 for NTSC rates, N/1 for integers, else n/d with d <= 1001. */
export function rationalRate(fps: number): { num: number; den: number } {
  if (typeof fps !== 'number' || !Number.isFinite(fps) || fps <= 0) throw invalid('positive finite number', 'frame rate', fps);
  const rounded = Math.round(fps);
  if (Math.abs(fps - rounded) < 1e-6) return { num: rounded, den: 1 };
  const ntsc = Math.round((fps * 1001) / 1000);
  if (Math.abs((ntsc * 1000) / 1001 - fps) < 5e-4) return { num: ntsc * 1000, den: 1001 };
  let best = { num: Math.round(fps * 1001), den: 1001 };
  let bestError = Infinity;
  for (let den = 1; den <= 1001; den++) {
    const num = Math.round(fps * den);
    const error = Math.abs(num / den - fps);
    if (error < bestError - 1e-12) {
      bestError = error;
      best = { num, den };
      if (error < 1e-9) break;
    }
  }
  return best;
}

/** The timecode description of a frame rate (see {@link TimecodeRate}). */
export function timecodeRate(fps: number, options: TimecodeRateOptions = {}): TimecodeRate {
  const { num, den } = rationalRate(fps);
  const base = Math.max(1, Math.round(num / den));
  const canDrop = den === 1001 && (base === 30 || base === 60);
  const dropFrame = options.dropFrame ?? canDrop;
  if (dropFrame && !canDrop) {
    throw new OptionError(`Drop-frame timecode needs a 29.97 or 59.94 fps clip but the frame rate is ${fps}`);
  }
  return { fps: num / den, num, den, base, dropFrame };
}

/** Frame labels skipped at each dropped minute: 2 at 29.97, 4 at 59.94. */
function dropCount(rate: TimecodeRate): number {
  return rate.dropFrame ? Math.round(rate.base / 15) : 0;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/**
 * The SMPTE label of a 0-based frame index: "HH:MM:SS:FF", or "HH:MM:SS;FF" in drop-frame. Hours are not
 * wrapped at 24.
 */
export function frameToTimecode(frame: number, rate: TimecodeRate): string {
  if (!Number.isInteger(frame) || frame < 0) throw invalid('non-negative integer', 'frame', frame);
  const drop = dropCount(rate);
  let label = frame;
  if (drop > 0) {
    const perMinute = rate.base * 60 - drop;
    const perTenMinutes = rate.base * 600 - drop * 9;
    const tens = Math.floor(frame / perTenMinutes);
    const rest = frame % perTenMinutes;
    label += drop * 9 * tens;
    if (rest > drop) label += drop * Math.floor((rest - drop) / perMinute);
  }
  const ff = label % rate.base;
  const totalSeconds = Math.floor(label / rate.base);
  const ss = totalSeconds % 60;
  const mm = Math.floor(totalSeconds / 60) % 60;
  const hh = Math.floor(totalSeconds / 3600);
  return `${pad2(hh)}:${pad2(mm)}:${pad2(ss)}${drop > 0 ? ';' : ':'}${pad2(ff)}`;
}

const TIMECODE = /^(\d{2,}):(\d{2}):(\d{2})([:;.,])(\d{2,3})$/;

/**
 * The 0-based frame index of a SMPTE label (":" or ";" before the frames field are both accepted; the rate
 * decides drop-frame). Throws INVALID_OPTION for malformed labels and for labels that drop-frame skips.
 */
export function timecodeToFrame(timecode: string, rate: TimecodeRate): number {
  const match = TIMECODE.exec(timecode.trim());
  if (match === null) throw invalid('timecode like 00:00:00:00', 'timecode', timecode);
  const hh = Number(match[1]);
  const mm = Number(match[2]);
  const ss = Number(match[3]);
  const ff = Number(match[5]);
  if (mm > 59 || ss > 59 || ff >= rate.base) throw new OptionError(`Timecode ${timecode} is out of range at ${rate.base} frames per second`);
  const drop = dropCount(rate);
  const totalMinutes = hh * 60 + mm;
  if (drop > 0 && ss === 0 && ff < drop && mm % 10 !== 0) {
    throw new OptionError(`Timecode ${timecode} does not exist in drop-frame (labels ;00-;${pad2(drop - 1)} are skipped)`);
  }
  return (hh * 3600 + mm * 60 + ss) * rate.base + ff - drop * (totalMinutes - Math.floor(totalMinutes / 10));
}

/** "HH:MM:SS.mmm" for a time in seconds (rounded to the millisecond), as WebVTT and the scene list use. */
export function formatClock(seconds: number): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  return `${pad2(h)}:${pad2(m)}:${pad2(s)}.${String(ms % 1000).padStart(3, '0')}`;
}

/** Seconds of an "HH:MM:SS.mmm" (or "MM:SS.mmm") clock. Throws INVALID_OPTION when malformed. */
export function parseClock(text: string): number {
  const match = /^(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})$/.exec(text.trim());
  if (match === null) throw invalid('time like 00:00:00.000', 'clock', text);
  return Number(match[1] ?? 0) * 3600 + Number(match[2]) * 60 + Number(match[3]) + Number(match[4]) / 1000;
}
