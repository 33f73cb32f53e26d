/**
 * `scenescope info`: what this installation uses. The version, the feature backend (and why native is not in
 * use), ffmpeg and ffprobe with their versions and paths, the data, models and library folders, and the state
 * of every model in the manifest (checked quickly: present files, not hashes).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { dataDir, libraryPath, modelsDir as defaultModelsDir } from '../util/paths.js';

const run = promisify(execFile);

/** What `info` reports. */
export interface InstallInfo {
  version: string;
  node: string;
  features: unknown;
  ffmpeg: { path: string | null; version: string | null; error?: string };
  ffprobe: { path: string | null; version: string | null; error?: string };
  dataDir: string;
  modelsDir: string;
  libraryPath: string;
  onnxruntime: string;
  models: { id: string; task: string; state: string; reason?: string }[];
}

async function toolVersion(path: string): Promise<string | null> {
  try {
    const { stdout } = await run(path, ['-hide_banner', '-version'], { timeout: 10_000 });
    const first = stdout.split('\n')[0] ?? '';
    return /version\s+(\S+)/.exec(first)?.[1] ?? (first || null);
  } catch {
    return null;
  }
}

/** Gather the facts (never throws: a missing piece is reported in place). */
export async function gatherInfo(env: NodeJS.ProcessEnv, version: string, modelsOverride?: string): Promise<InstallInfo> {
  const { loadFeatureEngine } = await import('../features/engine.js');
  const { resolveFfmpegPaths } = await import('../media/ffmpeg.js');
  const info: InstallInfo = {
    version,
    node: process.version,
    features: loadFeatureEngine({}).info(),
    ffmpeg: { path: null, version: null },
    ffprobe: { path: null, version: null },
    dataDir: dataDir({ env }),
    modelsDir: modelsOverride ?? defaultModelsDir({ env }),
    libraryPath: libraryPath({ env }),
    onnxruntime: 'not installed (optional: npm install onnxruntime-node)',
    models: [],
  };
  for (const which of ['ffmpeg', 'ffprobe'] as const) {
    try {
      const path = resolveFfmpegPaths()[which];
      info[which] = { path, version: await toolVersion(path) };
    } catch (error) {
      info[which] = { path: null, version: null, error: (error as Error).message };
    }
  }
  try {
    const ort = (await import('onnxruntime-node')) as { env?: { versions?: { node?: string } } };
    info.onnxruntime = ort.env?.versions?.node ?? 'installed';
  } catch {
    // Optional peer dependency: absent is a normal state, reported as such.
  }
  try {
    const { loadManifest, checkModel } = await import('../models/registry.js');
    for (const entry of loadManifest()) {
      const status = await checkModel(entry, { modelsDir: info.modelsDir, verify: false });
      info.models.push({ id: status.id, task: status.task, state: status.state, ...(status.reason !== undefined ? { reason: status.reason } : {}) });
    }
  } catch (error) {
    info.models.push({ id: '(manifest)', task: '-', state: 'error', reason: (error as Error).message });
  }
  return info;
}

/** The text form of {@link gatherInfo}. */
export function infoText(info: InstallInfo): string {
  const features = info.features as { backend: string; native: { loaded: boolean; path?: string; errors: string[] } };
  const lines = [
    `scenescope ${info.version} (node ${info.node})`,
    `features:   ${features.backend}${features.native.loaded ? ` (${features.native.path})` : ` (native not in use: ${features.native.errors.join('; ')})`}`,
    `ffmpeg:     ${info.ffmpeg.version ?? '?'}  ${info.ffmpeg.path ?? info.ffmpeg.error ?? ''}`,
    `ffprobe:    ${info.ffprobe.version ?? '?'}  ${info.ffprobe.path ?? info.ffprobe.error ?? ''}`,
    `onnxruntime: ${info.onnxruntime}`,
    `data:       ${info.dataDir}`,
    `models:     ${info.modelsDir}`,
    `library:    ${info.libraryPath}`,
    'models (quick check; scenescope models list verifies hashes):',
    ...info.models.map((m) => `  ${m.id.padEnd(28)} ${m.task.padEnd(16)} ${m.state}${m.reason !== undefined ? `  ${m.reason}` : ''}`),
  ];
  return lines.join('\n') + '\n';
}
