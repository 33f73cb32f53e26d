/**
 * A pool of tesseract.js workers, offline. Jobs go through a tesseract.js scheduler (`createScheduler`), which
 * hands each job to the first idle worker. Workers are recycled: after `recycleAfter` images per worker the
 * pool starts a fresh generation of workers (a new scheduler) and terminates the old one once its running jobs
 * are done, because tesseract's WebAssembly heap only grows. At most one job per worker is handed to tesseract
 * at a time; the rest wait in this pool's queue. close() rejects every waiting job with an AbortError, lets the
 * few running ones finish, and terminates every worker, so no handle keeps the process alive.
 *
 * Language data comes from `@tesseract.js-data/eng` (`4.0.0_best_int`, the integer "best" LSTM model, gzipped)
 * and, for other `languages`, from the `@tesseract.js-data/<lang>` packages the user installed, resolved from
 * this package, never from the network; tesseract's cache goes to a private temporary folder.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AbortError, ModelError } from '../errors.js';
import { loadTesseract } from './runtime.js';

/** The language data the pool reads. */
export interface TesseractData {
  /** Tesseract language string, for example "eng" or "eng+deu". */
  lang: string;
  /** One folder per language (`<lang>.traineddata[.gz]` inside); linked into one private folder at start. */
  folders: { lang: string; dir: string; gzip: boolean }[];
  gzip: boolean;
  version: string;
}

/** Tesseract language codes: three letters, optionally a script or variant suffix ("chi_sim", "deu_latf"). */
export const LANGUAGE_CODE = /^[a-z]{3}(_[a-z]+)?$/;

/**
 * Where the traineddata of each language is: the `4.0.0_best_int` folder (else `4.0.0`) of the
 * `@tesseract.js-data/<lang>` package, resolved from this package, never from the network.
 * @throws ModelError OCR_LANGUAGE_MISSING naming the package to install when one is not installed
 *   (MODEL_UNAVAILABLE for English, which ships with scenescope).
 */
export function tesseractData(languages: readonly string[] = ['eng']): TesseractData {
  const require = createRequire(import.meta.url);
  const folders: TesseractData['folders'] = [];
  for (const lang of languages) {
    let root: string;
    try {
      root = path.dirname(require.resolve(`@tesseract.js-data/${lang}/package.json`));
    } catch (error) {
      if (lang === 'eng') throw new ModelError('MODEL_UNAVAILABLE', 'Cannot find @tesseract.js-data/eng; reinstall scenescope (npm install)', { cause: error });
      throw new ModelError('OCR_LANGUAGE_MISSING', `OCR language "${lang}" needs the package @tesseract.js-data/${lang}; install it with: npm install @tesseract.js-data/${lang}`, { cause: error });
    }
    const best = path.join(root, '4.0.0_best_int');
    const dir = existsSync(best) ? best : path.join(root, '4.0.0');
    // The packages ship <lang>.traineddata.gz; a hand-made copy may hold the plain file instead.
    const gzip = existsSync(path.join(dir, `${lang}.traineddata.gz`)) || !existsSync(path.join(dir, `${lang}.traineddata`));
    folders.push({ lang, dir, gzip });
  }
  const gzip = folders.every((f) => f.gzip);
  return { lang: languages.join('+'), folders, gzip, version: languages.map((l) => `${l}-4.0.0_best_int`).join('+') };
}

/** One recognised line in page mode. */
export interface PageLine {
  text: string;
  confidence: number;
  bbox: { x0: number; y0: number; x1: number; y1: number };
}

/** What a job returns. */
export interface Recognition {
  text: string;
  /** 0..100 */
  confidence: number;
  /** Lines (page mode only). */
  lines?: PageLine[];
}

/** Options of the pool. */
export interface OcrPoolOptions {
  workers: number;
  /** Tesseract page segmentation mode: 7 (one line) for crops, 3 (automatic) for whole frames. */
  psm: '3' | '7' | '11';
  recycleAfter: number;
  /** Tesseract languages, English first. Default ["eng"]. */
  languages?: readonly string[];
}

interface TessWorker {
  recognize(image: Buffer, options?: unknown, output?: unknown): Promise<{ data: { text: string; confidence: number; blocks?: unknown } }>;
  setParameters(params: Record<string, string>): Promise<unknown>;
  terminate(): Promise<unknown>;
}

interface Scheduler {
  addWorker(worker: TessWorker): string;
  addJob(action: 'recognize', ...args: unknown[]): Promise<{ data: { text: string; confidence: number; blocks?: unknown } }>;
}

interface Generation {
  scheduler: Scheduler;
  workers: TessWorker[];
  jobs: number;
  running: number;
  retired: boolean;
}

/** A pool of tesseract workers. Create with {@link OcrPool.create}. */
export class OcrPool {
  private current: Generation | undefined;
  private starting: Promise<Generation> | undefined;
  private readonly generations = new Set<Generation>();
  private readonly waiting = new Set<(error: Error) => void>();
  private readonly queue: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private busy = 0;
  private closed = false;
  private cacheDir: string | undefined;
  private langPath = '';
  /** Workers created over the pool's life (for tests). */
  workersCreated = 0;

  private constructor(
    private readonly options: OcrPoolOptions,
    private readonly data: TesseractData,
  ) {}

  /**
   * Start the pool (its first generation of workers).
   * @throws ModelError MODEL_UNAVAILABLE when tesseract.js or its language data cannot be loaded.
   */
  static async create(options: OcrPoolOptions): Promise<OcrPool> {
    const pool = new OcrPool(options, tesseractData(options.languages ?? ['eng']));
    pool.cacheDir = await mkdtemp(path.join(tmpdir(), 'scenescope-tesseract-'));
    try {
      pool.langPath = await pool.linkLanguages();
      pool.current = await pool.startGeneration();
    } catch (error) {
      await pool.close();
      throw error instanceof ModelError ? error : new ModelError('MODEL_UNAVAILABLE', `Cannot start tesseract: ${(error as Error).message}`, { cause: error });
    }
    return pool;
  }

  /** Language data version, for provenance. */
  get version(): string {
    return this.data.version;
  }

  /**
   * One folder with every language's traineddata: the package folder itself for one language, else symbolic
   * links (copies where links are refused) in the private cache folder, since tesseract.js takes one langPath.
   */
  private async linkLanguages(): Promise<string> {
    const folders = this.data.folders;
    if (folders.length === 1) return folders[0]!.dir;
    const dir = path.join(this.cacheDir!, 'lang');
    await mkdir(dir, { recursive: true });
    for (const f of folders) {
      const name = `${f.lang}.traineddata${this.data.gzip ? '.gz' : ''}`;
      const source = path.join(f.dir, name);
      await symlink(source, path.join(dir, name)).catch(() => copyFile(source, path.join(dir, name)));
    }
    return dir;
  }

  private async startGeneration(): Promise<Generation> {
    const T = await loadTesseract();
    const scheduler = T.createScheduler() as unknown as Scheduler;
    const generation: Generation = { scheduler, workers: [], jobs: 0, running: 0, retired: false };
    this.generations.add(generation);
    const make = async (): Promise<TessWorker> => {
      const worker = (await T.createWorker(this.data.lang, T.OEM.LSTM_ONLY, {
        langPath: this.langPath,
        cachePath: this.cacheDir!,
        cacheMethod: 'none',
        gzip: this.data.gzip,
        errorHandler: () => undefined,
      })) as unknown as TessWorker;
      this.workersCreated++;
      generation.workers.push(worker);
      await worker.setParameters({ tessedit_pageseg_mode: this.options.psm, debug_file: '/dev/null' });
      scheduler.addWorker(worker);
      return worker;
    };
    await Promise.all(Array.from({ length: this.options.workers }, make));
    if (this.closed) {
      await this.terminateGeneration(generation);
      throw new AbortError('OCR pool closed while starting');
    }
    return generation;
  }

  private async terminateGeneration(generation: Generation): Promise<void> {
    this.generations.delete(generation);
    await Promise.allSettled(generation.workers.map((w) => w.terminate()));
    generation.workers = [];
  }

  private async generation(): Promise<Generation> {
    const current = this.current;
    if (current !== undefined && current.jobs < this.options.recycleAfter * this.options.workers) return current;
    if (this.starting === undefined) {
      this.starting = this.startGeneration().then(
        (fresh) => {
          const old = this.current;
          this.current = fresh;
          this.starting = undefined;
          if (old !== undefined) {
            old.retired = true;
            if (old.running === 0) void this.terminateGeneration(old);
          }
          return fresh;
        },
        (error: unknown) => {
          this.starting = undefined;
          throw error;
        },
      );
    }
    return this.starting;
  }

  /** Wait for a free worker slot (at most `workers` jobs are handed to tesseract at once). */
  private acquire(): Promise<void> {
    if (this.busy < this.options.workers) {
      this.busy++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => this.queue.push({ resolve, reject }));
  }

  private release(): void {
    const next = this.queue.shift();
    if (next !== undefined) next.resolve();
    else this.busy--;
  }

  /**
   * Recognise one image (any format leptonica reads: PNG, JPEG, PNM...). `blocks` asks for line boxes (page mode).
   * Jobs wait in this pool's own queue, not in tesseract's, so that close() can drop them and never terminates a
   * worker in the middle of a job (tesseract.js then throws from inside its worker wrapper).
   * @throws AbortError when the pool is closed before the job finishes; the tesseract error otherwise.
   */
  async recognize(image: Buffer, options: { blocks?: boolean } = {}): Promise<Recognition> {
    if (this.closed) throw new AbortError('OCR pool is closed');
    await this.acquire();
    let job: Promise<Recognition> | undefined;
    try {
      if (this.closed) throw new AbortError('OCR pool is closed');
      const generation = await this.generation();
      if (this.closed) throw new AbortError('OCR pool is closed');
      generation.jobs++;
      generation.running++;
      const output = options.blocks === true ? { text: true, blocks: true } : { text: true };
      job = generation.scheduler.addJob('recognize', image, {}, output).then(
        (result) => {
          const recognition: Recognition = { text: result.data.text, confidence: result.data.confidence };
          if (options.blocks === true) recognition.lines = linesOf(result.data.blocks);
          return recognition;
        },
      );
      const running = job.finally(() => {
        generation.running--;
        this.inFlight.delete(running);
        if (generation.retired && generation.running === 0 && this.generations.has(generation)) void this.terminateGeneration(generation);
      });
      running.catch(() => undefined);
      this.inFlight.add(running);
      let cancel: ((error: Error) => void) | undefined;
      const cancelled = new Promise<never>((_, reject) => {
        cancel = reject;
      });
      this.waiting.add(cancel!);
      try {
        return await Promise.race([job, cancelled]);
      } finally {
        this.waiting.delete(cancel!);
      }
    } finally {
      // The slot frees when tesseract is done with the image, even if the caller stopped waiting.
      if (job === undefined) this.release();
      else void job.then(() => this.release(), () => this.release());
    }
  }

  /**
   * Reject every waiting job with an AbortError, let the jobs tesseract is running finish (at most 5 s), then
   * terminate every worker. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const reject of this.waiting) reject(new AbortError('OCR pool closed'));
    this.waiting.clear();
    for (const waiter of this.queue.splice(0)) waiter.reject(new AbortError('OCR pool closed'));
    await this.starting?.catch(() => undefined);
    if (this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
      clearTimeout(timer);
    }
    await Promise.all([...this.generations].map((g) => this.terminateGeneration(g)));
    this.current = undefined;
    if (this.cacheDir !== undefined) await rm(this.cacheDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function linesOf(blocks: unknown): PageLine[] {
  const lines: PageLine[] = [];
  if (!Array.isArray(blocks)) return lines;
  for (const block of blocks as { paragraphs?: { lines?: { text?: string; confidence?: number; bbox?: PageLine['bbox'] }[] }[] }[]) {
    for (const paragraph of block.paragraphs ?? []) {
      for (const line of paragraph.lines ?? []) {
        if (typeof line.text === 'string' && line.bbox !== undefined) lines.push({ text: line.text, confidence: line.confidence ?? 0, bbox: line.bbox });
      }
    }
  }
  return lines;
}
