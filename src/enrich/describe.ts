/**
 * The composed description and tags of a scene: one plain English sentence built only from what was measured
 * or what a model reported. Pure: detections in, text out.
 *
 * Wording rules.
 * - Objects (YOLOX, COCO) at score >= {@link SURE_OBJECT} are stated with their counts ("two people and a dog");
 *   those between the detection threshold (0.4) and that are "possibly".
 * - ImageNet labels (MobileNetV2) at probability >= {@link SURE_LABEL} read "what looks like a tabby cat";
 *   those between {@link WEAK_LABEL} and that read "possibly a tabby cat". Lower ones are not mentioned.
 * - Visual facts: "dark"/"bright" scene, the dominant colours ("mostly green and blue"), steady motion.
 * - Visible text: `with on-screen text "..."` (lines joined by " / ", long text shortened with "...").
 * - When object and label models ran and found nothing, the sentence says "no objects recognised"; when they
 *   were not available, it says nothing about objects at all.
 * - An image captioner's sentence, when there is one, is the description; tags still come from the detectors.
 *
 * Tags: COCO names and ImageNet labels (all that are mentioned, lower-case), the dominant colours, "dark" or
 * "bright", and "text" when text was read; deduplicated, in that order.
 */
import type { Label } from './labels.js';
import type { ObjectCount } from './objects.js';
import type { ColourName } from './visual.js';

/** Object score from which an object is stated without "possibly". */
export const SURE_OBJECT = 0.6;
/** Label probability from which a label is stated without "possibly". */
export const SURE_LABEL = 0.5;
/** Label probability below which a label is not mentioned. */
export const WEAK_LABEL = 0.2;

/** What the composer knows about a scene. */
export interface DescribeInput {
  /** COCO objects, or null when the detector was not available (or failed). */
  objects: readonly ObjectCount[] | null;
  /** ImageNet labels above {@link WEAK_LABEL}, or null when the classifier was not available (or failed). */
  labels: readonly Label[] | null;
  brightness: 'dark' | 'bright' | null;
  colours: readonly ColourName[];
  motion: boolean;
  /** Visible text (lines joined by "\n") or null. */
  text: string | null;
  /** An image captioner's sentence, or null. */
  caption?: string | null;
}

const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'];
const IRREGULAR: Record<string, string> = { person: 'people', mouse: 'mice', sheep: 'sheep', knife: 'knives', skis: 'skis', scissors: 'scissors', tv: 'TVs' };
const PAIRS = new Set(['skis', 'scissors']);

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

/** The description sentence (see the module header for the rules). */
export function describeScene(input: DescribeInput): string {
  if (input.caption !== undefined && input.caption !== null && input.caption.trim() !== '') {
    const c = input.caption.trim();
    const sentence = c.charAt(0).toUpperCase() + c.slice(1);
    return /[.!?]$/.test(sentence) ? sentence : sentence + '.';
  }
  const objects = input.objects ?? [];
  const labels = input.labels ?? [];
  const sureObjects = objects.filter((o) => o.score >= SURE_OBJECT).map((o) => counted(o.label, o.count));
  const weakObjects = objects.filter((o) => o.score < SURE_OBJECT).map((o) => counted(o.label, o.count));
  const sureLabels = labels.filter((l) => l.probability >= SURE_LABEL).map((l) => withArticle(l.label));
  const weakLabels = labels.filter((l) => l.probability < SURE_LABEL && l.probability >= WEAK_LABEL).map((l) => withArticle(l.label));

  let sentence = 'A' + (input.brightness === null ? '' : ` ${input.brightness}`) + ' scene';
  if (sureObjects.length > 0) sentence += ` with ${listPhrase(sureObjects)}`;
  if (weakObjects.length > 0) sentence += sureObjects.length > 0 ? `, possibly also ${listPhrase(weakObjects)}` : ` with possibly ${listPhrase(weakObjects, 'or')}`;
  if (sureLabels.length > 0) sentence += `${sureObjects.length + weakObjects.length > 0 ? ',' : ''} showing what looks like ${listPhrase(sureLabels, 'or')}`;
  if (weakLabels.length > 0) sentence += sureLabels.length > 0 ? ` (or possibly ${listPhrase(weakLabels, 'or')})` : `${sureObjects.length + weakObjects.length > 0 ? ',' : ''} possibly showing ${listPhrase(weakLabels, 'or')}`;
  const modelsRan = input.objects !== null || input.labels !== null;
  if (modelsRan && objects.length === 0 && labels.length === 0) sentence += ' with no objects recognised';
  if (input.colours.length > 0) sentence += `, mostly ${listPhrase([...input.colours])}`;
  if (input.motion) sentence += ', with steady motion (camera or subject)';
  if (input.text !== null && input.text.trim() !== '') sentence += `, with on-screen text ${quoteText(input.text)}`;
  return sentence + '.';
}

/** Tags of a scene (see the module header). */
export function sceneTags(input: DescribeInput): string[] {
  const tags: string[] = [];
  for (const o of input.objects ?? []) tags.push(o.label);
  for (const l of input.labels ?? []) if (l.probability >= WEAK_LABEL) tags.push(l.label);
  tags.push(...input.colours);
  if (input.brightness !== null) tags.push(input.brightness);
  if (input.text !== null && input.text.trim() !== '') tags.push('text');
  return [...new Set(tags.map((t) => t.toLowerCase().trim()).filter((t) => t.length > 0))];
}
