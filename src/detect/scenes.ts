/** Boundaries to scenes, and time formatting. */
import type { Boundary, Scene } from './types.js';

/** "HH:MM:SS.mmm" for a time in seconds (rounded to the millisecond). */
export function formatTime(seconds: number): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (v: number, n = 2): string => String(v).padStart(n, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

/** A time rounded to the microsecond, so output carries no float noise such as 10.000000000000002. */
export function roundTime(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}

/**
 * Frame times made strictly increasing: a time that does not move forward (NaN, repeated or backwards pts)
 * is placed one nominal frame duration after the frame before it. Increasing input is returned as is.
 */
export function monotoneTimes(times: Float64Array, frameRate: number): Float64Array {
  const step = frameRate > 0 && Number.isFinite(frameRate) ? 1 / frameRate : 0.04;
  let ok = true;
  for (let i = 0; i < times.length && ok; i++) ok = Number.isFinite(times[i]!) && (i === 0 || times[i]! > times[i - 1]!);
  if (ok) return times;
  const out = new Float64Array(times.length);
  let previous = -Infinity;
  for (let i = 0; i < times.length; i++) {
    let t = times[i]!;
    if (!(t > previous)) t = i === 0 ? 0 : previous + step;
    out[i] = t;
    previous = t;
  }
  return out;
}

/**
 * Scenes from boundaries. `times` holds each frame's time; the last scene ends one frame duration after the
 * last frame (the last frame's own duration, else 1/frameRate). Scene times are monotone by construction:
 * frame times are made strictly increasing ({@link monotoneTimes}), scene starts are distinct increasing
 * frames, so every scene ends after it starts and the next one starts where it ends. Times are rounded to the
 * microsecond.
 */
export function scenesFromBoundaries(boundaries: readonly Boundary[], rawTimes: Float64Array, frameRate: number): Scene[] {
  const times = monotoneTimes(rawTimes, frameRate);
  const count = times.length;
  if (count === 0) return [];
  const lastDuration = count >= 2 ? times[count - 1]! - times[count - 2]! : 1 / frameRate;
  const endOfVideo = times[count - 1]! + (lastDuration > 0 ? lastDuration : 1 / frameRate);
  const starts = [...new Set([0, ...boundaries.map((b) => b.frame).filter((f) => Number.isInteger(f) && f > 0 && f < count)])].sort((a, b) => a - b);
  const scenes: Scene[] = [];
  for (let k = 0; k < starts.length; k++) {
    const start = starts[k]!;
    const end = starts[k + 1] ?? count;
    const startTime = roundTime(times[start]!);
    const endTime = roundTime(end < count ? times[end]! : endOfVideo);
    scenes.push({ scene_index: k, start_frame: start, end_frame: end, start_time: startTime, end_time: endTime, time_range_formatted: `${formatTime(startTime)}-${formatTime(endTime)}` });
  }
  return scenes;
}
