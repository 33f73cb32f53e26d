/**
 * What the analysis tells a person: the degraded features when models are missing (returned by the library,
 * printed once by the CLI), the error for a models folder that does not exist, and where the embeddings go
 * (inline, none, file). A two-shot clip made here, no models (an empty models folder), no OCR.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { before, suite, test } from 'node:test';
import { analyzeFile, stringifyAnalysis, type EmbeddingsFile } from '../src/api/analyze.js';
import { main } from '../src/cli/main.js';
import { makeClip, tempDir } from './helpers/clips.js';

const dir = tempDir();
const clip = path.join(dir, 'two-shots.mp4');
const empty = mkdtempSync(path.join(tmpdir(), 'scenescope-nomodels-'));
const nowhere = path.join(dir, 'no-such-models-folder');

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await main(argv, { stdout, stderr, env: {} });
  return { code, out, err };
}

suite('analysis output: what is missing, and embeddings', () => {
  before(async () => {
    await makeClip(clip, [
      { kind: 0, seconds: 1 },
      { kind: 1, seconds: 1 },
    ]);
  });

  test('a models folder that does not exist is MODELS_DIR_NOT_FOUND, before any detection', async () => {
    await assert.rejects(analyzeFile(clip, { modelsDir: nowhere, ocr: false }), (e: unknown) => {
      const error = e as { code?: string; message?: string };
      assert.equal(error.code, 'MODELS_DIR_NOT_FOUND');
      assert.match(error.message ?? '', /no-such-models-folder does not exist/);
      return true;
    });
    const { createEnricher } = await import('../src/enrich/index.js');
    await assert.rejects(createEnricher({ modelsDir: nowhere }), (e: unknown) => (e as { code?: string }).code === 'MODELS_DIR_NOT_FOUND');
    const run = await cli(['analyze', clip, '--models', nowhere, '--no-ocr', '--no-progress']);
    assert.equal(run.code, 1);
    assert.match(run.err, /^scenescope: error \[MODELS_DIR_NOT_FOUND\]: The models folder .*no-such-models-folder does not exist/m);
    assert.equal(run.out, '');
  });

  test('the library returns the degraded features with install commands and prints nothing', async () => {
    const result = await analyzeFile(clip, { modelsDir: empty, ocr: false, thumbnailsDir: path.join(dir, 'thumbs-lib') });
    const byModel = Object.fromEntries(result.degraded.map((d) => [d.model, d]));
    assert.deepEqual(Object.keys(byModel).sort(), ['mobilenetv2-int8', 'vit-gpt2-image-captioning', 'yolox-nano'], 'OCR was turned off, so its models are not degraded');
    assert.match(byModel['yolox-nano']!.feature, /objects and people/);
    assert.match(byModel['yolox-nano']!.install, /^scenescope models install --from <folder holding yolox-nano\/> yolox-nano --models "/);
    assert.equal(byModel['vit-gpt2-image-captioning']!.optional, true);
    assert.equal(byModel['mobilenetv2-int8']!.optional, false);
    for (const s of result.scenes) {
      assert.ok(!/person|people|what looks like/.test(s.description ?? ''), s.description ?? 'null');
      assert.ok(Array.isArray(s.tag_scores) && s.tag_scores.every((t) => t.score === 1), 'without models every tag is a measured fact');
    }
  });

  test('the CLI prints the degraded features once on stderr; the JSON leaves embeddings out by default', async () => {
    const run = await cli(['analyze', clip, '--models', empty, '--no-ocr', '--no-progress', '--thumbnails', path.join(dir, 'thumbs-cli')]);
    assert.equal(run.code, 0, run.err);
    assert.equal(run.err.match(/some features were degraded/g)?.length, 1, run.err);
    assert.match(run.err, /objects and people .*\[yolox-nano missing\]\n {4}install: scenescope models install --from/);
    assert.match(run.err, /\(optional\) a sentence from an image captioner/);
    const doc = JSON.parse(run.out) as { scenes: { embedding: unknown; embedding_status: string }[]; degraded: unknown[]; embeddings_file: unknown };
    assert.equal(doc.degraded.length, 3);
    assert.equal(doc.embeddings_file, null);
    for (const s of doc.scenes) {
      assert.equal(s.embedding, null);
      assert.equal(s.embedding_status, 'skipped');
    }
  });

  test('--embeddings inline keeps each vector on one line; file writes <output>.embeddings.json', async () => {
    const inline = await cli(['analyze', clip, '--models', empty, '--no-ocr', '--no-progress', '--embeddings', 'inline', '--thumbnails', path.join(dir, 'thumbs-inline')]);
    assert.equal(inline.code, 0, inline.err);
    const doc = JSON.parse(inline.out) as { scenes: { scene_id: string; embedding: { dimension: number; vector: number[] } }[] };
    const vectorLines = inline.out.split('\n').filter((l) => /^\s*"vector": \[/.test(l));
    assert.equal(vectorLines.length, 2, 'one line per vector');
    for (const [i, line] of vectorLines.entries()) assert.equal(JSON.parse(line.trim().replace(/^"vector": /, '').replace(/,$/, '')).length, doc.scenes[i]!.embedding.dimension);

    const output = path.join(dir, 'result.json');
    const file = await cli(['analyze', clip, '--models', empty, '--no-ocr', '--no-progress', '--embeddings', 'file', '-o', output, '--thumbnails', path.join(dir, 'thumbs-file')]);
    assert.equal(file.code, 0, file.err);
    const result = JSON.parse(readFileSync(output, 'utf8')) as { scenes: { scene_id: string; embedding: unknown; embedding_status: string }[]; embeddings_file: string };
    assert.equal(result.embeddings_file, `${path.resolve(output)}.embeddings.json`);
    assert.ok(existsSync(result.embeddings_file));
    const vectors = JSON.parse(readFileSync(result.embeddings_file, 'utf8')) as EmbeddingsFile;
    assert.deepEqual(vectors.scenes.map((s) => s.scene_id), result.scenes.map((s) => s.scene_id));
    assert.deepEqual(vectors.scenes.map((s) => s.vector), doc.scenes.map((s) => s.embedding.vector), 'the same vectors as inline');
    for (const s of result.scenes) {
      assert.equal(s.embedding, null);
      assert.equal(s.embedding_status, 'completed');
    }

    const usage = await cli(['analyze', clip, '--embeddings', 'file']);
    assert.equal(usage.code, 2);
    assert.match(usage.err, /--embeddings file writes <output>\.embeddings\.json: give --output/);
    const bad = await cli(['analyze', clip, '--embeddings', 'sometimes']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--embeddings must be none, inline or file, got "sometimes"/);
  });

  test('library options: embeddingsFile goes with "file" only; stringifyAnalysis matches JSON.stringify apart from vectors', async () => {
    await assert.rejects(analyzeFile(clip, { embeddings: 'file' }), /Expected a file path for embeddingsFile/);
    await assert.rejects(analyzeFile(clip, { embeddings: 'inline', embeddingsFile: 'x.json' }), /embeddingsFile applies only to embeddings "file"/);
    await assert.rejects(analyzeFile(clip, { embeddings: 'all' as 'none' }), (e: unknown) => (e as { code?: string }).code === 'INVALID_OPTION');
    const value = { a: [1, 2], scenes: [{ embedding: { vector: [0.5, -0.25, 1e-7] } }], text: 'vector: "\\u0000"' };
    const text = stringifyAnalysis(value);
    assert.deepEqual(JSON.parse(text), value);
    assert.match(text, /"vector": \[0\.5,-0\.25,1e-7\]/);
    assert.match(text, /"a": \[\n {4}1,/, 'other arrays are indented as usual');
  });
});
