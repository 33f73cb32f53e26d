/**
 * The media library's public surface, for src/index.ts to re-export.
 */
export { openLibrary, Library, type StartWorkersOptions } from './library.js';
export { defaultLibraryPath, assetsDirFor, LIBRARY_ENV } from './location.js';
export { VIDEO_EXTENSIONS } from './media.js';
export type { MediaApi } from './media.js';
export type { VideoAnalysisApi } from './analysis.js';
export type { VideoScenesApi, SearchApi } from './scenes.js';
export * from './types.js';
export { createDefaultPipeline, type DefaultPipelineOptions } from '../jobs/default-pipeline.js';
export {
  ANALYSIS_TYPES,
  type AnalysisType,
  type AnalysisPipeline,
  type PipelineStep,
  type StepContext,
  type StepState,
  type ProbeStepOutput,
  type DetectStepOutput,
  type EnrichStepOutput,
  type EnrichedScene,
} from '../jobs/pipeline.js';
export type { JobStore, CatalogStore, LibraryStore } from '../store/types.js';
