/**
 * All the frames the enricher reads from a video (the models' samples and the OCR samples of every scene),
 * decoded in one pass instead of one ffmpeg process per scene and per OCR chunk.
 *
 * Decoding a scene's samples on their own costs a seek (decoding from the keyframe before) and a pass over the
 * stretch they span, per scene for the models and again per chunk of OCR samples: on the subtitled real clip of
 * benchmarks/analyze.ts (62.8 s, 960x540) ffmpeg spent about 8 s of CPU in enrichment, against 2.3-2.7 s to
 * decode the whole clip once, and each spawn forks the large analysis process (17 ms of CPU and up to 0.1 s of a
 * blocked event loop at 500 MB). Here the targets of all scenes are sorted and cut into windows (at most
 * {@link WINDOW_TARGETS} targets, a new window where two targets are more than {@link WINDOW_GAP} seconds apart,
 * so a long still scene is seeked over rather than decoded through); each window is one ffmpeg process with the
 * arguments of frames.ts (accurate seek, a `select` that keeps the first frame at or after each target) and a
 * `showinfo` filter, whose `pts_time` lines tell which targets each frame answers: a frame that jumps past two
 * targets answers both, and a target never reached (a damaged stretch, the end of the stream) is known as lost
 * instead of shifting every later frame onto the wrong target.
 *
 * Frames are handed to the scene that asked for them: its model samples (all at once, when the stream has
 * passed them) and its OCR samples (one by one, as they come). Scenes are enriched about in order, so the frames
 * of scenes not yet started wait in memory: when more than {@link STREAM_BUFFER} frames wait, ffmpeg's output
 * is paused (it blocks on the pipe) until consumers catch up. Every frame of a scene comes before any frame of a
 * later scene, so a started scene always has its frames and the pause cannot deadlock, provided that a started
 * scene keeps reading its OCR samples or closes them ({@link SceneFrames.closeOcr}).
 */
import { AbortError, DecodeError, InputError, throwIfAborted } from '../errors.js';
import { resolveFfmpegPaths, spawnTool, type FfmpegPathOptions } from '../media/ffmpeg.js';
import { frameArgs, type DecodedFrame } from './frames.js';
import type { RgbImage } from './types.js';

/** Most targets one ffmpeg process decodes (the select expression grows with them). */
export const WINDOW_TARGETS = 64;
/** Seconds between two targets beyond which a new process seeks to the next one instead of decoding through. */
export const WINDOW_GAP = 10;
/** Decoded frames that may wait for their scene before ffmpeg is paused. */
export const STREAM_BUFFER = 8;

/** What one scene asks for: times (seconds, as in the scene's frames) of the model samples and of the OCR samples. */
export interface FrameRequest {
  model: readonly number[];
  ocr: readonly number[];
}

/** One scene's view of the stream. */
export interface SceneFrames {
  /**
   * The model samples that decoded, in time order, once the stream has passed them all.
   * @throws InputError DECODE_FAILED when none decoded; AbortError.
   */
  model(): Promise<DecodedFrame[]>;
  /** The OCR samples that decoded, in time order, as the stream reaches them. Ending the loop early closes them. */
  ocr(): AsyncGenerator<DecodedFrame>;
  /** Drop the OCR samples still to come (the scene stopped reading text). */
  closeOcr(): void;
  /** Drop everything still to come for this scene. */
  close(): void;
}

interface Target {
  time: number;
  /** Who asked for the frame, and at which time (targets closer than 3/4 of a frame are one). */
  subscribers: { scene: SceneState; role: 'model' | 'ocr'; time: number }[];
}

interface SceneState {
  started: boolean;
  closed: boolean;
  ocrClosed: boolean;
  modelTimes: number[];
  modelFrames: DecodedFrame[];
  modelLeft: number;
  modelWaiters: { resolve: (frames: DecodedFrame[]) => void; reject: (error: Error) => void }[];
  ocrQueue: DecodedFrame[];
  ocrLeft: number;
  ocrWake: (() => void) | null;
  lastError: string | null;
}

/** The `pts_time` of a showinfo line, or null for other lines. */
export function showinfoTime(line: string): number | null {
  if (!line.includes('Parsed_showinfo')) return null;
  const m = /\bn:\s*\d+\s+pts:\s*-?\d+\s+pts_time:\s*(-?[\d.]+(?:e-?\d+)?)/.exec(line);
  return m === null ? null : Number(m[1]);
}

/** Cut sorted targets into windows (see {@link WINDOW_TARGETS}, {@link WINDOW_GAP}). Exported for tests. */
export function windowsOf(times: readonly number[], maxTargets = WINDOW_TARGETS, gap = WINDOW_GAP): number[][] {
  const windows: number[][] = [];
  let current: number[] = [];
  for (const t of times) {
    if (current.length > 0 && (current.length >= maxTargets || t - current[current.length - 1]! > gap)) {
      windows.push(current);
      current = [];
    }
    current.push(t);
  }
  if (current.length > 0) windows.push(current);
  return windows;
}

/** Incremental reader of a binary PPM (P6, maxval 255) stream. */
class PpmReader {
  private header = '';
  private image: Uint8Array | null = null;
  private width = 0;
  private height = 0;
  private filled = 0;

  constructor(private readonly onImage: (image: RgbImage) => void) {}

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.image === null) {
        // The header: "P6", width, height, maxval, each followed by whitespace (no comments from ffmpeg).
        while (pos < chunk.length && this.image === null) {
          this.header += String.fromCharCode(chunk[pos++]!);
          const m = /^P6\s+(\d+)\s+(\d+)\s+(\d+)\s$/.exec(this.header);
          if (m !== null) {
            this.width = Number(m[1]);
            this.height = Number(m[2]);
            if (Number(m[3]) !== 255 || this.width <= 0 || this.height <= 0) throw new Error(`unsupported PPM header ${this.header.trim()}`);
            this.image = new Uint8Array(this.width * this.height * 3);
            this.filled = 0;
            this.header = '';
          } else if (this.header.length > 64) throw new Error(`not a PPM stream (${JSON.stringify(this.header.slice(0, 16))})`);
        }
        continue;
      }
      const n = Math.min(chunk.length - pos, this.image.length - this.filled);
      this.image.set(chunk.subarray(pos, pos + n), this.filled);
      this.filled += n;
      pos += n;
      if (this.filled === this.image.length) {
        const image: RgbImage = { data: this.image, width: this.width, height: this.height, channels: 3 };
        this.image = null;
        this.onImage(image);
      }
    }
  }
}

/**
 * One decoding pass over a video for the frames of many scenes (see the file header). Decoding starts on the
 * first call of a scene's `model()` or `ocr()` and runs the windows one after the other.
 */
export class FrameStream {
  private readonly scenes: SceneState[];
  private readonly targets: Target[];
  private readonly frameDuration: number;
  private readonly signal: AbortSignal | undefined;
  private readonly ffmpeg: string;
  private running: Promise<void> | null = null;
  private failure: Error | null = null;
  private closed = false;
  private paused = false;
  private child: import('node:child_process').ChildProcess | null = null;

  /**
   * @param requests one per scene, scenes in time order.
   */
  constructor(
    private readonly videoPath: string,
    requests: readonly FrameRequest[],
    options: FfmpegPathOptions & { frameDuration: number; signal?: AbortSignal | undefined },
  ) {
    this.frameDuration = options.frameDuration;
    this.signal = options.signal;
    this.ffmpeg = resolveFfmpegPaths(options).ffmpeg;
    const byTime = new Map<number, Target>();
    this.scenes = requests.map((request) => {
      const scene: SceneState = { started: false, closed: false, ocrClosed: false, modelTimes: [...new Set(request.model)].sort((a, b) => a - b), modelFrames: [], modelLeft: 0, modelWaiters: [], ocrQueue: [], ocrLeft: 0, ocrWake: null, lastError: null };
      for (const [role, times] of [['model', scene.modelTimes], ['ocr', [...new Set(request.ocr)]]] as const) {
        for (const time of times) {
          let target = byTime.get(time);
          if (target === undefined) byTime.set(time, (target = { time, subscribers: [] }));
          target.subscribers.push({ scene, role, time });
          if (role === 'model') scene.modelLeft++;
          else scene.ocrLeft++;
        }
      }
      return scene;
    });
    // Targets closer than 3/4 of a frame are one frame (as decodeFramesAt merges them).
    const sorted = [...byTime.values()].sort((a, b) => a.time - b.time);
    this.targets = [];
    for (const t of sorted) {
      const last = this.targets[this.targets.length - 1];
      if (last === undefined || t.time - last.time >= this.frameDuration * 0.75) {
        this.targets.push(t);
        continue;
      }
      for (const sub of t.subscribers) {
        // One frame per role and scene, as decodeFramesAt returns one frame for targets that close.
        if (!last.subscribers.some((o) => o.scene === sub.scene && o.role === sub.role)) last.subscribers.push(sub);
        else if (sub.role === 'model') {
          sub.scene.modelLeft--;
          sub.scene.modelTimes = sub.scene.modelTimes.filter((x) => x !== sub.time);
        } else sub.scene.ocrLeft--;
      }
    }
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  private readonly onAbort = (): void => {
    this.fail(new AbortError(undefined, { cause: this.signal?.reason }));
  };

  /** The frames of scene `index` (the order of the requests). */
  scene(index: number): SceneFrames {
    const scene = this.scenes[index];
    if (scene === undefined) throw new RangeError(`no scene ${index} in this frame stream`);
    const start = (): void => {
      scene.started = true;
      this.start();
      this.flow();
    };
    const closeOcr = (): void => {
      scene.ocrClosed = true;
      scene.ocrQueue = [];
      scene.ocrWake?.();
      this.flow();
    };
    return {
      model: () => {
        start();
        if (scene.modelLeft === 0 || this.failure !== null) return this.settleModel(scene);
        return new Promise<DecodedFrame[]>((resolve, reject) => scene.modelWaiters.push({ resolve, reject }));
      },
      ocr: (): AsyncGenerator<DecodedFrame> => {
        start();
        const stream = this;
        return (async function* () {
          try {
            for (;;) {
              if (stream.failure !== null) throw stream.failure;
              const next = scene.ocrQueue.shift();
              if (next !== undefined) {
                stream.flow();
                yield next;
                continue;
              }
              if (scene.ocrLeft === 0 || scene.ocrClosed) return;
              await new Promise<void>((resolve) => (scene.ocrWake = resolve));
              scene.ocrWake = null;
            }
          } finally {
            closeOcr();
          }
        })();
      },
      closeOcr,
      close: () => {
        scene.closed = true;
        closeOcr();
        scene.modelFrames = [];
      },
    };
  }

  /** Stop decoding; waiting scenes reject with AbortError. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.fail(new AbortError('The frame stream is closed'));
  }

  private settleModel(scene: SceneState): Promise<DecodedFrame[]> {
    if (this.failure !== null && scene.modelLeft > 0) return Promise.reject(this.failure);
    if (scene.modelFrames.length > 0) return Promise.resolve(scene.modelFrames);
    const times = scene.modelTimes.map((t) => t.toFixed(3)).join(', ');
    return Promise.reject(new InputError('DECODE_FAILED', `No frame decoded at ${times} s (${scene.lastError ?? 'the stream ended before them'})`, { details: { path: this.videoPath } }));
  }

  private fail(error: Error): void {
    if (this.failure !== null) return;
    this.failure = error;
    this.closed = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.child?.kill('SIGKILL');
    for (const scene of this.scenes) {
      for (const w of scene.modelWaiters.splice(0)) w.reject(error);
      scene.ocrWake?.();
    }
  }

  /** Frames decoded and not yet taken by their scene (a started scene's model samples are taken). */
  private waiting(): number {
    let n = 0;
    for (const s of this.scenes) n += s.ocrQueue.length + (s.started ? 0 : s.modelFrames.length);
    return n;
  }

  /** Pause or resume ffmpeg's output after frames were added or taken. */
  private flow(): void {
    const stdout = this.child?.stdout;
    if (stdout === null || stdout === undefined) return;
    const full = this.waiting() > STREAM_BUFFER;
    if (full && !this.paused) {
      this.paused = true;
      stdout.pause();
    } else if (!full && this.paused) {
      this.paused = false;
      stdout.resume();
    }
  }

  private start(): void {
    if (this.running !== null) return;
    this.running = (async () => {
      try {
        throwIfAborted(this.signal);
        for (const window of windowsOf(this.targets.map((t) => t.time))) {
          if (this.failure !== null) return;
          await this.runWindow(this.targets.filter((t) => t.time >= window[0]! && t.time <= window[window.length - 1]!));
        }
      } catch (error) {
        this.fail(error as Error);
      }
    })();
  }

  /** Hand a decoded frame to the subscribers of a target. */
  private deliver(target: Target, image: RgbImage | null, error: string | null): void {
    for (const { scene, role, time } of target.subscribers) {
      if (error !== null) scene.lastError = error;
      const frame = image === null ? null : { time, image };
      if (role === 'model') {
        if (frame !== null && !scene.closed) scene.modelFrames.push(frame);
        if (--scene.modelLeft === 0) {
          const waiters = scene.modelWaiters.splice(0);
          if (waiters.length > 0) this.settleModel(scene).then((f) => waiters.forEach((w) => w.resolve(f)), (e: Error) => waiters.forEach((w) => w.reject(e)));
        }
      } else {
        if (frame !== null && !scene.ocrClosed) scene.ocrQueue.push(frame);
        scene.ocrLeft--;
        scene.ocrWake?.();
      }
    }
  }

  private runWindow(targets: Target[]): Promise<void> {
    const times = targets.map((t) => t.time);
    const args = frameArgs(this.videoPath, times, this.frameDuration, 'pipe:1', { showinfo: true });
    const half = Math.max(0.0005, this.frameDuration / 2);
    const seek = Math.max(0, times[0]! - half);
    // A target is answered by the first frame whose time (from the seek) reaches its select threshold.
    const thresholds = times.map((t) => Math.max(0, t - seek - half));
    let next = 0;
    const frameTimes: number[] = [];
    const images: RgbImage[] = [];
    const pair = (): void => {
      while (frameTimes.length > 0 && images.length > 0) {
        const t = frameTimes.shift()!;
        const image = images.shift()!;
        while (next < targets.length && thresholds[next]! <= t + 1e-6) this.deliver(targets[next++]!, image, null);
      }
      this.flow();
    };
    return new Promise<void>((resolve, reject) => {
      let pending = '';
      const { child, stderrTail } = spawnTool(this.ffmpeg, args, {
        onStderr: (chunk) => {
          pending += chunk;
          const lines = pending.split('\n');
          pending = lines.pop()!;
          for (const line of lines) {
            const t = showinfoTime(line);
            if (t !== null) frameTimes.push(t);
          }
          pair();
        },
      });
      this.child = child;
      this.paused = false;
      const reader = new PpmReader((image) => {
        images.push(image);
        pair();
      });
      child.stdout!.on('data', (chunk: Buffer) => {
        try {
          reader.push(chunk);
        } catch (error) {
          child.kill('SIGKILL');
          reject(new InputError('DECODE_FAILED', `Cannot read the frames ffmpeg decoded: ${(error as Error).message}`, { cause: error, details: { path: this.videoPath } }));
        }
      });
      child.once('error', (error) => reject(new DecodeError('FFMPEG_NOT_FOUND', `Cannot start ffmpeg: ${error.message}`, { cause: error })));
      child.once('close', (code) => {
        this.child = null;
        const t = showinfoTime(pending);
        if (t !== null) frameTimes.push(t);
        pair();
        // Targets never reached: lost, with ffmpeg's last error line when it failed.
        const why = code === 0 ? null : stderrTail().trim().split('\n').filter((l) => !l.includes('Parsed_showinfo')).pop() ?? `exit code ${String(code)}`;
        while (next < targets.length) this.deliver(targets[next++]!, null, why);
        resolve();
      });
    });
  }
}
