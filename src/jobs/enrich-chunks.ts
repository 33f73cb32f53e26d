/**
 * The enrich step of a long video in chunks that any worker may take: contiguous groups of scenes, each
 * enriched (keyframe, OCR, models, embedding, thumbnail) by whoever claims it, merged by the job's holder in
 * scene order.
 *
 * What must hold is that the merged scenes equal the enrichment of the whole video by one worker:
 * - A scene's enrichment depends on its own frames only: its keyframe and samples are chosen from its own
 *   per-frame measures (src/enrich/keyframe.ts), and the frames are decoded with an accurate seek per window
 *   (src/enrich/frame-stream.ts), which gives the same pixels whatever stretch a process starts at. The
 *   measures come from the detect step and live in the holder's job folder (frames-file.ts), which other hosts
 *   do not see: the holder stores each chunk's share (20 bytes a frame) with the chunk in the database
 *   ({@link encodeFramesInput}), so any host reads the same float32 values the holder would.
 * - Nothing a scene reads depends on the other scenes: the OCR line cache is per scene (enrichScenes), and the
 *   one thing that does span scenes, persistent lines (a logo in three scenes or more) and the visible text,
 *   description and tags that follow from them, is redone by the holder over all the scenes of the video
 *   ({@link markPersistentLines}), in both the chunked and the one-worker path.
 * - Thumbnails are encoded where the chunk runs and travel in its result; the holder writes them under the same
 *   names in its job folder, so the stored assets are byte-identical.
 * A chunk's result (per scene its enrichment or its issue, and its thumbnail bytes) is JSON, gzip level 1.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Boundary, Scene } from '../detect/types.js';
import { describeScene, sceneTags, sceneTagScores, type DescribeInput } from '../enrich/describe.js';
import type { EnrichFrame, SceneEnrichment } from '../enrich/types.js';
import { TextHistory, visibleText, type TimedLine } from '../enrich/text.js';
import { ScenescopeError } from '../errors.js';
import type { DegradedRecord, SceneIssue } from '../store/types.js';
import { sceneConfidence, type EnrichedScene } from './pipeline.js';

/** A scene as an enrich chunk needs it. */
export interface EnrichChunkScene {
  scene_index: number;
  start_frame: number;
  end_frame: number;
  start_time: number;
  end_time: number;
  boundary_confidence: number;
}

/** What one enrich chunk does: enrich these scenes (their frames' measures are in the chunk's input). */
export interface EnrichChunkSpec {
  kind: 'enrich';
  chunk_index: number;
  /** "full": the enricher; "thumbnails": thumbnails only. */
  mode: 'full' | 'thumbnails';
  frame_rate: number;
  scenes: EnrichChunkScene[];
}

/** True for the spec of an enrich chunk (detect chunks have no kind). */
export function isEnrichChunk(spec: unknown): spec is EnrichChunkSpec {
  return spec !== null && typeof spec === 'object' && (spec as { kind?: unknown }).kind === 'enrich';
}

/**
 * Group the scenes of a video into enrich chunks: the scenes starting in each span of `spanSeconds` (the
 * detect step's rule), contiguous, in order. Null when that is one group (one worker does the step).
 */
export function planEnrichChunks(scenes: readonly Scene[], boundaries: readonly Boundary[], frameRate: number, spanSeconds: number, mode: EnrichChunkSpec['mode']): EnrichChunkSpec[] | null {
  if (!(spanSeconds > 0) || scenes.length < 2) return null;
  const groups: Scene[][] = [];
  let key = Number.NaN;
  for (const scene of [...scenes].sort((a, b) => a.start_frame - b.start_frame)) {
    const k = Math.floor(Math.max(0, scene.start_time) / spanSeconds);
    if (k !== key) groups.push([]);
    key = k;
    groups[groups.length - 1]!.push(scene);
  }
  if (groups.length < 2) return null;
  return groups.map((group, chunk_index) => ({
    kind: 'enrich',
    chunk_index,
    mode,
    frame_rate: frameRate,
    scenes: group.map((s) => ({ scene_index: s.scene_index, start_frame: s.start_frame, end_frame: s.end_frame, start_time: s.start_time, end_time: s.end_time, boundary_confidence: sceneConfidence(s, boundaries) })),
  }));
}

const FIELDS = 5;
const INPUT_MAGIC = 0x53434531; // "SCE1"

/**
 * The per-frame measures of a chunk's scenes (frames from its first scene's start to its last scene's end),
 * as float32 exactly as the frames file holds them.
 */
export function encodeFramesInput(spec: EnrichChunkSpec, frames: (start: number, end: number) => EnrichFrame[]): Buffer {
  const first = Math.min(...spec.scenes.map((s) => s.start_frame));
  const end = Math.max(...spec.scenes.map((s) => s.end_frame));
  const list = frames(first, end);
  const data = new Float32Array(list.length * FIELDS);
  list.forEach((f, i) => data.set([f.time, f.mean_luma, f.std_luma, f.sharpness, f.delta_lum], i * FIELDS));
  const header = Buffer.alloc(12);
  header.writeUInt32LE(INPUT_MAGIC, 0);
  header.writeUInt32LE(first, 4);
  header.writeUInt32LE(list.length, 8);
  return Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

/** Read a chunk's measures: the frames [start, end) of a scene, or null when the chunk has none. */
export function decodeFramesInput(input: Buffer | null): ((start: number, end: number) => EnrichFrame[]) | null {
  if (input === null || input.byteLength < 12 || input.readUInt32LE(0) !== INPUT_MAGIC) return null;
  const first = input.readUInt32LE(4);
  const count = input.readUInt32LE(8);
  if (input.byteLength !== 12 + count * FIELDS * 4) throw new ScenescopeError('INTERNAL', 'The frame measures stored with an enrich chunk are truncated');
  const data = new Float32Array(Uint8Array.from(input.subarray(12)).buffer);
  return (start, end) => {
    const out: EnrichFrame[] = [];
    for (let i = Math.max(start, first); i < Math.min(end, first + count); i++) {
      const at = (i - first) * FIELDS;
      out.push({ time: data[at]!, mean_luma: data[at + 1]!, std_luma: data[at + 2]!, sharpness: data[at + 3]!, delta_lum: data[at + 4]! });
    }
    return out;
  };
}

/** A scene's enrichment as JSON (the embedding as plain numbers). */
export type StoredEnrichment = Omit<SceneEnrichment, 'embedding'> & { embedding: { model: string; dimension: number; vector: number[] } | null };

/** One scene of a chunk's result. */
export interface EnrichChunkOutcome {
  scene_index: number;
  /** The enrichment, or the issue of a scene that could not be enriched (absent in "thumbnails" mode). */
  outcome: StoredEnrichment | SceneIssue | null;
  /** The thumbnail JPEG, base64; null when it could not be made. */
  thumbnail: string | null;
}

/** A chunk's result. */
export interface EnrichChunkResult {
  scenes: EnrichChunkOutcome[];
  /** The enricher could not start on the host that ran the chunk: every scene has this issue. */
  start_issue: SceneIssue | null;
  /** What the enricher of that host did without. */
  degraded: DegradedRecord[];
}

/** The stored form of a chunk's result. */
export function encodeEnrichResult(result: EnrichChunkResult): Buffer {
  return gzipSync(Buffer.from(JSON.stringify(result)), { level: 1 });
}

/** Read a chunk's result. @throws ScenescopeError INTERNAL when it is damaged. */
export function decodeEnrichResult(stored: Buffer): EnrichChunkResult {
  try {
    const value = JSON.parse(gunzipSync(stored).toString('utf8')) as EnrichChunkResult;
    if (!Array.isArray(value.scenes)) throw new TypeError('no scenes');
    return value;
  } catch (error) {
    throw new ScenescopeError('INTERNAL', `A stored enrich chunk is damaged: ${(error as Error).message}`, { cause: error });
  }
}

/** A scene enrichment in its JSON form. */
export function storeEnrichment(e: SceneEnrichment): StoredEnrichment {
  return { ...e, embedding: e.embedding === null ? null : { model: e.embedding.model, dimension: e.embedding.dimension, vector: Array.from(e.embedding.vector) } };
}

/** The scene's enrichment as the enrich step stores it. */
export function enrichedScene(scene_index: number, outcome: StoredEnrichment | SceneIssue | undefined, thumbnail_path: string | null): EnrichedScene {
  if (outcome === undefined || !('keyframe_time' in outcome)) {
    return { scene_index, thumbnail_path, embedding_status: 'failed', errors: outcome === undefined ? [] : [outcome] };
  }
  return {
    scene_index,
    description: outcome.description,
    tags: outcome.tags,
    visible_text: outcome.visible_text,
    confidence_score: outcome.confidence_score,
    thumbnail_path,
    embedding_status: outcome.embedding_status,
    embedding: outcome.embedding === null ? null : { model_id: outcome.embedding.model, vector: outcome.embedding.vector },
    errors: outcome.failures.map((f) => ({ stage: f.step, code: f.code, message: f.message })),
    text_lines: outcome.text_lines === null ? null : outcome.text_lines.map((l) => ({ ...l })),
    tag_scores: outcome.tag_scores,
  };
}

/**
 * Mark the persistent lines (the same line at the same place in three scenes or more over five seconds: a
 * logo, a ticker) over all the scenes of a video, in scene order, put them after each scene's own lines in its
 * visible text, and compose the description and tags again from the scene's facts with that text. Mutates
 * `scenes`. The enricher marks lines as the scenes come, so the first scenes of a logo keep it among their own
 * lines, and a video enriched in parts would only see each part's: redone here over the whole video, the
 * result depends on the scenes' own readings alone. A scene without line places (or without text) is left as
 * it is.
 */
export function markPersistentLines(scenes: readonly EnrichedScene[], outcomes: ReadonlyMap<number, Pick<StoredEnrichment, 'text_boxes' | 'facts'>>): void {
  const history = new TextHistory();
  const marked: { scene: EnrichedScene; lines: TimedLine[] }[] = [];
  for (const scene of [...scenes].sort((a, b) => a.scene_index - b.scene_index)) {
    const places = outcomes.get(scene.scene_index)?.text_boxes;
    const textLines = scene.text_lines;
    if (textLines === null || textLines === undefined || places === null || places === undefined || places.length !== textLines.length) continue;
    const lines: TimedLine[] = textLines.map((l, i) => ({ text: l.text, confidence: l.confidence, engine: l.engine as TimedLine['engine'], first_seen: l.first_seen, last_seen: l.last_seen, seen: 1, persistent: false, ...places[i]! }));
    history.observe(scene.scene_index, lines);
    marked.push({ scene, lines });
  }
  for (const { scene, lines } of marked) {
    scene.text_lines = scene.text_lines!.map((l, i) => ({ ...l, persistent: lines[i]!.persistent }));
    scene.visible_text = visibleText(lines);
    const facts = outcomes.get(scene.scene_index)?.facts;
    if (facts === undefined) continue;
    const input: DescribeInput = { ...facts, text: scene.visible_text };
    scene.description = describeScene(input);
    scene.tags = sceneTags(input);
    scene.tag_scores = sceneTagScores(input);
  }
}
