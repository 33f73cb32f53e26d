/**
 * library.videoScenes and library.search.
 *
 * Scenes are listed from the media's latest completed job only, so the list is empty until an analysis
 * completes and never mixes two analyses. Full-text search runs FTS5 over description, tags and visible
 * text (SQLite FTS5 with bm25 ranking, PostgreSQL tsvector with ts_rank; tags weighted above the rest), and groups the hits by video. Similarity search compares a scene's
 * embedding with the other scenes' embeddings of the same model and dimension (cosine), never across models.
 */
import { readFile, realpath } from 'node:fs/promises';
import { sep } from 'node:path';
import { OptionError, StoreError } from '../errors.js';
import type { SceneIssue } from '../store/types.js';
import { integerIn, oneOf, opt, plainOptions, string } from '../util/validate.js';
import type { LibraryContext } from './context.js';
import { toLibraryScene, toVideoScene } from './records.js';
import type { LibraryScene, LibrarySceneList, SceneListOptions, SceneSearchGroup, SceneSearchOptions, SceneSearchResult, SimilarOptions, SimilarScenesResult } from './types.js';

function mediaIdsOption(o: Record<string, unknown>): readonly string[] | undefined {
  const value = o.mediaIds;
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new OptionError(`Expected array of media id strings for mediaIds but received ${typeof value}`);
  }
  return value as string[];
}

/** The words of a free-text query (letters, digits, underscores), NFC. @throws OptionError without any. */
export function queryWords(text: string): string[] {
  const words = text.normalize('NFC').match(/[\p{L}\p{N}_]+/gu) ?? [];
  if (words.length === 0) throw new OptionError(`Expected at least one word in the search query but received ${JSON.stringify(text)}`);
  return words;
}

/** See the file header. */
export class VideoScenesApi {
  readonly #ctx: LibraryContext;

  /** @internal */
  constructor(ctx: LibraryContext) {
    this.#ctx = ctx;
  }

  /**
   * The scenes of a video, ordered by scene_index; empty until its analysis completes.
   * @throws StoreError NOT_FOUND (no such media).
   */
  async list(videoId: string, options?: SceneListOptions): Promise<LibrarySceneList> {
    string('videoId', videoId);
    const o = plainOptions('list options', options, ['limit', 'offset']);
    const limit = opt(o, 'limit', 100, (n, v) => integerIn(n, v, 1, 10_000));
    const offset = opt(o, 'offset', 0, (n, v) => integerIn(n, v, 0, Number.MAX_SAFE_INTEGER));
    if ((await this.#ctx.store.getMedia(videoId)) === null) throw new StoreError('NOT_FOUND', `No media ${videoId}`, { details: { media_id: videoId } });
    const page = await this.#ctx.store.listScenes(videoId, { limit, offset });
    const job = page.items[0] === undefined ? null : await this.#ctx.store.getJob(page.items[0].job_id);
    return { items: page.items.map(toLibraryScene), total_count: page.total, video_id: videoId, degraded: job?.degraded ?? [] };
  }

  /**
   * One scene, with its video and what failed while enriching it (`errors`: stage, code, message; empty when
   * nothing did). @throws StoreError NOT_FOUND.
   */
  async get(sceneId: string): Promise<LibraryScene & { video_id: string; errors: SceneIssue[] }> {
    string('sceneId', sceneId);
    const scene = await this.#ctx.store.getScene(sceneId);
    if (scene === null) throw new StoreError('NOT_FOUND', `No scene ${sceneId}`, { details: { scene_id: sceneId } });
    return { ...toLibraryScene(scene), video_id: scene.media_id, errors: scene.errors };
  }

  /**
   * The JPEG bytes of a scene's thumbnail.
   * @throws StoreError NOT_FOUND (no such scene, no thumbnail, or its file was removed).
   */
  async getThumbnail(sceneId: string): Promise<Buffer> {
    string('sceneId', sceneId);
    const scene = await this.#ctx.store.getScene(sceneId);
    if (scene === null) throw new StoreError('NOT_FOUND', `No scene ${sceneId}`, { details: { scene_id: sceneId } });
    if (scene.thumbnail_path === null) throw new StoreError('NOT_FOUND', `Scene ${sceneId} has no thumbnail`, { details: { scene_id: sceneId } });
    // A server library keeps thumbnails in the database (sha256:<hex>), so that any host can read them.
    const stored = await this.#ctx.store.readAsset(scene.thumbnail_path);
    if (stored !== null) return stored;
    if (scene.thumbnail_path.startsWith('sha256:')) {
      throw new StoreError('NOT_FOUND', `The thumbnail of scene ${sceneId} is missing from the database (${scene.thumbnail_path})`, { details: { scene_id: sceneId, path: scene.thumbnail_path } });
    }
    try {
      // Read only inside the library's assets folder, links resolved: a path the database holds is not trusted.
      const [file, assets] = await Promise.all([realpath(scene.thumbnail_path), realpath(this.#ctx.assetsDir)]);
      if (!file.startsWith(assets + sep)) {
        throw new StoreError('NOT_FOUND', `The thumbnail of scene ${sceneId} is outside the library's assets folder (${scene.thumbnail_path})`, { details: { scene_id: sceneId, path: scene.thumbnail_path } });
      }
      return await readFile(file);
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw new StoreError('NOT_FOUND', `The thumbnail of scene ${sceneId} is missing (${scene.thumbnail_path})`, { cause: error, details: { scene_id: sceneId, path: scene.thumbnail_path } });
    }
  }
}

/** See the file header. */
export class SearchApi {
  readonly #ctx: LibraryContext;

  /** @internal */
  constructor(ctx: LibraryContext) {
    this.#ctx = ctx;
  }

  /**
   * Full-text search over scene descriptions, tags and visible text; hits grouped by video, best first.
   * @throws OptionError (a query without words).
   */
  async scenes(query: string, options?: SceneSearchOptions): Promise<SceneSearchResult> {
    if (typeof query !== 'string') string('query', query);
    const o = plainOptions('search options', options, ['limit', 'mediaIds', 'match']);
    const limit = opt(o, 'limit', 20, (n, v) => integerIn(n, v, 1, 1000));
    const match = opt<'all' | 'any'>(o, 'match', 'all', (n, v) => oneOf(n, v, ['all', 'any'] as const));
    const mediaIds = mediaIdsOption(o);
    const { hits, total } = await this.#ctx.store.searchScenes({ words: queryWords(query), match }, { limit, ...(mediaIds ? { mediaIds } : {}) });
    const groups = new Map<string, SceneSearchGroup>();
    for (const hit of hits) {
      let group = groups.get(hit.scene.media_id);
      if (group === undefined) {
        const media = await this.#ctx.store.getMedia(hit.scene.media_id);
        group = { video_id: hit.scene.media_id, file_name: media?.file_name ?? '', score: hit.score, scenes: [] };
        groups.set(hit.scene.media_id, group);
      }
      group.score = Math.max(group.score, hit.score);
      group.scenes.push({ ...toVideoScene(hit.scene), video_id: hit.scene.media_id, score: hit.score, highlight: hit.snippet });
    }
    const items = [...groups.values()].sort((a, b) => b.score - a.score);
    return { query, total_count: total, items };
  }

  /**
   * Scenes nearest to a scene by embedding (cosine similarity), with the same model only.
   * @throws StoreError NOT_FOUND (no such scene, or it has no embedding of that model).
   */
  async similar(sceneId: string, options?: SimilarOptions): Promise<SimilarScenesResult> {
    string('sceneId', sceneId);
    const o = plainOptions('similar options', options, ['limit', 'mediaIds', 'modelId']);
    const limit = opt(o, 'limit', 10, (n, v) => integerIn(n, v, 1, 1000));
    const mediaIds = mediaIdsOption(o);
    const wanted = opt<string | undefined>(o, 'modelId', undefined, string);
    if ((await this.#ctx.store.getScene(sceneId)) === null) throw new StoreError('NOT_FOUND', `No scene ${sceneId}`, { details: { scene_id: sceneId } });
    const models = await this.#ctx.store.sceneEmbeddingModels(sceneId);
    const model = wanted === undefined ? models[0] : models.find((m) => m.model_id === wanted);
    if (model === undefined) {
      throw new StoreError('NOT_FOUND', `Scene ${sceneId} has no embedding${wanted === undefined ? '' : ` from model ${wanted}`} (embedding_status is not "completed")`, { details: { scene_id: sceneId } });
    }
    const hits = await this.#ctx.store.similarScenes(sceneId, model.model_id, { limit, ...(mediaIds ? { mediaIds } : {}) });
    return {
      scene_id: sceneId,
      model_id: model.model_id,
      items: hits.map((hit) => ({ ...toVideoScene(hit.scene), video_id: hit.scene.media_id, score: Math.round(hit.score * 1e6) / 1e6 })),
    };
  }

  /**
   * Store (or replace) a scene's embedding for a model: re-indexing with another model adds a second
   * embedding beside the first, and similar() compares like with like.
   * @throws StoreError NOT_FOUND.
   */
  async putEmbedding(sceneId: string, embedding: { model_id: string; vector: ArrayLike<number> }): Promise<void> {
    string('sceneId', sceneId);
    string('model_id', embedding.model_id);
    if (embedding.vector.length === 0) throw new OptionError('Expected a non-empty vector for embedding.vector but received an empty one');
    await this.#ctx.store.putEmbedding(sceneId, embedding);
  }
}
