/**
 * Issue 12, item 1: `models fetch` into a models folder someone else can write to. A mirror on 127.0.0.1 serves
 * small generated files; the tests plant symbolic links and hard links where the fetch writes and check that no
 * byte reaches the victim file, that no link is installed, and that failed downloads leave no `.part`.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { fetchModels } from '../src/models/fetch.js';
import { installModels } from '../src/models/install.js';
import { checkModel, parseManifest, type ModelEntry } from '../src/models/registry.js';

const MODEL = Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 7919) % 251));
const CONFIG = Buffer.from(JSON.stringify({ decoder: { vocab_size: 4 }, encoder: {} }));
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

suite('models fetch never writes through a planted link (mirror on 127.0.0.1)', () => {
  let server: Server;
  let base: string;
  let root: string;
  /** Bodies by path; a Buffer is served as is. */
  const bodies = new Map<string, Buffer>();

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'scenescope-robust-fetch-'));
    server = createServer((req, res) => {
      const body = bodies.get(new URL(req.url ?? '/', 'http://x').pathname);
      if (body === undefined) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-length': String(body.length) }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(root, { recursive: true, force: true });
  });

  function manifest(files: Record<string, unknown>[]): ModelEntry[] {
    return parseManifest({ models: [{ id: 'tiny', task: 'classify', version: '1', license: 'MIT', homepage: 'https://example.invalid', files: files.map((f) => ({ url: `${base}/tiny/${String(f.name)}`, ...f })) }] });
  }
  const pinned = (): ModelEntry[] => manifest([{ name: 'model.onnx', sha256: sha(MODEL), bytes: MODEL.length }]);

  function fresh(name: string): { modelsDir: string; dir: string; victim: string } {
    const modelsDir = join(root, name);
    const dir = join(modelsDir, 'tiny');
    mkdirSync(dir, { recursive: true });
    const victim = join(root, `${name}-victim.txt`);
    writeFileSync(victim, 'precious\n');
    bodies.set('/tiny/model.onnx', MODEL);
    return { modelsDir, dir, victim };
  }

  test('a symlink planted at <file>.part is not followed: the victim keeps its bytes, a regular file is installed', async () => {
    const { modelsDir, dir, victim } = fresh('part-link');
    symlinkSync(victim, join(dir, 'model.onnx.part'));
    const report = await fetchModels({ modelsDir, manifest: pinned() });
    assert.equal(report.ok, true, JSON.stringify(report.files));
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
    assert.equal(lstatSync(join(dir, 'model.onnx')).isSymbolicLink(), false);
    assert.ok(readFileSync(join(dir, 'model.onnx')).equals(MODEL));
    assert.deepEqual(readdirSync(dir), ['model.onnx'], 'the planted link is removed, no .part left');
  });

  test('a symlink planted at a random-looking .part name, and a hard link, are not resumed', async () => {
    const { modelsDir, dir, victim } = fresh('part-random');
    symlinkSync(victim, join(dir, 'model.onnx.0123456789abcdef.part'));
    linkSync(victim, join(dir, 'model.onnx.fedcba9876543210.part'));
    const report = await fetchModels({ modelsDir, manifest: pinned() });
    assert.equal(report.ok, true, JSON.stringify(report.files));
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
    assert.deepEqual(readdirSync(dir), ['model.onnx']);
  });

  test('a symlink at the final name is replaced, not written through', async () => {
    const { modelsDir, dir, victim } = fresh('final-link');
    symlinkSync(victim, join(dir, 'model.onnx'));
    const report = await fetchModels({ modelsDir, manifest: pinned() });
    assert.equal(report.ok, true, JSON.stringify(report.files));
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
    assert.equal(lstatSync(join(dir, 'model.onnx')).isFile(), true);
  });

  test('a model folder that is a symlink is refused', async () => {
    const modelsDir = join(root, 'dir-link');
    mkdirSync(modelsDir);
    const elsewhere = mkdtempSync(join(root, 'elsewhere-'));
    symlinkSync(elsewhere, join(modelsDir, 'tiny'));
    bodies.set('/tiny/model.onnx', MODEL);
    const report = await fetchModels({ modelsDir, manifest: pinned() });
    assert.equal(report.ok, false);
    assert.match(report.files[0]!.reason!, /tiny is a symbolic link; refusing to write model files through it$/);
    assert.deepEqual(readdirSync(elsewhere), []);
    const source = join(root, 'dir-link-source');
    mkdirSync(join(source, 'tiny'), { recursive: true });
    writeFileSync(join(source, 'tiny', 'model.onnx'), MODEL);
    const installed = await installModels({ from: source, modelsDir, manifest: pinned() });
    assert.equal(installed.files[0]!.action, 'failed');
    assert.match(installed.files[0]!.reason!, /is a symbolic link; refusing/);
    assert.deepEqual(readdirSync(elsewhere), [], 'install refuses it too');
  });

  test('an oversize download is stopped and its .part deleted', async () => {
    const { modelsDir, dir } = fresh('oversize');
    bodies.set('/tiny/model.onnx', Buffer.concat([MODEL, Buffer.alloc(10_000)]));
    const report = await fetchModels({ modelsDir, manifest: pinned() });
    assert.equal(report.ok, false);
    assert.match(report.files[0]!.reason!, /^Download of model\.onnx is larger than the 50000 bytes the manifest expects/);
    assert.equal(existsSync(dir), false, 'no .part left, and no empty model folder');
  });

  test('a file without a pinned hash is bounded by maxBytes and must have its JSON shape', async () => {
    const { modelsDir, dir } = fresh('json');
    const entries = manifest([{ name: 'config.json', sha256: '', maxBytes: 4096, json: ['decoder'] }]);
    bodies.set('/tiny/config.json', Buffer.alloc(5000, 0x20));
    let report = await fetchModels({ modelsDir, manifest: entries });
    assert.match(report.files[0]!.reason!, /^Download of config\.json is larger than the 4096 bytes the manifest allows/);
    bodies.set('/tiny/config.json', Buffer.from('{"encoder": {}}'));
    report = await fetchModels({ modelsDir, manifest: entries });
    assert.equal(report.files[0]!.reason, `config.json lacks the key "decoder" (downloaded from ${base}/tiny/config.json); not installed`);
    bodies.set('/tiny/config.json', Buffer.from('<html>login</html>'));
    report = await fetchModels({ modelsDir, manifest: entries });
    assert.match(report.files[0]!.reason!, /^config\.json is not valid JSON/);
    assert.equal(existsSync(dir), false, 'nothing left, not even an empty model folder');
    bodies.set('/tiny/config.json', CONFIG);
    report = await fetchModels({ modelsDir, manifest: entries });
    assert.equal(report.ok, true, JSON.stringify(report.files));
    writeFileSync(join(dir, 'config.json'), '[1, 2]');
    const status = await checkModel(entries[0]!, { modelsDir, verify: true });
    assert.equal(status.state, 'corrupt');
    assert.equal(status.reason, 'config.json is not a JSON object');
  });

  test('the packaged manifest bounds every file that has no pinned hash', async () => {
    const { loadManifest } = await import('../src/models/registry.js');
    for (const entry of loadManifest()) {
      for (const f of entry.files) {
        if (f.sha256 === '') assert.ok(f.bytes !== undefined || f.maxBytes !== undefined, `${entry.id}/${f.name}`);
        if (f.sha256 === '' && f.name.endsWith('.json')) assert.ok(f.json !== undefined, `${entry.id}/${f.name} has a JSON shape`);
      }
    }
    assert.throws(() => manifest([{ name: 'x.bin', sha256: '' }]), /pins neither sha256 nor bytes, so it needs maxBytes/);
    assert.equal(existsSync(root), true);
  });
});
