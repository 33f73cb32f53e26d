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

/**
 * Scenes from boundaries. `times` holds each frame's time; the last scene ends one frame duration after the
 * last frame (the last frame's own duration, else 1/frameRate).
 */
export function scenesFromBoundaries(boundaries: readonly Boundary[], times: Float64Array, frameRate: number): Scene[] {
  const count = times.length;
  if (count === 0) return [];
  const lastDuration = count >= 2 ? times[count - 1]! - times[count - 2]! : 1 / frameRate;
  const endOfVideo = times[count - 1]! + (lastDuration > 0 ? lastDuration : 1 / frameRate);
  const starts = [0, ...boundaries.map((b) => b.frame).filter((f) => f > 0 && f < count)];
  const scenes: Scene[] = [];
  for (let k = 0; k < starts.length; k++) {
    const start = starts[k]!;
    const end = starts[k + 1] ?? count;
    const startTime = times[start]!;
    const endTime = end < count ? times[end]! : endOfVideo;
    scenes.push({ scene_index: k, start_frame: start, end_frame: end, start_time: startTime, end_time: endTime, time_range_formatted: `${formatTime(startTime)}-${formatTime(endTime)}` });
  }
  return scenes;
}
