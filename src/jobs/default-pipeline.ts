/**
 * The default analysis pipeline: the real engine, in three resumable steps.
 *
 * - probe: `probe(path)`: VideoMetadata (bad files fail here with their InputError code).
 * - detect: `detectScenes(path)`: boundaries and scenes, progress as "Detecting scenes (1520/3440 frames)".
 *   The per-frame measures the enricher needs go to a small file in the job's folder (frames-file.ts).
 * - enrich (status `uploading_to_vlm`): the scene enricher (src/enrich: keyframe, on-screen text, objects,
 *   labels, caption, description, tags, embedding, confidence) with whatever models are installed, then a
 *   thumbnail per scene at its keyframe. One enricher serves every job of the pipeline; it is created on first
 *   use and closed by close(). A scene the enricher cannot do keeps null text and lists why in its errors; an
 *   enricher that cannot start at all (broken installation) leaves every scene with a thumbnail, null text,
 *   embedding_status "failed" and the reason.
 *   With `enrichment: 'thumbnails'` only the thumbnails are made (text null, embedding_status "pending").
 *   A video the detect step chunks is enriched in chunks too: groups of scenes that any worker enriches,
 *   merged here in scene order (enrich-chunks.ts). Either way persistent lines are marked over all the scenes
 *   at the end, so the result does not depend on how the scenes were shared out.
 */
import path from 'node:path';
import { tmpdir } from 'node:os';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { detectScenes, resolveDetectOptions, type DetectOptions } from '../api/detect.js';
import { withAnalysisSlot } from '../api/limit.js';
import { detectWindowed } from '../detect/windowed.js';
import { thumbnailName } from '../enrich/thumbnail.js';
import type { EnrichFrame, Enricher, EnricherOptions } from '../enrich/types.js';
import { AbortError, InputError, ScenescopeError, throwIfAborted } from '../errors.js';
import { acquireFeaturePool, type PoolLease } from '../features/pool-registry.js';
import { probe, type ProbeResult } from '../media/probe.js';
import type { DegradedRecord, SceneIssue } from '../store/types.js';
import { numberIn } from '../util/validate.js';
import { computeChunk, mergeChunks, planChunks, type ChunkSpec } from './chunks.js';
import { decodeEnrichResult, decodeFramesInput, encodeEnrichResult, encodeFramesInput, enrichedScene, isEnrichChunk, markPersistentLines, planEnrichChunks, storeEnrichment, type EnrichChunkOutcome, type EnrichChunkScene, type EnrichChunkSpec, type StoredEnrichment } from './enrich-chunks.js';
import { FRAMES_FILE, packFramesFile, readFramesFile, unpackFramesFile, writeFramesFile, type FramesSource } from './frames-file.js';
import { sceneConfidence, type AnalysisPipeline, type ChunkContext, type DetectStepOutput, type EnrichStepOutput, type PipelineStep, type ProbeStepOutput, type StepContext } from './pipeline.js';
import { writeSceneThumbnails, writeThumbnailFile } from './thumbnails.js';

/** Options of {@link createDefaultPipeline}. */
export interface DefaultPipelineOptions {
  ffmpegPath?: string;
  ffprobePath?: string;
  /** detectScenes options (detector, threshold, minSceneLen, backend...). */
  detect?: Omit<DetectOptions, 'signal' | 'onProgress' | 'ffmpegPath' | 'ffprobePath' | 'statsFile'>;
  /** "full" (default): the scene enricher; "thumbnails": thumbnails only. */
  enrichment?: 'full' | 'thumbnails';
  /** Enricher options (modelsDir, ocr, caption, concurrency...). */
  enricher?: Omit<EnricherOptions, 'thumbnails' | 'signal' | 'ffmpegPath'>;
  /** Thumbnail width in pixels. Default 320. */
  thumbnailWidth?: number;
  /** A custom enrich step instead of the enricher. */
  enrich?: (ctx: StepContext, detected: DetectStepOutput, probed: ProbeStepOutput) => Promise<EnrichStepOutput>;
  /**
   * A video longer than this many seconds is detected in chunks of about this length that any worker of the
   * library may decode (see src/jobs/chunks.ts); 0 turns chunking off. Default {@link DEFAULT_CHUNK_SECONDS}.
   */
  chunkSeconds?: number;
}

/** Default chunk span: 10 minutes. */
export const DEFAULT_CHUNK_SECONDS = 600;

/**
 * Validate a chunk span (seconds): 0 (off) or 1 to 86400.
 * @throws OptionError naming `name`.
 */
export function resolveChunkSeconds(value: unknown, name = 'chunkSeconds'): number {
  if (value === undefined) return DEFAULT_CHUNK_SECONDS;
  const seconds = numberIn(name, value, 0, 86_400);
  if (seconds > 0 && seconds < 1) return numberIn(name, value, 1, 86_400);
  return seconds;
}

/** A chunk as stored with its job: the plan plus the probe, so any host can decode it without probing. */
type StoredChunk = ChunkSpec & { probe: ProbeResult };

/** Static step weights (relative costs on short clips); measured costs replace them after a few jobs. */
const WEIGHTS = { probe: 1, detect: 8, enrich: 10 } as const;

function issueOf(error: unknown, stage: string): SceneIssue {
  return { stage, code: error instanceof ScenescopeError ? error.code : 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

/** A set of scenes to enrich (the whole video, or an enrich chunk's scenes). */
interface Group {
  mediaPath: string;
  signal: AbortSignal;
  frameRate: number;
  scenes: readonly EnrichChunkScene[];
  /** The scenes' per-frame measures, or null (then keyframes are the scenes' middles). */
  frames: ((start: number, end: number) => EnrichFrame[]) | null;
  /** Where the thumbnails go. */
  dir: string;
  mode: 'full' | 'thumbnails';
  onProgress(fraction: number, text: string): void;
}
/** What enriching a {@link Group} gives. */
interface GroupResult {
  outcomes: Map<number, StoredEnrichment | SceneIssue>;
  /** Thumbnail files by scene_index (null: none could be made). */
  files: Map<number, string | null>;
  /** The enricher could not start: every scene has this issue. */
  startIssue: SceneIssue | null;
  degraded: DegradedRecord[] | null;
}

/** Build the default pipeline. */
export function createDefaultPipeline(options: DefaultPipelineOptions = {}): AnalysisPipeline {
  const paths: { ffmpegPath?: string; ffprobePath?: string } = {
    ...(options.ffmpegPath !== undefined ? { ffmpegPath: options.ffmpegPath } : {}),
    ...(options.ffprobePath !== undefined ? { ffprobePath: options.ffprobePath } : {}),
  };
  const custom = options.enrich;
  const full = custom === undefined && (options.enrichment ?? 'full') === 'full';
  const chunkSeconds = resolveChunkSeconds(options.chunkSeconds);
  // Validated once here; the feature options of chunks are these.
  const detectOptions = resolveDetectOptions({ ...options.detect, ...paths });
  // One feature pool for every job of this pipeline (a worker process): held from the first detection until
  // close(), so jobs do not start and stop worker threads each (detectScenes shares it by its options).
  let poolLease: PoolLease | null = null;
  const pool = (): PoolLease['pool'] => (poolLease ??= acquireFeaturePool({ threads: detectOptions.workerThreads, backend: detectOptions.backend })).pool;
  let enricher: Promise<Enricher> | null = null;
  const getEnricher = (): Promise<Enricher> => {
    enricher ??= import('../enrich/index.js').then((m) => m.createEnricher({ ...options.enricher, ...(paths.ffmpegPath !== undefined ? { ffmpegPath: paths.ffmpegPath } : {}) }));
    // A failed start is not cached: the next job tries again (the models may have been installed meanwhile).
    enricher.catch(() => {
      enricher = null;
    });
    return enricher;
  };

  const degradedOf = async (engine: Enricher): Promise<DegradedRecord[]> => {
    const { degradedFeatures } = await import('../enrich/degraded.js');
    const dir = options.enricher?.modelsDir;
    return degradedFeatures(engine.models(), dir === undefined ? undefined : path.resolve(dir));
  };


  /**
   * Enrich a group of scenes: one decoding pass over their stretch for the enricher, then a thumbnail per scene
   * at its keyframe. A scene that fails keeps its issue while the rest go on.
   */
  const enrichGroup = async (group: Group): Promise<GroupResult> => {
    const total = group.scenes.length;
    const thumbnailsOf = (times?: Map<number, number>): Promise<Map<number, string | null>> =>
      writeSceneThumbnails(
        group.mediaPath,
        group.scenes.map((scene) => ({ scene_index: scene.scene_index, start_time: scene.start_time, end_time: scene.end_time, ...(times?.has(scene.scene_index) ? { thumbnail_time: times.get(scene.scene_index)! } : {}) })),
        {
          ...paths,
          dir: group.dir,
          ...(options.thumbnailWidth !== undefined ? { width: options.thumbnailWidth } : {}),
          frameDuration: group.frameRate > 0 ? 1 / group.frameRate : 1 / 25,
          signal: group.signal,
          onProgress: (done: number, all: number) => group.onProgress(times === undefined && group.mode === 'thumbnails' ? done / all : 0.9 + (0.1 * done) / all, `Making scene thumbnails (${done}/${all})`),
        },
      );
    const outcomes = new Map<number, StoredEnrichment | SceneIssue>();
    if (group.mode === 'thumbnails') return { outcomes, files: await thumbnailsOf(), startIssue: null, degraded: null };
    group.onProgress(0, `Describing scenes (0/${total})`);
    let engine: Enricher;
    try {
      engine = await getEnricher();
    } catch (error) {
      if (group.signal.aborted) throw new AbortError(undefined, { cause: error });
      return { outcomes, files: await thumbnailsOf(), startIssue: issueOf(error, 'enrich'), degraded: null };
    }
    let done = 0;
    // One decoding pass over the video serves every scene's samples (Enricher.enrichScenes, src/enrich/frame-stream.ts);
    // the scenes run at the enricher's own concurrency, and a scene that fails keeps its issue while the rest go on.
    const pending = engine.enrichScenes(
      group.scenes.map((scene) => ({
        videoPath: group.mediaPath,
        scene: { scene_index: scene.scene_index, start_frame: scene.start_frame, end_frame: scene.end_frame, start_time: scene.start_time, end_time: scene.end_time },
        frames: group.frames === null ? [] : group.frames(scene.start_frame, scene.end_frame),
        boundaryConfidence: scene.boundary_confidence,
        signal: group.signal,
      })),
    );
    pending.forEach((p) => p.catch(() => undefined));
    for (let i = 0; i < total; i++) {
      const scene = group.scenes[i]!;
      try {
        outcomes.set(scene.scene_index, storeEnrichment(await pending[i]!));
      } catch (error) {
        if (group.signal.aborted || error instanceof AbortError) throw error;
        outcomes.set(scene.scene_index, issueOf(error, 'enrich'));
      }
      done++;
      // The last 10 % is for the thumbnails.
      group.onProgress((0.9 * done) / total, `Describing scenes (${done}/${total})`);
    }
    const keyframes = new Map<number, number>();
    for (const [index, result] of outcomes) if ('keyframe_time' in result) keyframes.set(index, result.keyframe_time);
    group.onProgress(0.9, 'Making scene thumbnails');
    const files = await thumbnailsOf(keyframes);
    return { outcomes, files, startIssue: null, degraded: await degradedOf(engine) };
  };

  /** The enrich step's output from the enrichment of its scenes (in scene order), persistent lines marked over all of them. */
  const enrichOutput = (detected: DetectStepOutput, results: GroupResult[], mode: 'full' | 'thumbnails'): EnrichStepOutput => {
    const outcomes = new Map<number, StoredEnrichment | SceneIssue>();
    const files = new Map<number, string | null>();
    const startIssues = new Map<number, SceneIssue>();
    for (const r of results) {
      for (const [k, v] of r.outcomes) outcomes.set(k, v);
      for (const [k, v] of r.files) {
        files.set(k, v);
        if (r.startIssue !== null) startIssues.set(k, r.startIssue);
      }
    }
    if (mode === 'thumbnails') {
      return { scenes: detected.scenes.map((scene) => ({ scene_index: scene.scene_index, thumbnail_path: files.get(scene.scene_index) ?? null, embedding_status: 'pending' })) };
    }
    const scenes = detected.scenes.map((scene) => enrichedScene(scene.scene_index, startIssues.get(scene.scene_index) ?? outcomes.get(scene.scene_index), files.get(scene.scene_index) ?? null));
    const enriched = new Map<number, StoredEnrichment>();
    for (const [k, v] of outcomes) if ('keyframe_time' in v && !startIssues.has(k)) enriched.set(k, v);
    markPersistentLines(scenes, enriched);
    // What the enrichers did without (one per host that ran a part), each listed once.
    const degraded = new Map<string, DegradedRecord>();
    let any = false;
    for (const r of results) {
      if (r.degraded === null) continue;
      any = true;
      for (const d of r.degraded) degraded.set(JSON.stringify(d), d);
    }
    return { scenes, ...(any ? { degraded: [...degraded.values()] } : {}) };
  };

  const groupOf = (ctx: StepContext, detected: DetectStepOutput, frames: Group['frames'], mode: Group['mode']): Group => ({
    mediaPath: ctx.mediaPath,
    signal: ctx.signal,
    frameRate: detected.frame_rate,
    scenes: detected.scenes.map((s) => ({ scene_index: s.scene_index, start_frame: s.start_frame, end_frame: s.end_frame, start_time: s.start_time, end_time: s.end_time, boundary_confidence: sceneConfidence(s, detected.boundaries) })),
    frames,
    dir: ctx.assetsDir,
    mode,
    onProgress: (fraction, text) => ctx.onProgress(fraction, text),
  });

  /**
   * The enrich step of a chunked video: its scenes in groups that any worker enriches (enrich-chunks.ts), each
   * chunk carrying its scenes' frame measures; merged here in scene order, the thumbnails written into this
   * job's folder under the names the one-worker path gives them.
   */
  const enrichChunked = async (ctx: StepContext, detected: DetectStepOutput, specs: EnrichChunkSpec[], mode: Group['mode']): Promise<EnrichStepOutput> => {
    const frames = mode === 'full' ? await framesOf(ctx, detected) : null;
    const inputs = specs.map((spec) => (frames === null ? null : encodeFramesInput(spec, frames)));
    const label = mode === 'full' ? 'Describing scenes' : 'Making scene thumbnails';
    const { count, read } = await ctx.chunks!.run(specs, (done, total, fraction) => ctx.onProgress(0.95 * fraction, `${label} (${done}/${total} chunks done)`), inputs);
    ctx.onProgress(0.95, `${label} (merging ${count} chunks)`);
    await mkdir(ctx.assetsDir, { recursive: true });
    const results: GroupResult[] = [];
    for (let k = 0; k < count; k++) {
      throwIfAborted(ctx.signal);
      const chunk = decodeEnrichResult(await read(k));
      const outcomes = new Map<number, StoredEnrichment | SceneIssue>();
      const files = new Map<number, string | null>();
      for (const scene of chunk.scenes) {
        if (scene.outcome !== null) outcomes.set(scene.scene_index, scene.outcome);
        files.set(scene.scene_index, scene.thumbnail === null ? null : await writeThumbnailFile(ctx.assetsDir, thumbnailName(scene.scene_index, 'jpeg'), Buffer.from(scene.thumbnail, 'base64')));
      }
      results.push({ outcomes, files, startIssue: chunk.start_issue, degraded: mode === 'full' && chunk.start_issue === null ? chunk.degraded : null });
    }
    return enrichOutput(detected, results, mode);
  };

  /** Run an enrich chunk (on any worker): its scenes' enrichment and thumbnails, as bytes for the holder. */
  const runEnrichChunk = async (spec: EnrichChunkSpec, ctx: ChunkContext): Promise<Buffer> => {
    const dir = await mkdtemp(path.join(tmpdir(), 'scenescope-enrich-chunk-'));
    try {
      const result = await enrichGroup({
        mediaPath: ctx.mediaPath,
        signal: ctx.signal,
        frameRate: spec.frame_rate,
        scenes: spec.scenes,
        frames: decodeFramesInput(ctx.input),
        dir,
        mode: spec.mode,
        onProgress: (fraction) => ctx.onProgress(fraction),
      });
      throwIfAborted(ctx.signal);
      const scenes: EnrichChunkOutcome[] = [];
      for (const scene of spec.scenes) {
        const file = result.files.get(scene.scene_index) ?? null;
        scenes.push({ scene_index: scene.scene_index, outcome: result.outcomes.get(scene.scene_index) ?? null, thumbnail: file === null ? null : (await readFile(file)).toString('base64') });
      }
      return encodeEnrichResult({ scenes, start_issue: result.startIssue, degraded: result.degraded ?? [] });
    } finally {
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  };

  /** Write the frames file into the job's folder and return it packed for the detect step's output. */
  const keepMeasures = async (ctx: StepContext, source: FramesSource): Promise<string | null> => {
    const file = path.join(ctx.assetsDir, FRAMES_FILE);
    await mkdir(ctx.assetsDir, { recursive: true });
    await writeFramesFile(file, source);
    return packFramesFile(file);
  };

  /**
   * The frame measures of the job: the frames file of its folder, or, on a host that did not run the detect
   * step (a job resumed elsewhere), the packed copy of the detect step's output written back there first.
   */
  const framesOf = async (ctx: StepContext, detected: DetectStepOutput): Promise<Awaited<ReturnType<typeof readFramesFile>>> => {
    const file = path.join(ctx.assetsDir, FRAMES_FILE);
    const local = await readFramesFile(file);
    if (local !== null || detected.measures === undefined) return local;
    await mkdir(ctx.assetsDir, { recursive: true });
    return (await unpackFramesFile(file, detected.measures)) ? readFramesFile(file) : null;
  };

  const detectChunked = async (ctx: StepContext, probed: ProbeResult, specs: ChunkSpec[]): Promise<DetectStepOutput> => {
    const stored: StoredChunk[] = specs.map((spec) => ({ ...spec, probe: probed }));
    const { count, read } = await ctx.chunks!.run(stored, (done, total, fraction) => ctx.onProgress(0.95 * fraction, `Detecting scenes (${done}/${total} chunks done)`));
    ctx.onProgress(0.95, `Detecting scenes (merging ${count} chunks)`);
    // Merging and detection run synchronously (~0.05 ms CPU a frame, several times that on a loaded machine):
    // keep the lease through them.
    const frames = (probed.metadata.duration_seconds ?? 0) * (probed.stream.frame_rate > 0 ? probed.stream.frame_rate : 25);
    await ctx.extendLease?.(Math.min(600_000, 30_000 + frames));
    const file = await mergeChunks(probed, count, read, ctx.signal);
    try {
      // The frame budget is the whole video's: each chunk was held to it, the merged series is too.
      if (detectOptions.maxFrames !== undefined && file.count > detectOptions.maxFrames) {
        throw new InputError('BUDGET_EXCEEDED', `${path.basename(probed.path)}: more than the ${detectOptions.maxFrames} frames of its budget (maxFrames)`, { details: { path: probed.path, maxFrames: detectOptions.maxFrames } });
      }
      const detection = detectWindowed({ count: file.count, frameRate: file.frameRate, read: (s, e) => file.read(s, e), times: () => file.timesView() }, detectOptions);
      const measures = full ? await keepMeasures(ctx, { count: file.count, read: (s, e) => file.read(s, e) }) : null;
      return { frame_count: file.count, frame_rate: probed.stream.frame_rate, boundaries: detection.boundaries, scenes: detection.scenes, ...(measures !== null ? { measures } : {}) };
    } finally {
      file.close();
    }
  };

  const steps: PipelineStep[] = [
    { name: 'probe', weight: WEIGHTS.probe, label: 'Reading video metadata' },
    { name: 'detect', weight: WEIGHTS.detect, label: 'Detecting scenes' },
    full || custom !== undefined
      ? { name: 'enrich', weight: WEIGHTS.enrich, label: 'Describing scenes', status: 'uploading_to_vlm' }
      : { name: 'enrich', weight: WEIGHTS.enrich / 4, label: 'Making scene thumbnails' },
  ];
  return {
    steps,
    async run(step, ctx) {
      switch (step.name) {
        case 'probe': {
          const probed = await probe(ctx.mediaPath, { ...paths, signal: ctx.signal });
          const output: ProbeStepOutput = { metadata: probed.metadata, probe: probed };
          return output;
        }
        case 'detect': {
          // The probe step's result (ffprobe runs once per job), unless it is from another path (a moved file).
          const known = (ctx.state.probe as ProbeStepOutput | undefined)?.probe;
          const probed = known !== undefined && known.path === ctx.mediaPath ? known : await probe(ctx.mediaPath, { ...paths, signal: ctx.signal });
          pool();
          if (ctx.chunks !== undefined && chunkSeconds > 0 && (probed.metadata.duration_seconds ?? 0) > chunkSeconds) {
            const specs = await planChunks(probed, chunkSeconds, { ...paths, signal: ctx.signal });
            if (specs !== null && specs.length > 1) return detectChunked(ctx, probed, specs);
          }
          const result = await detectScenes(ctx.mediaPath, {
            ...options.detect,
            ...paths,
            probed,
            signal: ctx.signal,
            onProgress: (p) => ctx.onProgress(p.percent / 100, p.currentStep),
          });
          let measures: string | null = null;
          try {
            if (full) measures = await keepMeasures(ctx, { count: result.frame_count, read: (s, e) => result.readFeatures(s, e) });
          } finally {
            result.release();
          }
          const output: DetectStepOutput = { frame_count: result.frame_count, frame_rate: result.frame_rate, boundaries: result.boundaries, scenes: result.scenes, ...(measures !== null ? { measures } : {}) };
          return output;
        }
        case 'enrich': {
          const detected = ctx.state.detect as DetectStepOutput | undefined;
          const probed = ctx.state.probe as ProbeStepOutput | undefined;
          if (detected === undefined || probed === undefined) throw new TypeError('enrich step needs the probe and detect outputs');
          if (custom !== undefined) return custom(ctx, detected, probed);
          const mode = full ? 'full' : 'thumbnails';
          // A long video's scenes are enriched in chunks by every worker of the library (the detect step's rule).
          const duration = probed.metadata.duration_seconds ?? 0;
          if (ctx.chunks !== undefined && chunkSeconds > 0 && duration > chunkSeconds) {
            const specs = planEnrichChunks(detected.scenes, detected.boundaries, detected.frame_rate, chunkSeconds, mode);
            if (specs !== null) return enrichChunked(ctx, detected, specs, mode);
          }
          const frames = full ? await framesOf(ctx, detected) : null;
          return enrichOutput(detected, [await enrichGroup(groupOf(ctx, detected, frames, mode))], mode);
        }
      }
    },
    async runChunk(spec, ctx) {
      if (isEnrichChunk(spec)) return runEnrichChunk(spec, ctx);
      const { probe: probed, ...chunk } = spec as StoredChunk;
      const lease = pool();
      return withAnalysisSlot(ctx.signal, () =>
        computeChunk({ ...probed, path: ctx.mediaPath }, chunk, lease, {
          ...paths,
          analysisArea: detectOptions.analysisArea,
          decoderThreads: detectOptions.decoderThreads,
          skipLoopFilter: detectOptions.skipLoopFilter,
          batchFrames: detectOptions.batchFrames,
          workerThreads: detectOptions.workerThreads,
          maxFrames: detectOptions.maxFrames,
          timeLimitMs: detectOptions.timeLimitMs,
          signal: ctx.signal,
          onProgress: (frames, expected) => ctx.onProgress(expected === null ? 0 : frames / expected),
        }),
      );
    },
    async close() {
      poolLease?.release();
      poolLease = null;
      const pending = enricher;
      enricher = null;
      if (pending !== null) await pending.then((e) => e.close()).catch(() => undefined);
    },
  };
}
