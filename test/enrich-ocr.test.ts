/**
 * Visible text: captions, lower thirds and signs rendered with sharp onto real photos (when installed) and busy
 * synthetic backgrounds, encoded into H.264 clips at 720p and 360p, read back through enrichScene. The
 * character error rate is computed here with edit distance over all scenes of a clip.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, suite, test } from 'node:test';
import { createEnricher, editDistance, type Enricher } from '../src/enrich/index.js';
import { collapseSpaces } from '../src/enrich/text.js';
import { busyBackground, CAPTION_TEXTS, encodeClip, expectedText, findPhoto, modelsSkipReason, photoBackground, renderFrame, SHARED_MODELS, stillFeatures, type Still } from './enrich-fixtures.js';

const skip = modelsSkipReason();
const PHOTOS = ['chelsea.png', 'coffee.png', 'astronaut.png', 'motorcycle_left.png', 'rocket.jpg', 'hubble_deep_field.jpg'];
const SECONDS = 1;
const FPS = 25;

async function readClip(enricher: Enricher, dir: string, width: number, height: number): Promise<{ cer: number; perScene: { expected: string; read: string | null }[] }> {
  const stills: Still[] = [];
  for (let i = 0; i < CAPTION_TEXTS.length; i++) {
    const photo = findPhoto(PHOTOS[i]!);
    const background = photo !== null && i % 2 === 0 ? await photoBackground(photo, width, height) : await busyBackground(width, height, 100 + i);
    stills.push({ png: await renderFrame(background, width, height, CAPTION_TEXTS[i]!), seconds: SECONDS });
  }
  const clip = await encodeClip(dir, `ocr-${height}p`, stills, FPS);
  let errors = 0;
  let length = 0;
  const perScene: { expected: string; read: string | null }[] = [];
  for (let i = 0; i < stills.length; i++) {
    const start = i * SECONDS;
    const result = await enricher.enrichScene({
      videoPath: clip,
      scene: { scene_index: i, start_frame: start * FPS, end_frame: (start + SECONDS) * FPS, start_time: start, end_time: start + SECONDS },
      frames: await stillFeatures(stills[i]!.png, start, SECONDS, FPS),
      boundaryConfidence: 1,
    });
    assert.deepEqual(result.failures, []);
    const expected = expectedText(CAPTION_TEXTS[i]!);
    perScene.push({ expected, read: result.visible_text });
    const ref = collapseSpaces(expected);
    errors += editDistance(ref, collapseSpaces(result.visible_text ?? ''));
    length += ref.length;
  }
  return { cer: errors / length, perScene };
}

suite('enrich: visible text', { skip }, () => {
  let dir = '';
  let enricher: Enricher;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'scenescope-ocr-'));
    enricher = await createEnricher({ modelsDir: SHARED_MODELS, caption: false });
  });
  after(async () => {
    await enricher?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('720p: character error rate <= 10 % and lines in reading order', async (t) => {
    const { cer, perScene } = await readClip(enricher, dir, 1280, 720);
    t.diagnostic(`CER 720p ${(cer * 100).toFixed(2)} %`);
    for (const s of perScene) t.diagnostic(`${JSON.stringify(s.expected)} -> ${JSON.stringify(s.read)}`);
    assert.ok(cer <= 0.1, `CER ${cer}`);
    // Two lines in one scene: the lower third above the subtitle.
    const two = perScene[3]!;
    assert.equal(two.read?.split('\n').length, 2);
  });

  test('360p: text is still read (character error rate <= 25 %)', async (t) => {
    const { cer, perScene } = await readClip(enricher, dir, 640, 360);
    t.diagnostic(`CER 360p ${(cer * 100).toFixed(2)} %`);
    for (const s of perScene) t.diagnostic(`${JSON.stringify(s.expected)} -> ${JSON.stringify(s.read)}`);
    assert.ok(cer <= 0.25, `CER ${cer}`);
  });

  test('a frame without text gives null, not junk', async () => {
    const width = 640;
    const height = 360;
    const png = await renderFrame(await busyBackground(width, height, 7), width, height, []);
    const clip = await encodeClip(dir, 'notext', [{ png, seconds: 1 }], FPS);
    const result = await enricher.enrichScene({
      videoPath: clip,
      scene: { scene_index: 0, start_frame: 0, end_frame: FPS, start_time: 0, end_time: 1 },
      frames: await stillFeatures(png, 0, 1, FPS),
      boundaryConfidence: 1,
    });
    assert.equal(result.visible_text, null);
    assert.ok(!result.tags.includes('text'));
  });
});
