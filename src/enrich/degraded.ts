/**
 * What an analysis could not do, and how to fix it: from the enricher's model statuses to a short list of
 * degraded features with the command that installs what is missing. Pure; the CLI prints it, the library only
 * returns it (`AnalysisResult.degraded`).
 */
import { getModelEntry } from '../models/registry.js';
import type { EnricherModelStatus } from './types.js';

/** One feature the analysis did without. */
export interface DegradedFeature {
  /** The model or engine id (as in `models`). */
  model: string;
  status: 'missing' | 'failed';
  /** What is lost, for people: "objects and people (count, shot size) in descriptions and tags". */
  feature: string;
  /** Why (the model status' reason). */
  reason: string;
  /** The command (or step) that installs it. */
  install: string;
  /** True for add-ons the default pipeline does not need (an image captioner). */
  optional: boolean;
}

/** What each task adds to an analysis, by the task names the enricher reports. */
const FEATURES: Record<string, string> = {
  'classify+embed': 'ImageNet labels in descriptions and tags, and the 1280-d scene embedding (a 156-d colour-layout embedding is used instead)',
  classify: 'ImageNet labels in descriptions and tags',
  'detect-objects': 'objects and people (count, shot size) in descriptions and tags',
  'detect-text': 'text-line detection for OCR',
  'recognize-text': 'on-screen text (visible_text)',
  caption: 'a sentence from an image captioner instead of the composed description',
};

function installCommand(id: string, modelsDir: string | undefined): string {
  const target = modelsDir === undefined ? '' : ` --models ${JSON.stringify(modelsDir)}`;
  let fetchable = false;
  try {
    // A required file with no download of its own (derived) can only be copied in.
    fetchable = !getModelEntry(id).files.some((f) => f.optional !== true && f.derived !== undefined);
  } catch {
    return 'reinstall scenescope (npm install)';
  }
  const install = `scenescope models install --from <folder holding ${id}/> ${id}${target}`;
  return fetchable ? `${install} (or on a connected machine: scenescope models fetch ${id}${target})` : install;
}

/**
 * The degraded features of an analysis from its model statuses: every model that is missing or failed to load
 * (models turned off by an option are not degraded). Captioners are listed with `optional: true`.
 * @param modelsDir the models folder the analysis used, named in the commands (omit for the default folder).
 */
export function degradedFeatures(statuses: readonly EnricherModelStatus[], modelsDir?: string): DegradedFeature[] {
  const out: DegradedFeature[] = [];
  for (const s of statuses) {
    if (s.status !== 'missing' && s.status !== 'failed') continue;
    out.push({
      model: s.id,
      status: s.status,
      feature: FEATURES[s.task] ?? s.task,
      reason: s.reason ?? s.status,
      install: s.status === 'failed' && s.hint !== undefined ? s.hint : installCommand(s.id, modelsDir),
      optional: s.task === 'caption',
    });
  }
  return out;
}

/**
 * The lines a command-line tool prints once for the degraded features (empty when nothing required is
 * missing; optional add-ons are mentioned only beside a required one).
 */
export function degradedNotice(degraded: readonly DegradedFeature[]): string[] {
  if (!degraded.some((d) => !d.optional)) return [];
  const lines = ['scenescope: some features were degraded because models are missing:'];
  for (const d of degraded) {
    lines.push(`  - ${d.optional ? '(optional) ' : ''}${d.feature} [${d.model} ${d.status}]`);
    lines.push(`    install: ${d.install}`);
  }
  lines.push('  (see docs/models.md; "scenescope models list" shows what is installed)');
  return lines;
}
