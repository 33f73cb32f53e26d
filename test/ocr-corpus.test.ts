/**
 * Caption corpus, small: seeded drawtext captions (fonts, styles, colours, 360p and 720p, CRF 28, some shown for
 * under a second at the end of their scene) read through the enricher as the product runs it, with no models
 * folder. The same check on a larger corpus and other seeds is in benchmarks/ocr.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite, test } from 'node:test';
import { createEnricher } from '../src/enrich/index.js';
import { corpusFrames, corpusSkipReason, makeCaptionCorpus, scoreCaptions } from './helpers/caption-corpus.js';
import { tempDir } from './helpers/clips.js';

suite('ocr: caption corpus', { skip: corpusSkipReason() }, () => {
  test('>= 95 % of captions found with character error rate <= 0.1, late short captions included', async (t) => {
    const dir = tempDir('scenescope-corpus-');
    const clips = await makeCaptionCorpus(dir, { seed: 424242, sizes: [{ width: 640, height: 360 }, { width: 1280, height: 720 }], scenes: 5, lateShare: 0.5 });
    const enricher = await createEnricher({ modelsDir: mkdtempSync(path.join(tmpdir(), 'scenescope-nomodels-')), caption: false, embedding: false });
    const items: { caption: string; lines: string[] }[] = [];
    let late = 0;
    try {
      for (const clip of clips) {
        for (const [i, scene] of clip.scenes.entries()) {
          const frames = corpusFrames(scene, clip.fps);
          const r = await enricher.enrichScene({
            videoPath: clip.file,
            scene: { scene_index: i, start_frame: Math.round(scene.start * clip.fps), end_frame: Math.round(scene.end * clip.fps), start_time: scene.start, end_time: scene.end },
            frames,
            boundaryConfidence: 1,
          });
          assert.deepEqual(r.failures, []);
          const lines = (r.text_lines ?? []).map((l) => l.text);
          items.push({ caption: scene.caption, lines });
          if (scene.lateShort) late++;
          t.diagnostic(`${scene.lateShort ? 'late ' : ''}${scene.style}: ${JSON.stringify(scene.caption)} -> ${JSON.stringify(lines)}`);
        }
      }
    } finally {
      await enricher.close();
    }
    const score = scoreCaptions(items);
    t.diagnostic(`found ${(score.found * 100).toFixed(1)} %, CER ${(score.cer * 100).toFixed(2)} % over ${score.total} captions (${late} late and short)`);
    assert.ok(late >= 2, 'the corpus holds captions shown under a second at the end of a scene');
    assert.ok(score.found >= 0.95, JSON.stringify(score.misses));
    assert.ok(score.cer <= 0.1, `CER ${score.cer}`);
  });
});
