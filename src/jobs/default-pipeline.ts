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
 */
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { detectScenes, resolveDetectOptions, type DetectOptions } from '../api/detect.js';
import { withAnalysisSlot } from '../api/limit.js';
import { detectWindowed } from '../detect/windowed.js';
import type { Enricher, EnricherOptions, SceneEnrichment } from '../enrich/types.js';
import { AbortError, ScenescopeError } from '../errors.js';
import { acquireFeaturePool, type PoolLease } from '../features/pool-registry.js';
import { probe, type ProbeResult } from '../media/probe.js';
import type { DegradedRecord, SceneIssue } from '../store/types.js';
import { numberIn } from '../util/validate.js';
import { computeChunk, mergeChunks, planChunks, type ChunkSpec } from './chunks.js';
import { FRAMES_FILE, readFramesFile, writeFramesFile } from './frames-file.js';
import { sceneConfidence, type AnalysisPipeline, type DetectStepOutput, type EnrichedScene, type EnrichStepOutput, type PipelineStep, type ProbeStepOutput, type StepContext } from './pipeline.js';
import { writeSceneThumbnails } from './thumbnails.js';

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

  const thumbnails = async (ctx: StepContext, detected: DetectStepOutput, times?: Map<number, number>): Promise<Map<number, string | null>> =>
    writeSceneThumbnails(
      ctx.mediaPath,
      detected.scenes.map((scene) => ({ ...scene, ...(times?.has(scene.scene_index) ? { thumbnail_time: times.get(scene.scene_index)! } : {}) })),
      {
        ...paths,
        dir: ctx.assetsDir,
        ...(options.thumbnailWidth !== undefined ? { width: options.thumbnailWidth } : {}),
        frameDuration: detected.frame_rate > 0 ? 1 / detected.frame_rate : 1 / 25,
        signal: ctx.signal,
        ...(times === undefined ? { onProgress: (done: number, all: number) => ctx.onProgress(done / all, `Making scene thumbnails (${done}/${all})`) } : {}),
      },
    );

  const enrichFully = async (ctx: StepContext, detected: DetectStepOutput): Promise<EnrichStepOutput> => {
    const total = detected.scenes.length;
    ctx.onProgress(0, `Describing scenes (0/${total})`);
    let engine: Enricher;
    try {
      engine = await getEnricher();
    } catch (error) {
      if (ctx.signal.aborted) throw new AbortError(undefined, { cause: error });
      const files = await thumbnails(ctx, detected);
      const issue = issueOf(error, 'enrich');
      return { scenes: detected.scenes.map((scene) => ({ scene_index: scene.scene_index, thumbnail_path: files.get(scene.scene_index) ?? null, embedding_status: 'failed', errors: [issue] })) };
    }
    const frames = await readFramesFile(path.join(ctx.assetsDir, FRAMES_FILE));
    const results = new Map<number, SceneEnrichment | SceneIssue>();
    let done = 0;
    // One decoding pass over the video serves every scene's samples (Enricher.enrichScenes, src/enrich/frame-stream.ts);
    // the scenes run at the enricher's own concurrency, and a scene that fails keeps its issue while the rest go on.
    const pending = engine.enrichScenes(
      detected.scenes.map((scene) => ({
        videoPath: ctx.mediaPath,
        scene: { scene_index: scene.scene_index, start_frame: scene.start_frame, end_frame: scene.end_frame, start_time: scene.start_time, end_time: scene.end_time },
        frames: frames === null ? [] : frames(scene.start_frame, scene.end_frame),
        boundaryConfidence: sceneConfidence(scene, detected.boundaries),
        signal: ctx.signal,
      })),
    );
    pending.forEach((p) => p.catch(() => undefined));
    for (let i = 0; i < total; i++) {
      const scene = detected.scenes[i]!;
      try {
        results.set(scene.scene_index, await pending[i]!);
      } catch (error) {
        if (ctx.signal.aborted || error instanceof AbortError) throw error;
        results.set(scene.scene_index, issueOf(error, 'enrich'));
      }
      done++;
      // The last 10 % is for the thumbnails.
      ctx.onProgress((0.9 * done) / total, `Describing scenes (${done}/${total})`);
    }
    const keyframes = new Map<number, number>();
    for (const [index, result] of results) if ('keyframe_time' in result) keyframes.set(index, result.keyframe_time);
    ctx.onProgress(0.9, 'Making scene thumbnails');
    const files = await thumbnails(ctx, detected, keyframes);
    const scenes: EnrichedScene[] = detected.scenes.map((scene) => {
      const result = results.get(scene.scene_index);
      const thumbnail_path = files.get(scene.scene_index) ?? null;
      if (result === undefined || !('keyframe_time' in result)) {
        return { scene_index: scene.scene_index, thumbnail_path, embedding_status: 'failed', errors: result === undefined ? [] : [result] };
      }
      return {
        scene_index: scene.scene_index,
        description: result.description,
        tags: result.tags,
        visible_text: result.visible_text,
        confidence_score: result.confidence_score,
        thumbnail_path,
        embedding_status: result.embedding_status,
        embedding: result.embedding === null ? null : { model_id: result.embedding.model, vector: Array.from(result.embedding.vector) },
        errors: result.failures.map((f) => ({ stage: f.step, code: f.code, message: f.message })),
        text_lines: result.text_lines,
        tag_scores: result.tag_scores,
      };
    });
    return { scenes, degraded: await degradedOf(engine) };
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
      const detection = detectWindowed({ count: file.count, frameRate: file.frameRate, read: (s, e) => file.read(s, e), times: () => file.timesView() }, detectOptions);
      if (full) {
        await mkdir(ctx.assetsDir, { recursive: true });
        await writeFramesFile(path.join(ctx.assetsDir, FRAMES_FILE), { count: file.count, read: (s, e) => file.read(s, e) });
      }
      return { frame_count: file.count, frame_rate: probed.stream.frame_rate, boundaries: detection.boundaries, scenes: detection.scenes };
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
          try {
            if (full) {
              await mkdir(ctx.assetsDir, { recursive: true });
              await writeFramesFile(path.join(ctx.assetsDir, FRAMES_FILE), { count: result.frame_count, read: (s, e) => result.readFeatures(s, e) });
            }
          } finally {
            result.release();
          }
          const output: DetectStepOutput = { frame_count: result.frame_count, frame_rate: result.frame_rate, boundaries: result.boundaries, scenes: result.scenes };
          return output;
        }
        case 'enrich': {
          const detected = ctx.state.detect as DetectStepOutput | undefined;
          const probed = ctx.state.probe as ProbeStepOutput | undefined;
          if (detected === undefined || probed === undefined) throw new TypeError('enrich step needs the probe and detect outputs');
          if (custom !== undefined) return custom(ctx, detected, probed);
          if (full) return enrichFully(ctx, detected);
          const files = await thumbnails(ctx, detected);
          const output: EnrichStepOutput = {
            scenes: detected.scenes.map((scene) => ({ scene_index: scene.scene_index, thumbnail_path: files.get(scene.scene_index) ?? null, embedding_status: 'pending' })),
          };
          return output;
        }
      }
    },
    async runChunk(spec, ctx) {
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
