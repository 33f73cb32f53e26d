/**
 * The model registry: the packaged manifest, the models folder, verification (missing, truncated, bad hash),
 * `models install --from` (the air-gapped path) and `models list`.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, suite, test } from 'node:test';
import { runModelsCommand } from '../src/cli/models-command.js';
import { ModelError } from '../src/errors.js';
import { installModels } from '../src/models/install.js';
import { defaultModelsDir, loadManifest, locateModel, packageRoot, parseManifest, requireModel, type ModelEntry } from '../src/models/registry.js';

const here = dirname(fileURLToPath(import.meta.url));
const SHARED_MODELS = resolve(packageRoot(), '..', 'shared', 'models');
const sharedSkip = existsSync(SHARED_MODELS) ? false : `../shared/models is absent (${SHARED_MODELS})`;

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** A small fake model, with its manifest entry. */
function fakeModel(id: string, files: Record<string, string>, optional: string[] = []): ModelEntry {
  return {
    id,
    task: 'classify',
    version: '1',
    license: 'MIT',
    homepage: 'https://example.invalid/',
    files: Object.entries(files).map(([name, content]) => ({
      name,
      sha256: sha256(content),
      bytes: Buffer.byteLength(content),
      url: `https://example.invalid/${id}/${name}`,
      ...(optional.includes(name) ? { optional: true } : {}),
    })),
    inputs: null,
    outputs: null,
  };
}

function capture(): { io: { stdout: { write(s: string): boolean }; stderr: { write(s: string): boolean }; env: NodeJS.ProcessEnv }; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: { write: (s: string) => ((out += s), true) },
      stderr: { write: (s: string) => ((err += s), true) },
      env: {},
    },
    out: () => out,
    err: () => err,
  };
}

suite('models: manifest', () => {
  test('the packaged manifest loads from the package root and names every shared model', () => {
    const manifest = loadManifest();
    assert.equal(packageRoot(), resolve(here, '..', '..'), 'package root found by walking up from dist/src/models');
    const ids = manifest.map((e) => e.id);
    for (const id of ['mobilenetv2-int8', 'yolox-nano', 'ppocr-v3-det', 'ppocr-v3-cls', 'ppocr-en-rec', 'vit-gpt2-image-captioning']) assert.ok(ids.includes(id), id);
    assert.equal(new Set(ids).size, ids.length);
    for (const entry of manifest) {
      for (const file of entry.files) assert.match(file.url, /^https:\/\//, `${entry.id}/${file.name} has an https address`);
      assert.ok(entry.license.length > 0 && entry.homepage.startsWith('https://'));
    }
    const caption = manifest.find((e) => e.id === 'vit-gpt2-image-captioning')!;
    assert.equal(caption.task, 'caption');
    assert.deepEqual(caption.files.filter((f) => f.optional !== true).map((f) => f.name), ['encoder_model_quantized.onnx', 'decoder_model_quantized.onnx', 'config.json', 'generation_config.json', 'preprocessor_config.json', 'tokenizer.json']);
  });

  test('the pinned hashes match the files in ../shared/models', { skip: sharedSkip }, async () => {
    for (const id of ['mobilenetv2-int8', 'yolox-nano', 'ppocr-v3-det', 'ppocr-v3-cls', 'ppocr-en-rec']) {
      const location = await locateModel(id, { modelsDir: SHARED_MODELS, verify: true });
      assert.ok(location.ok, `${id}: ${location.ok ? '' : location.reason}`);
    }
    const mobilenet = await requireModel('mobilenetv2-int8', { modelsDir: SHARED_MODELS });
    assert.equal(mobilenet.files['mobilenetv2-12-int8-with-embedding.onnx'], join(SHARED_MODELS, 'mobilenetv2-int8', 'mobilenetv2-12-int8-with-embedding.onnx'));
    const cls = await requireModel('ppocr-v3-cls', { modelsDir: SHARED_MODELS });
    assert.equal(cls.dir, join(SHARED_MODELS, 'ppocr-v3-det'), 'the classifier shares the detector folder');
  });

  test('malformed manifests are refused with the entry and field named', () => {
    const good = fakeModel('m', { 'a.onnx': 'x' });
    const cases: Array<[unknown, string]> = [
      [{}, 'Invalid model manifest t: expected an object with a "models" array'],
      [[good, good], 'Invalid model manifest t: models[1] (m).id is a duplicate'],
      [[{ ...good, id: 'Bad Id' }], 'Invalid model manifest t: models[0] (Bad Id).id must match /^[a-z0-9][a-z0-9._-]{0,99}$/'],
      [[{ ...good, task: 'dance' }], 'Invalid model manifest t: models[0] (m).task must be one of classify, embed, detect-objects, detect-text, text-direction, recognize-text, caption'],
      [[{ ...good, files: [{ ...good.files[0], name: '../escape.onnx' }] }], 'Invalid model manifest t: models[0] (m).files[0].name must be a plain file name'],
      [[{ ...good, files: [{ ...good.files[0], sha256: 'abc' }] }], 'Invalid model manifest t: models[0] (m).files[0].sha256 must be 64 lowercase hex digits (or "" when not pinned)'],
      [[{ ...good, files: [{ ...good.files[0], url: 'file:///etc/passwd' }] }], 'Invalid model manifest t: models[0] (m).files[0].url must be an http(s) address'],
      [[{ ...good, files: [{ ...good.files[0], optional: true }] }], 'Invalid model manifest t: models[0] (m).files must hold at least one required file'],
    ];
    for (const [raw, message] of cases) {
      assert.throws(() => parseManifest(raw, 't'), (error: unknown) => error instanceof ModelError && error.code === 'MODEL_UNAVAILABLE' && error.message === message, message);
    }
  });
});

suite('models: folder and verification', () => {
  let root: string;
  const content = { 'weights.onnx': 'pretend these are weights '.repeat(40), 'labels.txt': 'cat\ndog\n', 'extra.bin': 'optional bytes' };
  const entry = fakeModel('fake-model', content, ['extra.bin']);
  const manifest = [entry];

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'scenescope-models-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  function install(dir: string, files: Record<string, string>): void {
    mkdirSync(join(dir, 'fake-model'), { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'fake-model', name), text);
  }

  test('defaultModelsDir: SCENESCOPE_MODELS_DIR, then XDG_DATA_HOME, then ~/.local/share', () => {
    assert.equal(defaultModelsDir({ SCENESCOPE_MODELS_DIR: '/srv/models', XDG_DATA_HOME: '/x' }), '/srv/models');
    if (process.platform !== 'win32') {
      assert.equal(defaultModelsDir({ XDG_DATA_HOME: '/data' }), '/data/scenescope/models');
      assert.equal(defaultModelsDir({ HOME: '/home/ana' }), '/home/ana/.local/share/scenescope/models');
      assert.equal(defaultModelsDir({ HOME: '/home/ana', XDG_DATA_HOME: 'relative' }), '/home/ana/.local/share/scenescope/models', 'a relative XDG_DATA_HOME is ignored, as the spec says');
    }
  });

  test('a model that is not installed says why and how to install it', async () => {
    const dir = join(root, 'empty');
    const location = await locateModel('fake-model', { modelsDir: dir, manifest });
    assert.equal(location.ok, false);
    assert.ok(!location.ok);
    assert.equal(location.reason, `model fake-model is missing: ${join(dir, 'fake-model')} does not exist`);
    assert.match(location.hint, /scenescope models install --from <folder>/);
    assert.match(location.hint, /scenescope models fetch fake-model/);
    assert.match(location.hint, /SCENESCOPE_MODELS_DIR/);
    await assert.rejects(requireModel('fake-model', { modelsDir: dir, manifest }), (error: unknown) => error instanceof ModelError && error.code === 'MODEL_UNAVAILABLE' && /is missing/.test(error.message));
  });

  test('installed: absolute paths of the required files; a missing optional file is simply absent', async () => {
    const dir = join(root, 'ok');
    install(dir, { 'weights.onnx': content['weights.onnx'], 'labels.txt': content['labels.txt'] });
    const location = await locateModel('fake-model', { modelsDir: dir, manifest, verify: true });
    assert.ok(location.ok);
    assert.deepEqual(location.files, { 'weights.onnx': join(dir, 'fake-model', 'weights.onnx'), 'labels.txt': join(dir, 'fake-model', 'labels.txt') });
  });

  test('a missing required file makes the model partial', async () => {
    const dir = join(root, 'partial');
    install(dir, { 'weights.onnx': content['weights.onnx'] });
    const location = await locateModel('fake-model', { modelsDir: dir, manifest });
    assert.ok(!location.ok);
    assert.equal(location.reason, `model fake-model is partial: labels.txt is missing (in ${join(dir, 'fake-model')})`);
  });

  test('a truncated file is corrupt even without hashing (size check)', async () => {
    const dir = join(root, 'truncated');
    install(dir, { 'weights.onnx': content['weights.onnx'].slice(0, 100), 'labels.txt': content['labels.txt'] });
    const location = await locateModel('fake-model', { modelsDir: dir, manifest });
    assert.ok(!location.ok);
    assert.equal(location.reason, `model fake-model is corrupt: weights.onnx has 100 bytes, expected ${content['weights.onnx'].length}`);
  });

  test('a file with the right size but wrong bytes fails verification (verify: true only)', async () => {
    const dir = join(root, 'badhash');
    const bad = 'X' + content['weights.onnx'].slice(1);
    install(dir, { 'weights.onnx': bad, 'labels.txt': content['labels.txt'] });
    assert.equal((await locateModel('fake-model', { modelsDir: dir, manifest })).ok, true, 'presence and size only');
    const location = await locateModel('fake-model', { modelsDir: dir, manifest, verify: true });
    assert.ok(!location.ok);
    assert.equal(location.reason, `model fake-model is corrupt: weights.onnx fails verification: sha256 ${sha256(bad)}, expected ${sha256(content['weights.onnx'])}`);
  });

  test('the hash cache notices a rewritten file', async () => {
    const dir = join(root, 'rewrite');
    install(dir, { 'weights.onnx': content['weights.onnx'], 'labels.txt': content['labels.txt'] });
    assert.equal((await locateModel('fake-model', { modelsDir: dir, manifest, verify: true })).ok, true);
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(join(dir, 'fake-model', 'labels.txt'), 'cow\ndog\n');
    const location = await locateModel('fake-model', { modelsDir: dir, manifest, verify: true });
    assert.ok(!location.ok);
    assert.match(location.reason, /labels\.txt fails verification/);
  });

  test('an unknown id is reported, not thrown', async () => {
    const location = await locateModel('nope', { modelsDir: root, manifest });
    assert.deepEqual(location, { ok: false, id: 'nope', reason: 'unknown model id "nope" (known: fake-model)', hint: 'Use an id from "scenescope models list"' });
  });
});

suite('models: install --from a folder', () => {
  let root: string;
  const content = { 'weights.onnx': 'w'.repeat(3000), 'labels.txt': 'a\nb\n' };
  const manifest = [fakeModel('fake-model', content), fakeModel('other-model', { 'o.onnx': 'other' })];

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'scenescope-install-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('copies and verifies, skips what is already there, leaves no temporary files', async () => {
    const usb = join(root, 'usb');
    mkdirSync(join(usb, 'fake-model'), { recursive: true });
    for (const [name, text] of Object.entries(content)) writeFileSync(join(usb, 'fake-model', name), text);
    const dest = join(root, 'dest');
    const report = await installModels({ from: usb, modelsDir: dest, manifest });
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.files.map((f) => [f.id, f.file, f.action]),
      [
        ['fake-model', 'weights.onnx', 'installed'],
        ['fake-model', 'labels.txt', 'installed'],
        ['other-model', '*', 'not-found'],
      ],
    );
    assert.deepEqual(report.models.map((m) => [m.id, m.state]), [['fake-model', 'installed'], ['other-model', 'missing']]);
    assert.equal(readFileSync(join(dest, 'fake-model', 'weights.onnx'), 'utf8'), content['weights.onnx']);
    assert.deepEqual(readdirSync(join(dest, 'fake-model')).sort(), ['labels.txt', 'weights.onnx']);
    const again = await installModels({ from: usb, modelsDir: dest, manifest, ids: ['fake-model'] });
    assert.deepEqual(again.files.map((f) => f.action), ['present', 'present']);
  });

  test('a corrupt source file is not installed and leaves nothing behind', async () => {
    const usb = join(root, 'usb-bad');
    mkdirSync(join(usb, 'fake-model'), { recursive: true });
    writeFileSync(join(usb, 'fake-model', 'weights.onnx'), 'v'.repeat(3000));
    writeFileSync(join(usb, 'fake-model', 'labels.txt'), content['labels.txt']);
    const dest = join(root, 'dest-bad');
    const report = await installModels({ from: usb, modelsDir: dest, manifest, ids: ['fake-model'] });
    assert.equal(report.ok, false);
    const failed = report.files.find((f) => f.file === 'weights.onnx')!;
    assert.equal(failed.action, 'failed');
    assert.equal(failed.reason, `weights.onnx fails verification: sha256 ${sha256('v'.repeat(3000))}, expected ${sha256(content['weights.onnx'])} (source ${join(usb, 'fake-model', 'weights.onnx')}); not installed`);
    assert.deepEqual(readdirSync(join(dest, 'fake-model')), ['labels.txt'], 'no weights.onnx and no temporary file');
  });

  test('a flat folder (files side by side) works for a named model', async () => {
    const flat = join(root, 'flat');
    mkdirSync(flat);
    writeFileSync(join(flat, 'o.onnx'), 'other');
    const report = await installModels({ from: flat, modelsDir: join(root, 'dest-flat'), manifest, ids: ['other-model'] });
    assert.equal(report.ok, true);
    assert.equal(report.models[0]!.state, 'installed');
  });

  test('an explicitly named model the source lacks makes the install fail', async () => {
    const report = await installModels({ from: join(root, 'flat'), modelsDir: join(root, 'dest-none'), manifest, ids: ['fake-model'] });
    assert.equal(report.ok, false);
    assert.deepEqual(report.files.map((f) => f.action), ['not-found', 'not-found']);
  });

  test('the shared models install from ../shared/models and list as verified', { skip: sharedSkip }, async () => {
    const dest = join(root, 'from-shared');
    const { io, out, err } = capture();
    assert.equal(await runModelsCommand(['install', '--from', SHARED_MODELS, '--models', dest, 'yolox-nano', 'ppocr-v3-det', 'ppocr-v3-cls'], io), 0, err());
    assert.match(out(), /yolox-nano\s+yolox_nano\.onnx\s+installed \(3\.5 MiB\)/);
    assert.match(out(), /ppocr-v3-cls\s+ch_ppocr_mobile_v2\.0_cls_infer\.onnx\s+already installed/);
    const list = capture();
    assert.equal(await runModelsCommand(['list', '--models', dest, '--json'], list.io), 0);
    const states = Object.fromEntries((JSON.parse(list.out()) as { models: Array<{ id: string; state: string }> }).models.map((m) => [m.id, m.state]));
    // Only the models the pipeline uses: the direction classifier and the PaddleOCR recogniser are not listed.
    assert.deepEqual(states, { 'mobilenetv2-int8': 'missing', 'yolox-nano': 'installed', 'ppocr-v3-det': 'installed', 'vit-gpt2-image-captioning': 'missing' });
    const all = capture();
    assert.equal(await runModelsCommand(['list', '--models', dest, '--all'], all.io), 0);
    assert.match(all.out(), /^ppocr-en-rec\s+recognize-text\s+missing: .*\(not used by the pipeline: text lines are recognised by tesseract\.js/m);
    assert.match(all.out(), /^1 model\(s\) not installed\./m, 'only mobilenetv2-int8: unused models and the optional captioner are not counted as missing');
  });
});

suite('models: command line', () => {
  test('list prints installed / missing / corrupt with reasons', async () => {
    const root = mkdtempSync(join(tmpdir(), 'scenescope-cli-'));
    try {
      const manifestFile = join(root, 'manifest.json');
      const good = fakeModel('good-model', { 'g.onnx': 'good' });
      const broken = fakeModel('broken-model', { 'b.onnx': 'good' });
      writeFileSync(manifestFile, JSON.stringify({ models: [good, broken, fakeModel('absent-model', { 'a.onnx': 'a' })] }));
      const models = join(root, 'models');
      mkdirSync(join(models, 'good-model'), { recursive: true });
      mkdirSync(join(models, 'broken-model'), { recursive: true });
      writeFileSync(join(models, 'good-model', 'g.onnx'), 'good');
      writeFileSync(join(models, 'broken-model', 'b.onnx'), 'evil');
      const { io, out } = capture();
      assert.equal(await runModelsCommand(['list', '--manifest', manifestFile, '--models', models], io), 0);
      const text = out();
      assert.match(text, /^good-model\s+classify\s+installed$/m);
      assert.match(text, /^broken-model\s+classify\s+corrupt: b\.onnx fails verification: sha256 [0-9a-f]{64}, expected [0-9a-f]{64}$/m);
      assert.match(text, /^absent-model\s+classify\s+missing: .*absent-model does not exist$/m);
      assert.match(text, /2 model\(s\) not installed\. Install it with "scenescope models install --from <folder>"/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('usage errors exit with 2 and say what is wrong', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /Usage:/],
      [['dance'], /unknown subcommand "dance"/],
      [['install'], /--from <dir> is required/],
      [['list', '--from', 'x'], /--from does not apply to "list"/],
      [['fetch', '--frobnicate'], /Unknown option '--frobnicate'/],
    ];
    for (const [argv, pattern] of cases) {
      const { io, err } = capture();
      assert.equal(await runModelsCommand(argv, io), 2, argv.join(' '));
      assert.match(err(), pattern);
    }
  });

  test('an unknown id exits with 1 and the known ids', async () => {
    const { io, err } = capture();
    assert.equal(await runModelsCommand(['install', '--from', tmpdir(), 'nope'], io), 1);
    assert.match(err(), /Unknown model id "nope"; known ids: mobilenetv2-int8, yolox-nano/);
    assert.match(err(), /\[MODEL_UNAVAILABLE\]/);
  });
});
