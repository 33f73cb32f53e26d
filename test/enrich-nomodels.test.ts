/**
 * Enrichment with no model installed (an empty models folder): the scene is still described from visual facts
 * and text, models() says what is missing and how to install it, the embedding falls back to the colour-layout
 * descriptor; and the OCR workers never keep the process alive after close() or abort.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, suite, test } from 'node:test';
import { createEnricher, type Enricher } from '../src/enrich/index.js';
import { pgm } from '../src/enrich/ocr.js';
import { OcrPool } from '../src/enrich/ocr-pool.js';
import { encodeClip, renderFrame, stillFeatures, type Still } from './enrich-fixtures.js';
import sharp from 'sharp';

const FPS = 25;
const here = path.dirname(fileURLToPath(import.meta.url));

async function solid(width: number, height: number, r: number, g: number, b: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r, g, b } } })
    .png()
    .toBuffer();
}

suite('enrich: no models installed', () => {
  let dir = '';
  let clip = '';
  let stills: Still[] = [];
  let enricher: Enricher;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'scenescope-nomodels-'));
    // An existing but empty models folder: a folder that does not exist is MODELS_DIR_NOT_FOUND.
    await mkdir(path.join(dir, 'empty-models'));
    stills = [
      { png: await renderFrame(await solid(640, 360, 60, 110, 230), 640, 360, [{ text: 'Welcome to Lisbon', style: 'lower-third' }]), seconds: 1 },
      { png: await solid(640, 360, 8, 8, 10), seconds: 1 },
    ];
    clip = await encodeClip(dir, 'plain', stills, FPS);
    enricher = await createEnricher({ modelsDir: path.join(dir, 'empty-models'), caption: true });
  });
  after(async () => {
    await enricher?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('models() lists every missing model with the reason and an install hint', () => {
    const models = enricher.models();
    const byId = new Map(models.map((m) => [m.id, m]));
    for (const id of ['mobilenetv2-int8', 'yolox-nano']) {
      const m = byId.get(id);
      assert.equal(m?.status, 'missing', id);
      assert.match(m?.reason ?? '', /missing|does not exist/);
      assert.match(m?.hint ?? '', /scenescope models install --from/);
    }
    // Text reading needs no models folder: PP-OCRv4 comes with the npm dependency.
    assert.equal(byId.get('ppocr-v4')?.status, 'loaded');
    assert.equal(byId.get('tesseract-eng')?.status, 'loaded');
    assert.equal(models.find((m) => m.task === 'caption')?.status, 'missing');
  });

  test('a scene is described from visual facts and text only, with a colour-layout embedding', async () => {
    const r = await enricher.enrichScene({
      videoPath: clip,
      scene: { scene_index: 0, start_frame: 0, end_frame: FPS, start_time: 0, end_time: 1 },
      frames: await stillFeatures(stills[0]!.png, 0, 1, FPS),
      boundaryConfidence: 1,
    });
    assert.deepEqual(r.failures, []);
    assert.equal(r.visible_text, 'Welcome to Lisbon');
    assert.equal(r.description, 'A scene, mostly blue, with no motion, with on-screen text "Welcome to Lisbon".');
    assert.deepEqual(r.tags, ['blue', 'still', 'text']);
    assert.equal(r.embedding?.model, 'scenescope-colour-layout-v1');
    assert.equal(r.embedding?.dimension, 156);
    assert.equal(r.embedding_status, 'completed');
    assert.equal(r.thumbnail_path, null);
    assert.ok(r.confidence_score > 0.5 && r.confidence_score <= 1);
  });

  test('a black scene says so and nothing more', async () => {
    const r = await enricher.enrichScene({
      videoPath: clip,
      scene: { scene_index: 1, start_frame: FPS, end_frame: 2 * FPS, start_time: 1, end_time: 2 },
      frames: await stillFeatures(stills[1]!.png, 1, 1, FPS),
      boundaryConfidence: 1,
    });
    assert.equal(r.description, 'A dark scene, mostly black, with no motion.');
    assert.equal(r.visible_text, null);
    assert.deepEqual(r.tags, ['black', 'dark', 'still']);
  });

  test('a caption model that cannot load is listed as failed and the scene is still described', async () => {
    const broken = path.join(dir, 'broken-captioner');
    await mkdir(broken, { recursive: true });
    const e = await createEnricher({ modelsDir: path.join(dir, 'empty-models'), ocr: false, captionModelDir: broken });
    try {
      const caption = e.models().find((m) => m.task === 'caption');
      assert.equal(caption?.status, 'failed');
      assert.equal(caption?.id, 'broken-captioner');
      assert.match(caption?.reason ?? '', /lacks/);
      const r = await e.enrichScene({ videoPath: clip, scene: { scene_index: 1, start_frame: FPS, end_frame: 2 * FPS, start_time: 1, end_time: 2 }, frames: [], boundaryConfidence: 1 });
      assert.equal(r.description, 'A dark scene, mostly black.');
    } finally {
      await e.close();
    }
  });

  test('an aborted scene rejects with ABORTED; the enricher goes on', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      enricher.enrichScene({
        videoPath: clip,
        scene: { scene_index: 0, start_frame: 0, end_frame: FPS, start_time: 0, end_time: 1 },
        frames: [],
        boundaryConfidence: 1,
        signal: controller.signal,
      }),
      { code: 'ABORTED' },
    );
    const ok = await enricher.enrichScene({ videoPath: clip, scene: { scene_index: 1, start_frame: FPS, end_frame: 2 * FPS, start_time: 1, end_time: 2 }, frames: [], boundaryConfidence: 1 });
    assert.equal(ok.keyframe_time, 1.5);
  });

  test('an unreadable video keeps a keyframe failure (DECODE_FAILED) in the scene instead of rejecting', async () => {
    const bad = path.join(dir, 'bad.mp4');
    await writeFile(bad, 'not a video');
    const scene = await enricher.enrichScene({ videoPath: bad, scene: { scene_index: 0, start_frame: 0, end_frame: 1, start_time: 0, end_time: 1 }, frames: [], boundaryConfidence: 1 });
    assert.deepEqual(scene.failures.map((f) => [f.step, f.code]), [['keyframe', 'DECODE_FAILED']]);
    assert.equal(scene.thumbnail_path, null);
    assert.ok(scene.description.length > 0);
  });

  test('the OCR pool recycles its workers after N images and rejects waiting jobs on close', async () => {
    const pool = await OcrPool.create({ workers: 1, psm: '7', recycleAfter: 2 });
    const line = async (text: string): Promise<Buffer> => {
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${text.length * 22 + 20}" height="48"><rect width="100%" height="100%" fill="white"/><text x="10" y="36" font-family="DejaVu Sans" font-size="32">${text}</text></svg>`;
      const { data, info } = await sharp(Buffer.from(svg)).greyscale().raw().toBuffer({ resolveWithObject: true });
      return pgm(new Uint8Array(data), info.width, info.height);
    };
    const words = ['Harbour', 'Lisbon', 'Station', 'Market', 'Bridge'];
    const read: string[] = [];
    for (const w of words) read.push((await pool.recognize(await line(w))).text.trim());
    assert.deepEqual(read, words);
    assert.equal(pool.workersCreated, 3);
    const pending = pool.recognize(await line('Pending'));
    const closing = pool.close();
    await assert.rejects(pending, { code: 'ABORTED' });
    await closing;
    await assert.rejects(pool.recognize(await line('After')), { code: 'ABORTED' });
  });

  test('OCR workers are terminated on close and on abort: the process exits by itself', async () => {
    const script = path.join(dir, 'exit-check.mjs');
    const enrichUrl = new URL('../src/enrich/index.js', `file://${here}/`).href;
    await writeFile(
      script,
      `import { createEnricher } from ${JSON.stringify(enrichUrl)};
const a = await createEnricher({ modelsDir: ${JSON.stringify(path.join(dir, 'empty-models'))} });
await a.enrichScene({ videoPath: ${JSON.stringify(clip)}, scene: { scene_index: 0, start_frame: 0, end_frame: 25, start_time: 0, end_time: 1 }, frames: [], boundaryConfidence: 1 });
await a.close();
const controller = new AbortController();
const b = await createEnricher({ modelsDir: ${JSON.stringify(path.join(dir, 'empty-models'))}, signal: controller.signal });
controller.abort();
await b.enrichScene({ videoPath: ${JSON.stringify(clip)}, scene: { scene_index: 0, start_frame: 0, end_frame: 25, start_time: 0, end_time: 1 }, frames: [], boundaryConfidence: 1 }).then(() => { throw new Error('not aborted'); }, (e) => { if (e.code !== 'ABORTED' && e.code !== 'INVALID_STATE') throw e; });
console.log('done');
`,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(null);
      }, 45_000);
      child.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    assert.equal(code, 0, `child did not exit cleanly (code ${String(code)}): ${out}`);
    assert.match(out, /done/);
  });
});
