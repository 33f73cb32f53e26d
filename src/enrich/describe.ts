/**
 * The composed description and tags of a scene: one plain English sentence built only from what was measured
 * or what a model reported with enough confidence. Pure: detections in, text out.
 *
 * The rule that matters: a model's noun goes into the sentence only when its score clears a threshold
 * calibrated on real frames (see docs/enrich.md, "How the thresholds were chosen"); everything below goes to
 * `tag_scores` with its score and never into the sentence. A wrong noun stated as fact is worse than no noun:
 * people search and filter on these words.
 *
 * Wording.
 * - People (YOLOX "person" boxes at score >= {@link STATE_OBJECT}) lead the sentence with their count and the
 *   shot size read from the largest box: "A close-up of one person", "A medium shot of two people", "A wide
 *   shot of at least three people" (counts from three, and every count in a wide shot, are lower bounds:
 *   small and overlapping people are missed).
 * - Other COCO objects at >= {@link SURE_OBJECT} are stated with their counts ("with a dog"); between
 *   {@link STATE_OBJECT} and that they read "with what looks like a dog". Lower scores are not mentioned.
 * - ImageNet labels (MobileNetV2) are fine-grained and often wrong on video frames, so they are stated only
 *   at probability >= {@link STATE_LABEL}, and always hedged: "showing what looks like a tabby cat".
 * - Measured facts: "dark"/"bright" (mean luma), the dominant colours ("mostly green and blue"), motion
 *   ("with steady motion (camera or subject)" or "with no motion"), and the visible text.
 * - When object and label models ran and reported nothing at all, the sentence says "with no objects
 *   recognised"; when they were not available, it says nothing about objects.
 * - An image captioner's sentence, when there is one, is the description; tags still come from the detectors.
 *
 * Tags: stated nouns, then unstated nouns at >= {@link TAG_OBJECT} / {@link TAG_LABEL}, the shot size, the
 * colours, "dark"/"bright", "steady motion"/"still", and "text" when text was read; lower-case, deduplicated.
 * `tag_scores` lists every tag with its score (1 for measured facts) and where it came from, plus the weaker
 * candidates down to the detector's threshold (objects) and {@link CANDIDATE_LABEL} (labels).
 */
import type { Label } from './labels.js';
import type { ObjectCount, PeopleFacts } from './objects.js';
import type { ColourName } from './visual.js';

/** COCO object score from which an object is named in the sentence ("what looks like a dog"). */
export const STATE_OBJECT = 0.65;
/** COCO object score from which an object is named without hedging ("a dog"). */
export const SURE_OBJECT = 0.75;
/** ImageNet probability from which a label is named in the sentence (always "what looks like"). */
export const STATE_LABEL = 0.95;
/** COCO score from which an unstated object still goes into `tags`. */
export const TAG_OBJECT = 0.5;
/** ImageNet probability from which an unstated label still goes into `tags`. */
export const TAG_LABEL = 0.6;
/** ImageNet probability from which a label is listed in `tag_scores` (and nowhere else). */
export const CANDIDATE_LABEL = 0.1;

/** Where a tag came from. */
export type TagSource = 'objects' | 'labels' | 'visual' | 'motion' | 'text';

/** One tag with its score: the model's score, or 1 for a measured fact. */
export interface TagScore {
  tag: string;
  /** 0..1, rounded to three decimals. */
  score: number;
  source: TagSource;
}

/** What the composer knows about a scene. */
export interface DescribeInput {
  /** COCO objects (person included), or null when the detector was not available (or failed). */
  objects: readonly ObjectCount[] | null;
  /** People counted from the person boxes at >= {@link STATE_OBJECT}; null when none or no detector. */
  people?: PeopleFacts | null;
  /** ImageNet labels at >= {@link CANDIDATE_LABEL}, or null when the classifier was not available (or failed). */
  labels: readonly Label[] | null;
  brightness: 'dark' | 'bright' | null;
  colours: readonly ColourName[];
  /** "steady": a pan, zoom or continuous movement; "still": nothing moved; null: neither. */
  motion: 'steady' | 'still' | null;
  /** Visible text (lines joined by "\n") or null. */
  text: string | null;
  /** An image captioner's sentence, or null. */
  caption?: string | null;
}

const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'];
const IRREGULAR: Record<string, string> = { person: 'people', mouse: 'mice', sheep: 'sheep', knife: 'knives', skis: 'skis', scissors: 'scissors', tv: 'TVs' };
const PAIRS = new Set(['skis', 'scissors']);
const SHOT_WORDS: Record<PeopleFacts['shot'], string> = { 'close-up': 'close-up', medium: 'medium shot', wide: 'wide shot' };

/** The plural of a COCO class name. */
export function plural(noun: string): string {
  const words = noun.split(' ');
  const last = words[words.length - 1]!;
  let p: string;
  if (IRREGULAR[noun] !== undefined) return IRREGULAR[noun];
  if (IRREGULAR[last] !== undefined) p = IRREGULAR[last];
  else if (/(s|x|z|ch|sh)$/.test(last)) p = last + 'es';
  else if (/[^aeiou]y$/.test(last)) p = last.slice(0, -1) + 'ies';
  else p = last + 's';
  return [...words.slice(0, -1), p].join(' ');
}

/** "a" or "an" before a noun phrase, or nothing for plural-looking nouns ("jeans", "sunglasses"). */
export function withArticle(noun: string): string {
  if (/[^su]s$/i.test(noun) && !/(is|ss|us)$/i.test(noun)) return noun;
  if (/^(uni|eu|one|use)/i.test(noun)) return `a ${noun}`;
  return /^[aeiou]/i.test(noun) || /^hour/i.test(noun) ? `an ${noun}` : `a ${noun}`;
}

/** "two people", "a dog", "a pair of scissors", "13 cars". */
export function counted(label: string, count: number): string {
  const display = label === 'tv' ? 'TV' : label;
  if (count <= 1) return PAIRS.has(label) ? `a pair of ${label}` : withArticle(display);
  const number = count < NUMBER_WORDS.length ? NUMBER_WORDS[count]! : String(count);
  return `${number} ${PAIRS.has(label) ? `pairs of ${label}` : plural(label)}`;
}

/**
 * "one person", "two people", "at least three people". From three, and in a wide shot for any count, the count
 * is a lower bound: YOLOX-Nano misses people who are small (a football pitch: 3 of ~20 found) or half hidden
 * behind others (a starship bridge: 3 of 6).
 */
export function peopleCount(count: number, shot: PeopleFacts['shot'] = 'medium'): string {
  const number = count < NUMBER_WORDS.length ? NUMBER_WORDS[count]! : String(count);
  if (shot === 'wide' || count >= 3) return `at least ${number} ${count === 1 ? 'person' : 'people'}`;
  return count <= 1 ? 'one person' : 'two people';
}

/** "a, b and c". */
export function listPhrase(items: readonly string[], conjunction = 'and'): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} ${conjunction} ${items[items.length - 1]}`;
}

function quoteText(text: string, max = 120): string {
  let joined = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .join(' / ')
    .replace(/"/g, "'");
  if (joined.length > max) joined = joined.slice(0, max - 3).replace(/\s+\S*$/, '') + '...';
  return `"${joined}"`;
}

const hasText = (text: string | null): text is string => text !== null && text.trim() !== '';

/** The objects named in the sentence (person excluded: people have their own phrase), best first. */
function statedObjects(input: DescribeInput): ObjectCount[] {
  return (input.objects ?? []).filter((o) => o.label !== 'person' && o.score >= STATE_OBJECT);
}

/** The labels named in the sentence. */
function statedLabels(input: DescribeInput): Label[] {
  return (input.labels ?? []).filter((l) => l.probability >= STATE_LABEL);
}

/** The description sentence (see the module header for the rules). */
export function describeScene(input: DescribeInput): string {
  if (input.caption !== undefined && input.caption !== null && input.caption.trim() !== '') {
    const c = input.caption.trim();
    const sentence = c.charAt(0).toUpperCase() + c.slice(1);
    return /[.!?]$/.test(sentence) ? sentence : sentence + '.';
  }
  const people = input.people ?? null;
  const objects = statedObjects(input);
  const sure = objects.filter((o) => o.score >= SURE_OBJECT).map((o) => counted(o.label, o.count));
  const likely = objects.filter((o) => o.score < SURE_OBJECT).map((o) => `what looks like ${counted(o.label, o.count)}`);
  const labels = statedLabels(input).map((l) => withArticle(l.label));
  const light = input.brightness === null ? '' : ` ${input.brightness}`;

  let sentence = people === null ? `A${light} scene` : `A${light} ${SHOT_WORDS[people.shot]} of ${peopleCount(people.count, people.shot)}`;
  const things = [...sure, ...likely];
  if (things.length > 0) sentence += ` with ${listPhrase(things)}`;
  if (labels.length > 0) sentence += `${people !== null || things.length > 0 ? ',' : ''} showing what looks like ${listPhrase(labels, 'or')}`;
  const modelsRan = input.objects !== null || input.labels !== null;
  const nothing = (input.objects ?? []).length === 0 && (input.labels ?? []).length === 0;
  if (modelsRan && nothing && people === null) sentence += ' with no objects recognised';
  if (input.colours.length > 0) sentence += `, mostly ${listPhrase([...input.colours])}`;
  if (input.motion === 'steady') sentence += ', with steady motion (camera or subject)';
  else if (input.motion === 'still') sentence += ', with no motion';
  if (hasText(input.text)) sentence += `, with on-screen text ${quoteText(input.text)}`;
  return sentence + '.';
}

const round3 = (v: number): number => Math.round(Math.min(1, Math.max(0, v)) * 1000) / 1000;

/**
 * Every tag with its score and source, best evidence first within each group (see the module header). The
 * first entry of a tag wins when two sources give the same word.
 */
export function sceneTagScores(input: DescribeInput): TagScore[] {
  const out: TagScore[] = [];
  const people = input.people ?? null;
  for (const o of input.objects ?? []) out.push({ tag: o.label, score: round3(o.score), source: 'objects' });
  for (const l of input.labels ?? []) if (l.probability >= CANDIDATE_LABEL) out.push({ tag: l.label, score: round3(l.probability), source: 'labels' });
  if (people !== null) out.push({ tag: people.shot, score: 1, source: 'visual' });
  for (const c of input.colours) out.push({ tag: c, score: 1, source: 'visual' });
  if (input.brightness !== null) out.push({ tag: input.brightness, score: 1, source: 'visual' });
  if (input.motion !== null) out.push({ tag: input.motion === 'steady' ? 'steady motion' : 'still', score: 1, source: 'motion' });
  if (hasText(input.text)) out.push({ tag: 'text', score: 1, source: 'text' });
  const seen = new Set<string>();
  const unique: TagScore[] = [];
  for (const t of out) {
    const tag = t.tag.toLowerCase().trim();
    if (tag.length === 0 || seen.has(tag)) continue;
    seen.add(tag);
    unique.push({ ...t, tag });
  }
  return unique;
}

/** Tags of a scene: the tag scores that clear the tag thresholds (see the module header). */
export function sceneTags(input: DescribeInput): string[] {
  return sceneTagScores(input)
    .filter((t) => (t.source === 'objects' ? t.score >= TAG_OBJECT : t.source === 'labels' ? t.score >= TAG_LABEL : true))
    .map((t) => t.tag);
}

/**
 * The model confidences behind what the composed sentence states (for the scene's confidence score): the
 * people, the stated objects and labels. With a caption they are still the detectors' (a captioner gives no
 * comparable confidence; see docs/confidence.md).
 */
export function statedEvidence(input: DescribeInput): number[] {
  const evidence: number[] = [];
  if (input.people !== undefined && input.people !== null) evidence.push(input.people.score);
  for (const o of statedObjects(input)) evidence.push(o.score);
  for (const l of statedLabels(input)) evidence.push(l.probability);
  return evidence;
}
