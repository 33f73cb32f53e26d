/**
 * scenescope: offline video analysis for Node.js. Importing this module is cheap: heavy dependencies (sharp,
 * onnxruntime-node, tesseract.js, better-sqlite3) load only when a function that needs them runs.
 */
export { detectScenes, detectResultToJSON, resolveDetectOptions, computeFeatureSeries, type DetectOptions, type DetectResult, type DetectProgress, type ResolvedDetectOptions } from './api/detect.js';
export { readStats, writeStats, writeStatsWindowed, readStatsInto, type StatsIdentity, type StatsSource, type StatsSink } from './api/stats.js';
export { setAnalysisConcurrency, analysisConcurrency, defaultAnalysisConcurrency } from './api/limit.js';
export { detectWindowed, memorySource, windowPlan, type SeriesSource, type WindowOptions, type WindowedDetection } from './detect/windowed.js';
export { SeriesFile } from './features/series-file.js';
export { probe, MAX_DIMENSION, type ProbeOptions, type ProbeResult, type StreamInfo } from './media/probe.js';
export { analysisSize, decodeBatches, FrameTimes, type DecodeOptions, type FrameBatch } from './media/decode.js';
export { BufferPool } from './util/buffer-pool.js';
export { resolveFfmpegPaths, PROTOCOL_WHITELIST, type FfmpegPaths, type FfmpegPathOptions } from './media/ffmpeg.js';
export {
  detectBoundaries,
  createDetector,
  resolveStandaloneDetectionOptions,
  scenesFromBoundaries,
  formatTime,
  DETECTOR_NAMES,
  type DetectorName,
  type DetectionOptions,
  type DetectionResult,
  type Boundary,
  type BoundaryKind,
  type Scene,
  type Candidate,
  type Detector,
  type DetectorOutput,
  type ScoreTrack,
  type FeatureSeries,
} from './detect/index.js';
export { loadFeatureEngine, type FeatureBackend, type FeatureEngine, type FeatureEngineInfo, type FeatureEngineOptions } from './features/engine.js';
export { FeaturePool, defaultFeatureThreads, type FeaturePoolOptions, type FeaturePoolInfo } from './features/pool.js';
export { computeFeaturesTS, allocBatch, frameView, KERNEL_VERSION } from './features/kernel.js';
export { SCALAR_NAMES, SCALAR_COUNT, HIST_BINS, GRID_W, GRID_H, GRID_SIZE, type FeatureBatch, type FrameFeatures, type ScalarName } from './features/types.js';
export { exportResult, toCsv, toEdl, toOtio, toVtt, EXPORT_FORMATS, frameToTimecode, timecodeToFrame, type ExportFormat, type ExportOptions, type ExportableResult } from './format/index.js';
export { readDataset } from './bench/annotations.js';
export { evaluateClip, summarize, scores, checkTargets } from './bench/metrics.js';
export { analyzeFile, analyzeScenes, enrichScenes, defaultDataDir, type AnalyzeOptions, type AnalyzeProgress, type AnalyzedScene, type AnalysisResult, type AnalysisRun } from './api/analyze.js';
export { createEnricher } from './enrich/index.js';
export * from './library/index.js';
export * from './models/index.js';
export * from './caption/index.js';
export * from './errors.js';
export type * from './types.js';
