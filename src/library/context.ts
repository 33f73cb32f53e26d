/** What the library's API objects share (internal). */
import type { LibraryStore } from '../store/types.js';

/** Internal: the open library as its API objects see it. */
export interface LibraryContext {
  readonly store: LibraryStore;
  /** `<name>.assets` folder. */
  readonly assetsDir: string;
  readonly ffmpeg: { ffmpegPath?: string; ffprobePath?: string };
  readonly maxRetries: number;
  /** Tell the in-process workers to look at the queue now. */
  wake(): void;
  /** Abort a job running in this process; true if it was. */
  cancelLocal(jobId: string): boolean;
  /** Be told when something happens to a job in this process (used to cut waits short). */
  watch(jobId: string, listener: () => void): () => void;
  now(): number;
}
