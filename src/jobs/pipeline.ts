/**
 * The contract between the job runner and the analysis it drives.
 *
 * An {@link AnalysisPipeline} is a list of named, resumable steps. The runner runs them in order; each step
 * gets the outputs of the earlier ones (`ctx.state`), and its own output is stored in the job's step row
 * together with its database effects (metadata, scenes, scene text and embeddings) in one transaction. After a
 * crash the job resumes at its first unfinished step, with `ctx.state` read back from the database: a step
 * must therefore return everything later steps need, as plain JSON.
 *
 * The runner knows the shape of the three standard outputs ({@link ProbeStepOutput}, {@link DetectStepOutput},
 * {@link EnrichStepOutput}) and turns them into store effects with {@link stepEffects}; other steps' outputs are
 * stored as they are.
 */
import type { Boundary, Scene } from '../detect/types.js';
import type { DegradedRecord, SceneInput, SceneIssue, SceneTextLineRecord, SceneUpdate, StepEffects, TagScoreRecord } from '../store/types.js';
import type { ProbeResult } from '../media/probe.js';
import type { VideoAnalysisStatus, VideoMetadata } from '../types.js';

/** The standard step names. */
export type StepName = 'probe' | 'detect' | 'enrich';

/** One step of a pipeline. */
export interface PipelineStep {
  name: StepName;
  /**
   * Relative cost, used for progress_percent until real costs have been measured on completed jobs (then the
   * measured milliseconds per second of video replace it).
   */
  weight: number;
  /** current_step shown when the step starts, e.g. "Detecting scenes". Default: derived from the name. */
  label?: string;
  /** Job status while the step runs. Default 'processing'; 'uploading_to_vlm' while vision models work. */
  status?: Extract<VideoAnalysisStatus, 'processing' | 'uploading_to_vlm'>;
}

/** Outputs of the steps that already ran, by step name. */
export type StepState = Partial<Record<StepName, unknown>>;

/** What a step gets. */
export interface StepContext {
  /** Absolute path of the file to analyse. */
  mediaPath: string;
  mediaId: string;
  jobId: string;
  /** "full" or "scenes" (see {@link ANALYSIS_TYPES}). */
  analysisType: string;
  /** Fires on cancel, lost lease, shutdown or close: stop, kill child processes, and reject. */
  signal: AbortSignal;
  /** Outputs of the earlier steps (JSON, as stored). */
  state: StepState;
  /** A folder for this job's files (scene thumbnails...), created on demand by the step. */
  assetsDir: string;
  /**
   * Report progress within this step: fraction 0..1 and a human current_step such as
   * "Detecting scenes (1520/3440 frames)". Cheap to call often; the runner throttles writes.
   */
  onProgress(fraction: number, currentStep?: string): void;
  /**
   * Spread work over every worker of the library: the chunks (JSON specs) are stored with the job, any worker
   * (this one included, while it waits) claims them and runs {@link AnalysisPipeline.runChunk}; resolves once
   * every chunk is done with a reader of their results. Rejects with the code of a chunk that failed. Absent
   * when the runner cannot distribute work (then a step works alone).
   */
  chunks?: ChunkScheduler;
  /**
   * Lengthen the job's lease by `extraMs` for the rest of this step (0 to end it), written at once: call it
   * before a long synchronous stretch (detection over an hour of features blocks the event loop, and with it
   * the heartbeat, for seconds), so that other workers do not take over a job that is alive. A holder that
   * dies meanwhile is taken over that much later.
   */
  extendLease?(extraMs: number): Promise<void>;
}

/** See {@link StepContext.chunks}. */
export interface ChunkScheduler {
  /**
   * `inputs[i]`: bytes stored with chunk i for whoever claims it ({@link ChunkContext.input}), for what only
   * this host has (files of the job's folder are not shared between hosts).
   */
  run(specs: readonly unknown[], onProgress?: (done: number, total: number, fraction: number) => void, inputs?: readonly (Buffer | null)[]): Promise<{ count: number; read(index: number): Promise<Buffer> }>;
}

/** What a chunk run gets. */
export interface ChunkContext {
  mediaPath: string;
  mediaId: string;
  jobId: string;
  chunkIndex: number;
  /** The bytes the step stored with the chunk (see {@link ChunkScheduler.run}), or null. */
  input: Buffer | null;
  /** Fires on cancel, a lost chunk lease, shutdown or close. */
  signal: AbortSignal;
  /** Progress within the chunk, 0..1. */
  onProgress(fraction: number): void;
}

/** An injectable analysis pipeline. */
export interface AnalysisPipeline {
  readonly steps: readonly PipelineStep[];
  /** Run one step; resolves with its JSON-serialisable output. */
  run(step: PipelineStep, ctx: StepContext): Promise<unknown>;
  /** Run one chunk that a step handed to {@link StepContext.chunks}; resolves with its result bytes. */
  runChunk?(spec: unknown, ctx: ChunkContext): Promise<Buffer>;
  /** Release what the pipeline holds (models, pools). Called once by the runner's owner. */
  close?(): Promise<void>;
}

/** Analysis types: "full" runs every step, "scenes" stops after detection (no captions, OCR or embeddings). */
export const ANALYSIS_TYPES = ['full', 'scenes'] as const;
/** One of {@link ANALYSIS_TYPES}. */
export type AnalysisType = (typeof ANALYSIS_TYPES)[number];

/** Output of the probe step. */
export interface ProbeStepOutput {
  metadata: VideoMetadata;
  /** The whole probe result (stream facts), so that later steps do not run ffprobe again. */
  probe?: ProbeResult;
}

/** Output of the detect step (the JSON contract of detectScenes). */
export interface DetectStepOutput {
  frame_count: number;
  frame_rate: number;
  boundaries: Boundary[];
  scenes: Scene[];
  /**
   * The per-frame measures the enrich step chooses keyframes from (src/jobs/frames-file.ts, packed), so an
   * enrich step on another host than the detect step's chooses the same ones. Absent without enrichment.
   */
  measures?: string;
}

/** One scene's enrichment. Absent fields leave the scene as it is. */
export interface EnrichedScene {
  scene_index: number;
  description?: string | null;
  tags?: string[];
  visible_text?: string | null;
  confidence_score?: number | null;
  /** A JPEG file, ideally inside ctx.assetsDir. */
  thumbnail_path?: string | null;
  /** "pending" (not enriched yet), "completed", "failed", "skipped". Default "completed" when an embedding is given. */
  embedding_status?: string;
  embedding?: { model_id: string; vector: number[] } | null;
  /** What failed for this scene (a failed caption stays null and says why here). */
  errors?: SceneIssue[];
  /** Each line of on-screen text with its engine, confidence, first and last sighting, persistence. */
  text_lines?: SceneTextLineRecord[] | null;
  /** Every tag with its score and source. */
  tag_scores?: TagScoreRecord[];
}

/** Output of the enrich step. (Its step row keeps only counts: the results are in the scene rows.) */
export interface EnrichStepOutput {
  scenes: EnrichedScene[];
  /** What the analysis did without (missing or failed models), as analyzeFile's `degraded`. */
  degraded?: DegradedRecord[];
}

/** The steps of a pipeline that an analysis type runs. */
export function stepsFor(pipeline: AnalysisPipeline, analysisType: string): PipelineStep[] {
  return pipeline.steps.filter((step) => analysisType !== 'scenes' || step.name !== 'enrich');
}

/** Default current_step text at the start of a step. */
export function stepLabel(step: PipelineStep): string {
  if (step.label !== undefined) return step.label;
  switch (step.name) {
    case 'probe':
      return 'Reading video metadata';
    case 'detect':
      return 'Detecting scenes';
    case 'enrich':
      return 'Describing scenes';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * A scene's confidence_score: the lower of the confidences of the two boundaries that delimit it (the start
 * and the end of the video count as certain, 1). A scene is only as sure as its least sure edge.
 */
export function sceneConfidence(scene: Scene, boundaries: readonly Boundary[]): number {
  let low = 1;
  for (const boundary of boundaries) {
    if (boundary.frame === scene.start_frame || boundary.frame === scene.end_frame) low = Math.min(low, boundary.confidence);
  }
  return Math.round(low * 1000) / 1000;
}

/**
 * Turn a step's output into store effects and the (compact) JSON to keep in the step row. Throws a TypeError
 * naming the step when a standard step returns the wrong shape: that is a pipeline bug, and the job fails
 * with INTERNAL rather than storing garbage.
 */
export function stepEffects(step: StepName | string, output: unknown): { effects: StepEffects; stored: unknown } {
  if (step === 'probe') {
    if (!isRecord(output) || !isRecord(output.metadata)) throw new TypeError('probe step must return { metadata }');
    return { effects: { metadata: output.metadata as unknown as VideoMetadata }, stored: { metadata: output.metadata, ...(isRecord(output.probe) ? { probe: output.probe } : {}) } };
  }
  if (step === 'detect') {
    if (!isRecord(output) || !Array.isArray(output.scenes) || !Array.isArray(output.boundaries)) throw new TypeError('detect step must return { frame_count, frame_rate, boundaries, scenes }');
    const boundaries = output.boundaries as Boundary[];
    const scenes = output.scenes as Scene[];
    const inputs: SceneInput[] = scenes.map((scene) => ({
      scene_index: scene.scene_index,
      start_frame: scene.start_frame,
      end_frame: scene.end_frame,
      start_time: scene.start_time,
      end_time: scene.end_time,
      time_range_formatted: scene.time_range_formatted,
      confidence_score: sceneConfidence(scene, boundaries),
    }));
    // Keep the JSON contract only: detectScenes also returns per-frame features, far too big for a row.
    const stored: DetectStepOutput = {
      frame_count: Number(output.frame_count),
      frame_rate: Number(output.frame_rate),
      boundaries: boundaries.map(({ frame, time, kind, start_frame, end_frame, confidence, detector }) => ({ frame, time, kind, start_frame, end_frame, confidence, detector })),
      scenes: scenes.map(({ scene_index, start_frame, end_frame, start_time, end_time, time_range_formatted }) => ({ scene_index, start_frame, end_frame, start_time, end_time, time_range_formatted })),
    };
    // The chunks a long video was decoded in are merged into this output: drop them in the same transaction.
    return { effects: { scenes: inputs, clearChunks: true }, stored };
  }
  if (step === 'enrich') {
    if (!isRecord(output) || !Array.isArray(output.scenes)) throw new TypeError('enrich step must return { scenes }');
    const enriched = output.scenes as EnrichedScene[];
    const updates: SceneUpdate[] = enriched.map((scene) => {
      const update: SceneUpdate = { scene_index: scene.scene_index };
      if (scene.description !== undefined) update.description = scene.description;
      if (scene.tags !== undefined) update.tags = scene.tags;
      if (scene.visible_text !== undefined) update.visible_text = scene.visible_text;
      if (scene.confidence_score !== undefined) update.confidence_score = scene.confidence_score;
      if (scene.thumbnail_path !== undefined) update.thumbnail_path = scene.thumbnail_path;
      if (scene.embedding_status !== undefined) update.embedding_status = scene.embedding_status;
      if (scene.embedding !== undefined) update.embedding = scene.embedding;
      if (scene.errors !== undefined) update.errors = scene.errors;
      if (scene.text_lines !== undefined) update.text_lines = scene.text_lines;
      if (scene.tag_scores !== undefined) update.tag_scores = scene.tag_scores;
      return update;
    });
    // Everything it produced lives in the scene rows (text, thumbnails, errors) and the embeddings table; the
    // step row keeps a summary: no later step reads it, and copies would double the database per scene.
    const models = [...new Set(enriched.flatMap((scene) => (scene.embedding ? [`${scene.embedding.model_id}/${scene.embedding.vector.length}`] : [])))];
    const stored = {
      scene_count: enriched.length,
      described: enriched.filter((scene) => typeof scene.description === 'string' && scene.description !== '').length,
      embedding_models: models,
      scenes_with_errors: enriched.filter((scene) => (scene.errors?.length ?? 0) > 0).length,
    };
    const degraded = Array.isArray(output.degraded) ? (output.degraded as DegradedRecord[]) : undefined;
    // The chunks its scenes were enriched in are merged into this output: dropped in the same transaction.
    return { effects: { sceneUpdates: updates, clearChunks: true, ...(degraded !== undefined ? { degraded } : {}) }, stored };
  }
  return { effects: {}, stored: output ?? null };
}
