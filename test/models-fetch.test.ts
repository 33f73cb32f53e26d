/**
 * `models fetch` against a small HTTP server on 127.0.0.1 that serves ../shared/models (the mirror layout
 * <base>/<dir>/<file>), with Range support and knobs for the failures a real download meets: a connection that
 * drops mid-file, a server that ignores Range, a file that is not there (404), bytes that do not match the hash.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize, resolve } from 'node:path';
import { after, before, beforeEach, suite, test } from 'node:test';
import { runModelsCommand } from '../src/cli/models-command.js';
import { AbortError } from '../src/errors.js';
import { fetchModels } from '../src/models/fetch.js';
import { getModelEntry, loadManifest, packageRoot, type ModelEntry } from '../src/models/registry.js';

const SHARED_MODELS = resolve(packageRoot(), '..', 'shared', 'models');
const skip = existsSync(join(SHARED_MODELS, 'yolox-nano', 'yolox_nano.onnx')) ? false : `../shared/models is absent (${SHARED_MODELS})`;

interface Logged {
  path: string;
  range: string | undefined;
  status: number;
  sent: number;
}

/** Server behaviour for the next requests. */
interface Knobs {
  /** Paths whose next response stops after this many body bytes (the connection is destroyed). */
  truncate: Map<string, number>;
  /** Answer 200 with the whole file even when a Range is asked for. */
  ignoreRange: boolean;
  /** Paths whose next response sends this many bytes and then goes silent, connection open. */
  stall: Map<string, number>;
}

function serve(root: string, knobs: Knobs, log: Logged[]): Promise<Server> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(root, path));
    const entry: Logged = { path, range: req.headers.range, status: 0, sent: 0 };
    log.push(entry);
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      entry.status = 404;
      res.writeHead(404, 'Not Found', { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const size = statSync(file).size;
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range !== null && !knobs.ignoreRange) {
      start = Number(range[1]);
      if (start >= size) {
        entry.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      entry.status = 206;
      res.writeHead(206, { 'content-length': String(size - start), 'content-range': `bytes ${start}-${size - 1}/${size}`, 'accept-ranges': 'bytes' });
    } else {
      entry.status = 200;
      res.writeHead(200, { 'content-length': String(size), 'accept-ranges': 'bytes' });
    }
    const stallAt = knobs.stall.get(path);
    if (stallAt !== undefined) {
      knobs.stall.delete(path);
      createReadStream(file, { start, end: start + stallAt - 1 })
        .on('data', (chunk) => (entry.sent += chunk.length))
        .pipe(res, { end: false });
      return;
    }
    const cut = knobs.truncate.get(path);
    if (cut !== undefined) {
      // Send exactly `cut` bytes, wait until they are handed to the kernel, then close the connection early.
      knobs.truncate.delete(path);
      const part = readFileSync(file).subarray(start, start + cut);
      entry.sent = part.length;
      res.write(part, () => res.socket?.end());
      return;
    }
    const stream = createReadStream(file, { start });
    stream.on('data', (chunk) => (entry.sent += chunk.length));
    stream.pipe(res);
  });
  return new Promise((resolvePromise) => server.listen(0, '127.0.0.1', () => resolvePromise(server)));
}

const sha256File = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

suite('models fetch: HTTP mirror on 127.0.0.1 serving ../shared/models', { skip }, () => {
  let server: Server;
  let base: string;
  let root: string;
  const knobs: Knobs = { truncate: new Map(), ignoreRange: false, stall: new Map() };
  const log: Logged[] = [];
  const yoloxSize = skip === false ? statSync(join(SHARED_MODELS, 'yolox-nano', 'yolox_nano.onnx')).size : 0;

  before(async () => {
    server = await serve(SHARED_MODELS, knobs, log);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    root = mkdtempSync(join(tmpdir(), 'scenescope-fetch-'));
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(root, { recursive: true, force: true });
  });
  beforeEach(() => {
    log.length = 0;
    knobs.truncate.clear();
    knobs.stall.clear();
    knobs.ignoreRange = false;
  });

  /** The packaged entries, with addresses pointing at the test server (a manifest override): every file downloadable. */
  function localManifest(): ModelEntry[] {
    return loadManifest().map((entry) => ({
      ...entry,
      files: entry.files.map(({ derived: _derived, ...f }) => ({ ...f, url: `${base}/${entry.dir ?? entry.id}/${f.name}` })),
    }));
  }

  test('downloads from the manifest addresses, verifies against the packaged hashes, installs', async () => {
    const modelsDir = join(root, 'plain');
    const report = await fetchModels({ modelsDir, ids: ['yolox-nano', 'ppocr-v3-det'], manifest: localManifest() });
    assert.equal(report.ok, true, JSON.stringify(report.files));
    assert.deepEqual(report.models.map((m) => [m.id, m.state]), [['yolox-nano', 'installed'], ['ppocr-v3-det', 'installed']]);
    assert.deepEqual(report.files.map((f) => [f.file, f.action]), [['yolox_nano.onnx', 'installed'], ['coco_labels.txt', 'installed'], ['ch_PP-OCRv3_det_infer.onnx', 'installed']], 'optional files are not fetched by default');
    assert.equal(sha256File(join(modelsDir, 'yolox-nano', 'yolox_nano.onnx')), getModelEntry('yolox-nano').files[0]!.sha256);
    assert.deepEqual(readdirSync(join(modelsDir, 'yolox-nano')).sort(), ['coco_labels.txt', 'yolox_nano.onnx'], 'no .part left');
    log.length = 0;
    const again = await fetchModels({ modelsDir, ids: ['yolox-nano'], manifest: localManifest() });
    assert.deepEqual(again.files.map((f) => f.action), ['present', 'present']);
    assert.equal(log.length, 0, 'nothing downloaded twice');
  });

  test('a dropped connection is resumed with a Range request within one fetch', async () => {
    const modelsDir = join(root, 'resume-inline');
    knobs.truncate.set('/yolox-nano/yolox_nano.onnx', 1_000_000);
    const report = await fetchModels({ modelsDir, ids: ['yolox-nano'], baseUrl: base });
    assert.equal(report.ok, true, JSON.stringify(report.files));
    const requests = log.filter((l) => l.path === '/yolox-nano/yolox_nano.onnx');
    assert.deepEqual(requests.map((r) => r.status), [200, 206]);
    assert.equal(requests[0]!.range, undefined);
    // The client keeps what reached it before the drop (fetch may lose a last buffered chunk to the error).
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(requests[1]!.range ?? '')?.[1]);
    assert.ok(resumedAt > 0 && resumedAt <= 1_000_000, `resumed at ${resumedAt}`);
    assert.equal(requests[1]!.sent, yoloxSize - resumedAt, 'only the rest is downloaded again');
    assert.equal(sha256File(join(modelsDir, 'yolox-nano', 'yolox_nano.onnx')), getModelEntry('yolox-nano').files[0]!.sha256);
  });

  test('a download interrupted in one run resumes from its .part file in the next', async () => {
    const modelsDir = join(root, 'resume-later');
    knobs.truncate.set('/yolox-nano/yolox_nano.onnx', 700_000);
    const first = await fetchModels({ modelsDir, ids: ['yolox-nano'], baseUrl: base, attempts: 1 });
    assert.equal(first.ok, false);
    const failed = first.files.find((f) => f.file === 'yolox_nano.onnx')!;
    assert.equal(failed.action, 'failed');
    assert.match(failed.reason!, /^Download of yolox_nano\.onnx failed after 1 attempts: .*; run fetch again to resume \(.*yolox_nano\.onnx\.[0-9a-f]{16}\.part\)$/);
    const partName = readdirSync(join(modelsDir, 'yolox-nano')).find((n) => /^yolox_nano\.onnx\.[0-9a-f]{16}\.part$/.test(n));
    assert.ok(partName !== undefined, 'a .part with a random name is kept');
    const kept = statSync(join(modelsDir, 'yolox-nano', partName)).size;
    assert.ok(kept > 0 && kept <= 700_000, `.part holds ${kept} bytes`);
    assert.equal(existsSync(join(modelsDir, 'yolox-nano', 'yolox_nano.onnx')), false, 'nothing under the final name');
    const second = await fetchModels({ modelsDir, ids: ['yolox-nano'], baseUrl: base });
    assert.equal(second.ok, true);
    assert.equal(log.filter((l) => l.path === '/yolox-nano/yolox_nano.onnx').at(-1)!.range, `bytes=${kept}-`);
    assert.equal(second.models[0]!.state, 'installed');
  });

  test('a stalled connection is abandoned after stallTimeoutMs and resumed', async () => {
    const modelsDir = join(root, 'stall');
    knobs.stall.set('/yolox-nano/yolox_nano.onnx', 300_000);
    const report = await fetchModels({ modelsDir, ids: ['yolox-nano'], baseUrl: base, stallTimeoutMs: 300 });
    assert.equal(report.ok, true, JSON.stringify(report.files));
    const ranges = log.filter((l) => l.path === '/yolox-nano/yolox_nano.onnx').map((r) => r.range);
    assert.equal(ranges.length, 2);
    assert.equal(ranges[0], undefined);
    assert.match(ranges[1] ?? '', /^bytes=[1-9]\d*-$/);
  });

  test('a server that ignores Range makes the download start over, still verified', async () => {
    const modelsDir = join(root, 'no-range');
    knobs.truncate.set('/yolox-nano/yolox_nano.onnx', 500_000);
    knobs.ignoreRange = true;
    const report = await fetchModels({ modelsDir, ids: ['yolox-nano'], baseUrl: base });
    assert.equal(report.ok, true);
    const requests = log.filter((l) => l.path === '/yolox-nano/yolox_nano.onnx');
    assert.deepEqual(requests.map((r) => r.status), [200, 200]);
    assert.match(requests[1]!.range ?? '', /^bytes=\d+-$/, 'the resume was asked for');
    assert.equal(requests[1]!.sent, yoloxSize, 'and the whole file came again');
    assert.equal(statSync(join(modelsDir, 'yolox-nano', 'yolox_nano.onnx')).size, yoloxSize);
  });

  test('bytes that do not match the sha256 are rejected and not installed', async () => {
    const modelsDir = join(root, 'bad-hash');
    const manifest = localManifest().map((e) => (e.id !== 'yolox-nano' ? e : { ...e, files: e.files.map((f) => (f.name === 'coco_labels.txt' ? { ...f, sha256: 'f'.repeat(64) } : f)) }));
    const report = await fetchModels({ modelsDir, ids: ['yolox-nano'], manifest });
    assert.equal(report.ok, false);
    const bad = report.files.find((f) => f.file === 'coco_labels.txt')!;
    assert.equal(bad.action, 'failed');
    assert.equal(bad.reason, `coco_labels.txt fails verification: sha256 ${getModelEntry('yolox-nano').files[1]!.sha256}, expected ${'f'.repeat(64)} (downloaded from ${base}/yolox-nano/coco_labels.txt); not installed`);
    assert.deepEqual(readdirSync(join(modelsDir, 'yolox-nano')), ['yolox_nano.onnx'], 'no coco_labels.txt and no .part');
    assert.equal(report.models[0]!.state, 'partial');
  });

  test('a missing file (404) is a clear error and nothing is retried', async () => {
    const modelsDir = join(root, 'missing');
    const manifest = localManifest().map((e) => (e.id !== 'ppocr-en-rec' ? e : { ...e, files: e.files.map((f) => (f.name === 'en_dict.txt' ? { ...f, url: `${base}/ppocr-en-rec/no-such-file.txt` } : f)) }));
    const report = await fetchModels({ modelsDir, ids: ['ppocr-en-rec'], manifest });
    assert.equal(report.ok, false);
    const missing = report.files.find((f) => f.file === 'en_dict.txt')!;
    assert.equal(missing.reason, `Download of en_dict.txt failed: HTTP 404 Not Found from ${base}/ppocr-en-rec/no-such-file.txt`);
    assert.equal(log.filter((l) => l.path === '/ppocr-en-rec/no-such-file.txt').length, 1);
  });

  test('a fetch whose every file fails leaves no empty model folder behind', async () => {
    const modelsDir = join(root, 'all-missing');
    const manifest = localManifest().map((e) => (e.id !== 'yolox-nano' ? e : { ...e, files: e.files.map((f) => ({ ...f, url: `${base}/yolox-nano/gone-${f.name}` })) }));
    const report = await fetchModels({ modelsDir, ids: ['yolox-nano'], manifest });
    assert.equal(report.ok, false);
    assert.ok(report.files.every((f) => f.action === 'failed'));
    assert.equal(existsSync(join(modelsDir, 'yolox-nano')), false, 'no empty yolox-nano folder');
  });

  test('derived files have no official download: reported, and fetched only from a mirror', async () => {
    const modelsDir = join(root, 'derived');
    const manifest = loadManifest().map((e) => ({ ...e, files: e.files.map((f) => ({ ...f, url: f.derived === undefined ? `${base}/${e.dir ?? e.id}/${f.name}` : `${base}/never-asked` })) }));
    const report = await fetchModels({ modelsDir, ids: ['mobilenetv2-int8'], manifest });
    const derived = report.files.find((f) => f.file === 'mobilenetv2-12-int8-with-embedding.onnx')!;
    assert.equal(derived.action, 'not-found');
    assert.match(derived.reason!, /has no official download: Derived file/);
    assert.equal(log.filter((l) => l.path === '/never-asked').length, 0);
    const mirrored = await fetchModels({ modelsDir, ids: ['mobilenetv2-int8'], baseUrl: base });
    assert.equal(mirrored.ok, true);
  });

  test('the CLI fetches from SCENESCOPE_MODELS_BASE_URL into SCENESCOPE_MODELS_DIR', async () => {
    const modelsDir = join(root, 'cli');
    let out = '';
    let err = '';
    const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env: { SCENESCOPE_MODELS_DIR: modelsDir, SCENESCOPE_MODELS_BASE_URL: base } };
    assert.equal(await runModelsCommand(['fetch', 'ppocr-v3-cls'], io), 0, err);
    assert.match(out, /ppocr-v3-cls\s+ch_ppocr_mobile_v2\.0_cls_infer\.onnx\s+downloaded \(559\.1 KiB\)/);
    assert.match(err, /download ppocr-v3-cls\/ch_ppocr_mobile_v2\.0_cls_infer\.onnx: 559\.1 KiB \/ 559\.1 KiB/);
    const manifestFile = join(root, 'missing-manifest.json');
    writeFileSync(manifestFile, JSON.stringify({ models: localManifest().filter((e) => e.id === 'ppocr-en-rec').map((e) => ({ ...e, files: [{ ...e.files[0]!, url: `${base}/gone.onnx` }] })) }));
    out = '';
    assert.equal(await runModelsCommand(['fetch', '--manifest', manifestFile, '--models', join(root, 'cli2'), '--base-url', ''], { ...io, env: {} }), 1);
    assert.match(out, /FAILED: Download of en_number_mobile_v2\.0_rec_infer\.onnx failed: HTTP 404 Not Found/);
  });

  test('an aborted fetch stops with AbortError and keeps the .part for later', async () => {
    const modelsDir = join(root, 'abort');
    const controller = new AbortController();
    const report = fetchModels({
      modelsDir,
      ids: ['yolox-nano'],
      baseUrl: base,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done > 200_000) controller.abort();
      },
    });
    await assert.rejects(report, AbortError);
    assert.equal(existsSync(join(modelsDir, 'yolox-nano', 'yolox_nano.onnx')), false);
    assert.ok(readdirSync(join(modelsDir, 'yolox-nano')).some((n) => /^yolox_nano\.onnx\.[0-9a-f]{16}\.part$/.test(n)));
  });
});
