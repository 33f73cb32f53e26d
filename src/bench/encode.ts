/**
 * Encode raw RGB24 frames to an H.264 MP4 with the bundled ffmpeg, fed through its stdin with backpressure:
 * `write()` resolves when the pipe can take more, so memory stays flat however long the clip is.
 *
 * The binary and the process come from src/media/ffmpeg.ts (resolveFfmpegPaths, spawnTool with a stdin pipe);
 * the arguments are an array, never a shell line, and the output is a `file:` URL.
 */
import type { ChildProcess } from 'node:child_process';
import { AbortError, DecodeError } from '../errors.js';
import { fileUrl, resolveFfmpegPaths, spawnTool, type FfmpegPathOptions } from '../media/ffmpeg.js';

/** Options of {@link FrameEncoder}. */
export interface EncoderOptions extends FfmpegPathOptions {
  width: number;
  height: number;
  /** Frames per second (constant). */
  fps: number;
  /** Keyframe interval. Default 250. */
  gop?: number | undefined;
  /** x264 constant rate factor. Default 18. */
  crf?: number | undefined;
  /** x264 preset. Default "veryfast". */
  preset?: string | undefined;
  /** Encoder threads. Default 2. */
  threads?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** A running ffmpeg encoder that takes RGB24 frames. */
export class FrameEncoder {
  private readonly child: ChildProcess;
  private readonly done: Promise<void>;
  private failure: Error | undefined;
  private readonly stderrTail: () => string;
  private readonly frameBytes: number;
  /** Frames written so far. */
  frames = 0;

  /** Start ffmpeg writing `output` (overwritten). */
  constructor(output: string, options: EncoderOptions) {
    const { ffmpeg } = resolveFfmpegPaths(options);
    this.frameBytes = options.width * options.height * 3;
    const args = [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${options.width}x${options.height}`, '-framerate', String(options.fps),
      '-i', 'pipe:0',
      '-an', '-c:v', 'libx264', '-preset', options.preset ?? 'veryfast', '-crf', String(options.crf ?? 18),
      '-pix_fmt', 'yuv420p', '-g', String(options.gop ?? 250), '-threads', String(options.threads ?? 2),
      '-r', String(options.fps), '-movflags', '+faststart',
      fileUrl(output),
    ];
    const spawned = spawnTool(ffmpeg, args, { stdin: 'pipe', stdout: 'ignore' });
    this.child = spawned.child;
    this.stderrTail = spawned.stderrTail;
    this.child.stdin?.on('error', (error) => {
      this.failure ??= error;
    });
    const signal = options.signal;
    const onAbort = (): void => {
      this.failure ??= new AbortError();
      this.child.kill('SIGKILL');
    };
    if (signal?.aborted === true) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    this.done = new Promise((resolve, reject) => {
      this.child.once('error', (error) => {
        signal?.removeEventListener('abort', onAbort);
        reject(new DecodeError('FFMPEG_NOT_FOUND', `Cannot start ffmpeg: ${error.message}`, { cause: error }));
      });
      this.child.once('close', (code) => {
        signal?.removeEventListener('abort', onAbort);
        if (this.failure instanceof AbortError) reject(this.failure);
        else if (code !== 0) reject(new DecodeError('INTERNAL', `ffmpeg could not encode ${output} (exit ${String(code)}): ${this.stderrTail().trim().split('\n').pop() ?? ''}`));
        else resolve();
      });
    });
    this.done.catch(() => undefined);
  }

  /** Queue one frame; resolves when ffmpeg is ready for more. */
  async write(frame: Uint8Array): Promise<void> {
    if (frame.length !== this.frameBytes) throw new DecodeError('INTERNAL', `Frame has ${frame.length} bytes, expected ${this.frameBytes}`);
    if (this.failure !== undefined) throw this.failure;
    const stdin = this.child.stdin!;
    this.frames++;
    // Copy: the caller reuses its buffer for the next frame while this one waits in the pipe.
    if (!stdin.write(Buffer.from(frame))) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = (): void => {
          this.child.off('close', onClose);
          resolve();
        };
        const onClose = (): void => {
          stdin.off('drain', onDrain);
          reject(this.failure ?? new DecodeError('INTERNAL', `ffmpeg exited early: ${this.stderrTail().trim()}`));
        };
        stdin.once('drain', onDrain);
        this.child.once('close', onClose);
      });
    }
  }

  /** Close the input and wait for the file to be written. */
  async finish(): Promise<void> {
    this.child.stdin?.end();
    await this.done;
  }

  /** Kill ffmpeg (for error paths). */
  kill(): void {
    this.child.kill('SIGKILL');
  }
}
