/**
 * Concurrent analyses in one process share one feature pool and one enricher (one set of model sessions), and
 * a process-wide limit queues the calls beyond it instead of letting them thrash.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, suite, test } from 'node:test';
import { analyzeFile, type AnalysisResult } from '../src/api/analyze.js';
import { detectScenes } from '../src/api/detect.js';
import { analysisConcurrency, defaultAnalysisConcurrency, setAnalysisConcurrency } from '../src/api/limit.js';
import { enricherStats } from '../src/api/shared-enricher.js';
import { featurePoolStats } from '../src/features/pool-registry.js';
import { makeClip, tempDir } from './helpers/clips.js';
import { until } from './library-helpers.js';

const dir = tempDir();
const empty = path.join(dir, 'no-models');
mkdirSync(empty);

/** What must not depend on running alone or with others. */
function comparable(result: AnalysisResult): unknown {
  return {
    boundaries: result.boundaries,
    scenes: result.scenes.map(({ created_at: _c, thumbnail_path: _p, ...rest }) => rest),
  };
}

suite('one pool, one set of model sessions, a concurrency limit', () => {
  after(() => setAnalysisConcurrency(defaultAnalysisConcurrency()));

  test('the default limit follows the cores and bad limits are refused', () => {
    assert.ok(defaultAnalysisConcurrency() >= 1);
    assert.throws(() => setAnalysisConcurrency(0), { code: 'INVALID_OPTION' });
    assert.throws(() => setAnalysisConcurrency(1.5), { code: 'INVALID_OPTION' });
  });

  test('N concurrent analyzeFile calls give what sequential calls give, with one pool and one enricher', async () => {
    const clips: string[] = [];
    for (let i = 0; i < 4; i++) {
      const file = path.join(dir, `clip${i}.mp4`);
      await makeClip(file, [{ kind: i, seconds: 1.2 }, { kind: i + 1, seconds: 1.2 }], { size: '160x90' });
      clips.push(file);
    }
    const options = (i: number, tag: string): Parameters<typeof analyzeFile>[1] => ({ modelsDir: empty, ocr: false, caption: false, thumbnailsDir: path.join(dir, `thumbs-${tag}-${i}`) });
    const sequential: AnalysisResult[] = [];
    for (let i = 0; i < clips.length; i++) sequential.push(await analyzeFile(clips[i]!, options(i, 'seq')));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(featurePoolStats().alive, 0, 'an idle process holds no pool');
    assert.deepEqual(enricherStats().alive, 0, 'an idle process holds no enricher');

    setAnalysisConcurrency(4);
    const pools = featurePoolStats().created;
    const enrichers = enricherStats().created;
    let maxPools = 0;
    let maxEnrichers = 0;
    const sample = (): void => {
      maxPools = Math.max(maxPools, featurePoolStats().alive);
      maxEnrichers = Math.max(maxEnrichers, enricherStats().alive);
    };
    const concurrent = await Promise.all(clips.map((clip, i) => analyzeFile(clip, { ...options(i, 'par'), onProgress: sample })));
    concurrent.forEach((r, i) => assert.deepEqual(comparable(r), comparable(sequential[i]!), `clip ${i}`));
    assert.equal(featurePoolStats().created - pools, 1, 'one feature pool for the four calls');
    assert.ok(maxPools <= 1 && maxEnrichers <= 1, `never more than one pool (${maxPools}) or enricher (${maxEnrichers}) alive`);
    assert.ok(enricherStats().created - enrichers < clips.length, 'the calls shared an enricher');
    await until(() => featurePoolStats().alive === 0, 5000, 'the shared pool to close when idle');
    await until(() => enricherStats().alive === 0, 5000, 'the shared enricher to close when idle');
  });

  test('calls beyond the limit wait their turn, and a waiting call can be aborted', async () => {
    const file = path.join(dir, 'limit.mp4');
    await makeClip(file, [{ kind: 0, seconds: 1 }, { kind: 1, seconds: 1 }], { size: '160x90' });
    setAnalysisConcurrency(1);
    let maxActive = 0;
    let maxWaiting = 0;
    const sample = (): void => {
      const c = analysisConcurrency();
      maxActive = Math.max(maxActive, c.active);
      maxWaiting = Math.max(maxWaiting, c.waiting);
    };
    const controller = new AbortController();
    const runs = [detectScenes(file, { onProgress: sample }), detectScenes(file, { onProgress: sample }), detectScenes(file, { signal: controller.signal })];
    sample();
    controller.abort();
    await assert.rejects(runs[2]!, { code: 'ABORTED' });
    const [a, b] = await Promise.all(runs.slice(0, 2));
    assert.deepEqual(a!.boundaries, b!.boundaries);
    assert.equal(maxActive, 1, 'one detection at a time');
    assert.ok(maxWaiting >= 1, 'the others waited');
    assert.deepEqual(analysisConcurrency(), { limit: 1, active: 0, waiting: 0 });
  });
});
