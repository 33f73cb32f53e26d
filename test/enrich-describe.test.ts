/**
 * The description composer's wording rules on synthetic model outputs: which score puts a noun in the
 * sentence and with which words, that a low-probability noun never reaches the sentence, people count and
 * shot size from boxes, motion, tags and tag scores. No model, no ffmpeg.
 */
import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import {
  CANDIDATE_LABEL,
  counted,
  describeScene,
  peopleCount,
  sceneTags,
  sceneTagScores,
  STATE_LABEL,
  STATE_OBJECT,
  statedEvidence,
  SURE_OBJECT,
  TAG_LABEL,
  TAG_OBJECT,
  withArticle,
  type DescribeInput,
} from '../src/enrich/describe.js';
import { degradedFeatures, degradedNotice } from '../src/enrich/degraded.js';
import { CLOSE_UP_SHARE, FIGURE_ASPECT, peopleFacts, WIDE_SHARE, type Detection, type PeopleFacts } from '../src/enrich/objects.js';
import type { EnrichFrame } from '../src/enrich/types.js';
import { motionKind } from '../src/enrich/visual.js';

const base: DescribeInput = { objects: [], labels: [], brightness: null, colours: [], motion: null, text: null };
const obj = (label: string, score: number, count = 1): { label: string; count: number; score: number; frames: number } => ({ label, count, score, frames: 1 });
const person = (x0: number, y0: number, x1: number, y1: number, score = 0.9): Detection => ({ label: 'person', classId: 0, score, x0, y0, x1, y1 });
const twoMedium: PeopleFacts = { count: 2, score: 0.9, largest: 0.12, shot: 'medium' };

function frames(count: number, delta: (i: number) => number): EnrichFrame[] {
  return Array.from({ length: count }, (_, i) => ({ time: i / 25, mean_luma: 120, std_luma: 40, sharpness: 10, delta_lum: delta(i) }));
}

suite('enrich: descriptions a person can trust', () => {
  test('counts and articles', () => {
    assert.equal(counted('person', 2), 'two people');
    assert.equal(counted('dog', 1), 'a dog');
    assert.equal(counted('umbrella', 1), 'an umbrella');
    assert.equal(counted('bus', 3), 'three buses');
    assert.equal(counted('knife', 2), 'two knives');
    assert.equal(counted('scissors', 1), 'a pair of scissors');
    assert.equal(counted('car', 14), '14 cars');
    assert.equal(counted('wine glass', 2), 'two wine glasses');
    assert.equal(withArticle('Egyptian cat'), 'an Egyptian cat');
    assert.equal(withArticle('jeans'), 'jeans');
    assert.deepEqual([1, 2, 3, 4, 15].map((n) => peopleCount(n)), ['one person', 'two people', 'at least three people', 'at least four people', 'at least 15 people']);
    assert.deepEqual([1, 3].map((n) => peopleCount(n, 'wide')), ['at least one person', 'at least three people'], 'wide shots miss small people');
  });

  test('the thresholds are ordered: candidates < tags < stated < sure', () => {
    assert.ok(CANDIDATE_LABEL < TAG_LABEL && TAG_LABEL < STATE_LABEL && STATE_LABEL < 1);
    assert.ok(TAG_OBJECT < STATE_OBJECT && STATE_OBJECT < SURE_OBJECT && SURE_OBJECT < 1);
  });

  test('an object at or above SURE_OBJECT is stated plainly, between STATE_OBJECT and it hedged, below it not at all', () => {
    assert.equal(describeScene({ ...base, objects: [obj('dog', SURE_OBJECT)] }), 'A scene with a dog.');
    assert.equal(describeScene({ ...base, objects: [obj('dog', STATE_OBJECT)] }), 'A scene with what looks like a dog.');
    const low = describeScene({ ...base, objects: [obj('dog', STATE_OBJECT - 0.001)] });
    assert.equal(low, 'A scene.');
    assert.doesNotMatch(low, /dog/);
  });

  test('an ImageNet label is stated only at STATE_LABEL and above, and always as "what looks like"', () => {
    assert.equal(describeScene({ ...base, labels: [{ label: 'tabby cat', probability: 0.99 }] }), 'A scene showing what looks like a tabby cat.');
    assert.equal(describeScene({ ...base, labels: [{ label: 'tabby cat', probability: STATE_LABEL }] }), 'A scene showing what looks like a tabby cat.');
    for (const p of [STATE_LABEL - 0.001, TAG_LABEL, CANDIDATE_LABEL]) {
      assert.doesNotMatch(describeScene({ ...base, labels: [{ label: 'Alpine ibex', probability: p }] }), /ibex|possibly|showing/, `p=${p}`);
    }
  });

  test('the issue\'s examples: weak nouns stay out of the sentence and go to tag_scores', () => {
    const input: DescribeInput = {
      ...base,
      objects: [obj('person', 0.88, 2), obj('dining table', 0.45)],
      people: twoMedium,
      labels: [{ label: 'Band-Aid', probability: 0.25 }, { label: 'drumstick', probability: 0.12 }],
      colours: ['brown'],
    };
    const d = describeScene(input);
    assert.equal(d, 'A medium shot of two people, mostly brown.');
    for (const noun of ['table', 'Band-Aid', 'drumstick', 'possibly']) assert.ok(!d.includes(noun), `${noun} in "${d}"`);
    assert.deepEqual(sceneTags(input), ['person', 'medium', 'brown']);
    assert.deepEqual(sceneTagScores(input), [
      { tag: 'person', score: 0.88, source: 'objects' },
      { tag: 'dining table', score: 0.45, source: 'objects' },
      { tag: 'band-aid', score: 0.25, source: 'labels' },
      { tag: 'drumstick', score: 0.12, source: 'labels' },
      { tag: 'medium', score: 1, source: 'visual' },
      { tag: 'brown', score: 1, source: 'visual' },
    ]);
  });

  test('people lead the sentence with their count and shot size; other objects follow', () => {
    const input: DescribeInput = {
      ...base,
      objects: [obj('person', 0.9, 3), obj('dog', 0.8), obj('car', 0.65, 2)],
      people: { count: 3, score: 0.9, largest: 0.02, shot: 'wide' },
      labels: [{ label: 'golden retriever', probability: 0.97 }],
      brightness: 'bright',
      colours: ['green', 'blue'],
      motion: 'steady',
      text: 'Breaking news\nStorm at 5 PM',
    };
    assert.equal(
      describeScene(input),
      'A bright wide shot of at least three people with a dog and what looks like two cars, showing what looks like a golden retriever, mostly green and blue, with steady motion (camera or subject), with on-screen text "Breaking news / Storm at 5 PM".',
    );
    assert.equal(describeScene({ ...base, people: { count: 1, score: 0.7, largest: 0.5, shot: 'close-up' }, motion: 'still' }), 'A close-up of one person, with no motion.');
  });

  test('people facts: count in the busiest frame, weak boxes ignored, shot size from the largest box', () => {
    const W = 640;
    const H = 360;
    const closeUp = peopleFacts([[person(100, 0, 500, 360)]], W, H, STATE_OBJECT)!;
    assert.equal(closeUp.shot, 'close-up');
    assert.ok(closeUp.largest >= CLOSE_UP_SHARE);
    // A whole standing figure filling a portrait frame is a medium shot, however large.
    const figure = peopleFacts([[person(60, 20, 300, 700)]], 360, 720, STATE_OBJECT)!;
    assert.ok(figure.largest >= CLOSE_UP_SHARE && (700 - 20) / (300 - 60) >= FIGURE_ASPECT);
    assert.equal(figure.shot, 'medium');
    const wide = peopleFacts([[person(10, 10, 30, 60), person(100, 10, 120, 60)], [person(10, 10, 30, 60), person(200, 10, 220, 60), person(300, 10, 320, 60, 0.5)]], W, H, STATE_OBJECT)!;
    assert.equal(wide.count, 2, 'the weak third box is not counted');
    assert.equal(wide.shot, 'wide');
    assert.ok(wide.largest < WIDE_SHARE);
    assert.equal(peopleFacts([[person(0, 0, 320, 200)]], W, H, STATE_OBJECT)!.shot, 'medium');
    assert.equal(peopleFacts([[person(-50, -50, 900, 900)]], W, H, STATE_OBJECT)!.largest, 1, 'boxes are clipped to the frame');
    assert.equal(peopleFacts([[person(0, 0, 100, 100, STATE_OBJECT - 0.01)]], W, H, STATE_OBJECT), null);
    assert.equal(peopleFacts([[{ ...person(0, 0, 100, 100), label: 'dog' }]], W, H, STATE_OBJECT), null);
  });

  test('nothing found: no invention, and models that did not run are not mentioned', () => {
    assert.equal(describeScene({ ...base, colours: ['grey'] }), 'A scene with no objects recognised, mostly grey.');
    assert.equal(describeScene({ ...base, objects: null, labels: null, brightness: 'dark', colours: ['black'] }), 'A dark scene, mostly black.');
    assert.doesNotMatch(describeScene({ ...base, objects: null, labels: null }), /object|person|showing/);
    assert.equal(describeScene({ ...base, objects: [obj('dog', 0.41)] }), 'A scene.', 'a weak candidate is not "no objects" either');
  });

  test('a caption replaces the sentence; tags still come from the detectors', () => {
    const input: DescribeInput = { ...base, objects: [obj('dog', 0.9)], caption: 'a dog running on the grass' };
    assert.equal(describeScene(input), 'A dog running on the grass.');
    assert.deepEqual(sceneTags(input), ['dog']);
    assert.deepEqual(statedEvidence(input), [0.9], 'the score still reflects the detectors');
  });

  test('tags are lower-case and deduplicated; tag scores keep the weak ones', () => {
    const input: DescribeInput = {
      ...base,
      objects: [obj('cat', 0.9), obj('bench', TAG_OBJECT - 0.01)],
      labels: [
        { label: 'Egyptian Mau', probability: 0.6 },
        { label: 'tabby cat', probability: TAG_LABEL },
        { label: 'window screen', probability: TAG_LABEL - 0.01 },
      ],
      colours: ['brown', 'brown'],
      brightness: 'dark',
      motion: 'still',
      text: 'Hello',
    };
    assert.deepEqual(sceneTags(input), ['cat', 'egyptian mau', 'tabby cat', 'brown', 'dark', 'still', 'text']);
    const scores = sceneTagScores(input);
    assert.deepEqual(scores.find((t) => t.tag === 'window screen'), { tag: 'window screen', score: Math.round((TAG_LABEL - 0.01) * 1000) / 1000, source: 'labels' });
    assert.deepEqual(scores.find((t) => t.tag === 'bench'), { tag: 'bench', score: TAG_OBJECT - 0.01, source: 'objects' });
    assert.equal(new Set(scores.map((t) => t.tag)).size, scores.length);
  });

  test('the confidence evidence is what the sentence states, not the weak candidates', () => {
    const input: DescribeInput = { ...base, objects: [obj('person', 0.9), obj('dog', 0.7), obj('cat', 0.45)], people: { ...twoMedium, score: 0.9 }, labels: [{ label: 'x', probability: 0.3 }] };
    assert.deepEqual(statedEvidence(input), [0.9, 0.7]);
  });

  test('motion: steady for continuous change, still when nothing moved, else nothing', () => {
    assert.equal(motionKind(frames(30, () => 4)), 'steady');
    assert.equal(motionKind(frames(30, () => 0.2)), 'still');
    assert.equal(motionKind(frames(30, (i) => (i === 15 ? 20 : 0.2))), null, 'one jump (someone enters) is not still');
    assert.equal(motionKind(frames(30, (i) => (i % 2 === 0 ? 0.2 : 1.5))), null);
    assert.equal(motionKind(frames(5, () => 0.1)), null, 'too short to tell');
  });

  test('missing models become degraded features with the command that installs them, printed once', () => {
    const degraded = degradedFeatures(
      [
        { id: 'mobilenetv2-int8', task: 'classify+embed', version: 'v', status: 'loaded' },
        { id: 'yolox-nano', task: 'detect-objects', version: 'v', status: 'missing', reason: 'model yolox-nano is missing' },
        { id: 'ppocr-v3-det', task: 'detect-text', version: 'v', status: 'disabled', reason: 'OCR is off' },
        { id: 'vit-gpt2-image-captioning', task: 'caption', version: 'v', status: 'missing', reason: 'not installed' },
      ],
      '/m',
    );
    assert.deepEqual(
      degraded.map((d) => [d.model, d.optional]),
      [
        ['yolox-nano', false],
        ['vit-gpt2-image-captioning', true],
      ],
    );
    assert.match(degraded[0]!.feature, /objects and people/);
    assert.equal(degraded[0]!.install, 'scenescope models install --from <folder holding yolox-nano/> yolox-nano --models "/m"', 'coco_labels.txt has no download of its own, so fetch is not offered');
    const notice = degradedNotice(degraded);
    assert.equal(notice.filter((l) => l.startsWith('scenescope:')).length, 1);
    assert.ok(notice.some((l) => l.includes('(optional)')));
    assert.deepEqual(degradedNotice(degraded.filter((d) => d.optional)), [], 'a missing captioner alone prints nothing');
  });
});
