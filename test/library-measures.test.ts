/**
 * The frame measures the enrich step chooses keyframes from live in the job's folder, which other hosts do not
 * see. The detect step therefore also stores them, packed, in its output: an enrich step resumed on another host
 * (here: an empty job folder) restores the same bytes and gives the same enrichment, thumbnails included.
 * Skipped with the reason when the bundled ffmpeg or the models of ../shared/models are absent.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, suite, test } from 'node:test';
import { createDefaultPipeline } from '../src/jobs/default-pipeline.js';
import { FRAMES_FILE, packFramesFile, unpackFramesFile } from '../src/jobs/frames-file.js';
import type { AnalysisPipeline, DetectStepOutput, EnrichStepOutput, StepContext, StepName, StepState } from '../src/jobs/pipeline.js';
import { modelsSkipReason, SHARED_MODELS } from './enrich-fixtures.js';
import { ffmpegOrNull } from './library-helpers.js';

const ffmpeg = ffmpegOrNull();
const models = modelsSkipReason();
const skip = ffmpeg === null ? 'the bundled ffmpeg is not available' : models;
const dir = mkdtempSync(path.join(tmpdir(), 'scenescope-measures-'));
const clip = path.join(dir, 'clip.mp4');

/** Three 3 s shots; the first fades in from black, so its best keyframe is not its first frame. */
function makeClip(): void {
  const graph = [
    'testsrc2=size=320x180:rate=25:duration=3,fade=t=in:st=0:d=1.5[a]',
    'smptebars=size=320x180:rate=25:duration=3[b]',
    'testsrc=size=320x180:rate=25:duration=3[c]',
    '[a][b][c]concat=n=3:v=1:a=0,format=yuv420p[v]',
  ].join(';');
  execFileSync(ffmpeg!, ['-y', '-loglevel', 'error', '-filter_complex', graph, '-map', '[v]', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', clip], { stdio: 'ignore' });
}

function context(assetsDir: string, state: StepState): StepContext {
  return { mediaPath: clip, mediaId: 'med_measures', jobId: 'job_measures', analysisType: 'full', signal: new AbortController().signal, state, assetsDir, onProgress: () => undefined };
}

async function runSteps(pipeline: AnalysisPipeline, assetsDir: string, state: StepState, names: StepName[]): Promise<StepState> {
  for (const name of names) {
    const step = pipeline.steps.find((s) => s.name === name)!;
    // Through JSON, as the store keeps step outputs.
    state[name] = JSON.parse(JSON.stringify(await pipeline.run(step, context(assetsDir, state))));
  }
  return state;
}

/** The enrichment of each scene with its thumbnail's bytes in place of its (host-local) path. */
function view(output: EnrichStepOutput): unknown[] {
  return output.scenes.map(({ thumbnail_path, ...rest }) => ({ ...rest, thumbnail: thumbnail_path == null ? null : readFileSync(thumbnail_path).toString('base64') }));
}

suite('frame measures travel with the detect step', { skip }, () => {
  let pipeline: AnalysisPipeline;
  before(() => {
    makeClip();
    pipeline = createDefaultPipeline({ enricher: { modelsDir: SHARED_MODELS, caption: false } });
  });
  after(async () => {
    await pipeline?.close?.();
    rmSync(dir, { recursive: true, force: true });
  });

  test('an enrich step on a host without the job folder restores the measures and enriches the same', async () => {
    const hostA = path.join(dir, 'host-a');
    const state = await runSteps(pipeline, hostA, {}, ['probe', 'detect']);
    const detected = state.detect as DetectStepOutput;
    assert.equal(detected.scenes.length, 3, JSON.stringify(detected.boundaries));
    assert.equal(typeof detected.measures, 'string', 'the detect step stores the measures');
    const original = readFileSync(path.join(hostA, FRAMES_FILE));
    assert.equal(original.byteLength, 8 + detected.frame_count * 20);

    const onA = view((await runSteps(pipeline, hostA, { ...state }, ['enrich'])).enrich as EnrichStepOutput);
    const hostB = path.join(dir, 'host-b');
    const onB = view((await runSteps(pipeline, hostB, { ...state }, ['enrich'])).enrich as EnrichStepOutput);
    assert.ok(readFileSync(path.join(hostB, FRAMES_FILE)).equals(original), 'host B restored the same measures');
    assert.deepEqual(onB, onA);
  });

  test('a damaged packed copy writes nothing', async () => {
    const file = path.join(dir, 'damaged.f32');
    assert.equal(await unpackFramesFile(file, 'bm90IGd6aXA='), false);
    assert.equal(existsSync(file), false);
    assert.equal(await packFramesFile(path.join(dir, 'absent.f32')), null);
  });
});
