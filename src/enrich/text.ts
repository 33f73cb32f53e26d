/**
 * Text utilities for OCR: edit distance, character error rate, junk filtering, the merge of lines read in
 * several frames of a scene into one reading-ordered list with the time each line was first and last seen, and
 * the marking of lines that stay on screen across scenes (logos, tickers) as persistent.
 */

/** Levenshtein distance between two strings (insertions, deletions, substitutions; by UTF-16 unit). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  const row = new Uint32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) row[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (ca === b.charCodeAt(j - 1) ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** Edit distance divided by the longer length: 0 for equal strings, 1 for nothing in common. */
export function normalisedDistance(a: string, b: string): number {
  const n = Math.max(a.length, b.length);
  return n === 0 ? 0 : editDistance(a, b) / n;
}

/** Collapse runs of whitespace and trim. */
export function collapseSpaces(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Character error rate of `hypothesis` against `reference`: edit distance / reference length, after collapsing
 * whitespace in both (line breaks count as one space). 0 is perfect; it can exceed 1 for long garbage.
 */
export function characterErrorRate(reference: string, hypothesis: string): number {
  const ref = collapseSpaces(reference);
  const hyp = collapseSpaces(hypothesis);
  if (ref.length === 0) return hyp.length === 0 ? 0 : 1;
  return editDistance(ref, hyp) / ref.length;
}

/** Minimum confidence (0..100) of a recognised line that is kept. */
export const MIN_LINE_CONFIDENCE = 60;

/**
 * Clean one recognised line: collapse whitespace, drop stray symbols at the ends (OCR reads box edges as `|`,
 * `_` or quotes). Returns the empty string for nothing left.
 */
export function cleanLine(text: string): string {
  return collapseSpaces(text)
    .replace(/^[\s|_~`'"‘’“”.,:;!\-—=+*^°<>\\/[\](){}]+(?=[A-Za-z0-9])/u, '')
    .replace(/(?<=[A-Za-z0-9.!?%)"'])[\s|_~`‘’“”=+*^°<>\\/[\]{}]+$/u, '')
    .trim();
}

/**
 * Junk: fewer than two letters or digits, mostly symbols (under 60 % letters, digits and spaces), or a confidence
 * under {@link MIN_LINE_CONFIDENCE}.
 */
export function isJunkLine(text: string, confidence: number): boolean {
  if (confidence < MIN_LINE_CONFIDENCE) return true;
  const alnum = (text.match(/[\p{L}\p{N}]/gu) ?? []).length;
  if (alnum < 2) return true;
  const good = (text.match(/[\p{L}\p{N}\s]/gu) ?? []).length;
  if (good / text.length < 0.6) return true;
  // A "word" salad of one-letter tokens is what OCR reads in textures ("l i I l").
  const tokens = text.split(' ');
  if (tokens.length >= 3 && tokens.filter((t) => t.length === 1).length / tokens.length > 0.6) return true;
  return false;
}

/** One line read in one frame, with its place in that frame (fractions of the frame size). */
export interface ReadLine {
  text: string;
  /** 0..100 */
  confidence: number;
  /** Top edge / frame height. */
  top: number;
  /** Left edge / frame width. */
  left: number;
  /** Line height / frame height. */
  height: number;
}

/** A merged line: the best reading of one line seen in one or more frames. */
export interface MergedLine extends ReadLine {
  /** Frames the line was seen in. */
  seen: number;
}

/** Two readings whose normalised distance is at most this are the same line. */
export const SAME_LINE_DISTANCE = 0.35;

/**
 * Merge lines read in several frames of one scene. A line is the same as one already kept when their normalised
 * edit distance (case-insensitive) is at most {@link SAME_LINE_DISTANCE}; the reading with the higher confidence
 * wins (ties: the longer). The result is in reading order: top to bottom, and left to right for lines whose
 * vertical extents overlap by half a line.
 */
export function mergeLines(lines: readonly ReadLine[]): MergedLine[] {
  const kept: MergedLine[] = [];
  for (const line of lines) {
    const key = line.text.toLowerCase();
    const same = kept.find((k) => normalisedDistance(k.text.toLowerCase(), key) <= SAME_LINE_DISTANCE);
    if (same === undefined) {
      kept.push({ ...line, seen: 1 });
      continue;
    }
    same.seen++;
    if (line.confidence > same.confidence || (line.confidence === same.confidence && line.text.length > same.text.length)) {
      same.text = line.text;
      same.confidence = line.confidence;
      same.top = line.top;
      same.left = line.left;
      same.height = line.height;
    }
  }
  return kept.sort((a, b) => {
    const overlap = Math.min(a.top + a.height, b.top + b.height) - Math.max(a.top, b.top);
    if (overlap > 0.5 * Math.min(a.height, b.height)) return a.left - b.left;
    return a.top - b.top;
  });
}

/** The engine that read a line. */
export type TextEngine = 'ppocr' | 'tesseract';

/** One line read in one sample of a scene, with its time and place. */
export interface TimedReading {
  text: string;
  /** 0..1 */
  confidence: number;
  engine: TextEngine;
  /** Sample time (seconds). */
  time: number;
  /** Top edge / frame height. */
  top: number;
  /** Left edge / frame width. */
  left: number;
  /** Line height / frame height. */
  height: number;
  /** Line width / frame width. */
  width: number;
}

/** A line of a scene: the best reading of one line seen in one or more samples. */
export interface TimedLine {
  text: string;
  /** Confidence of the reading kept, 0..1. */
  confidence: number;
  engine: TextEngine;
  /** Times (seconds) of the first and last sample the line was read in. */
  first_seen: number;
  last_seen: number;
  /** Samples the line was read in. */
  seen: number;
  /** On screen across several scenes at the same place (a logo, a ticker); see {@link TextHistory}. */
  persistent: boolean;
  top: number;
  left: number;
  height: number;
  width: number;
}

/** Case- and space-insensitive key for comparing readings. */
function lineKey(text: string): string {
  return text.toLowerCase().replace(/\s+/g, '');
}

/** Whether two readings are the same line: normalised distance of their keys <= {@link SAME_LINE_DISTANCE}. */
export function sameLine(a: string, b: string): boolean {
  return normalisedDistance(lineKey(a), lineKey(b)) <= SAME_LINE_DISTANCE;
}

/**
 * Merge the lines read in the samples of one scene. Readings that are the same line (see {@link sameLine}) are
 * one line, seen from the earliest to the latest of their times; the text kept is that of the most confident
 * reading (ties: the longer). Reading order as in {@link mergeLines}.
 */
export function mergeTimedLines(readings: readonly TimedReading[]): TimedLine[] {
  const kept: TimedLine[] = [];
  for (const r of readings) {
    const same = kept.find((k) => sameLine(k.text, r.text));
    if (same === undefined) {
      kept.push({ text: r.text, confidence: r.confidence, engine: r.engine, first_seen: r.time, last_seen: r.time, seen: 1, persistent: false, top: r.top, left: r.left, height: r.height, width: r.width });
      continue;
    }
    same.seen++;
    same.first_seen = Math.min(same.first_seen, r.time);
    same.last_seen = Math.max(same.last_seen, r.time);
    if (r.confidence > same.confidence || (r.confidence === same.confidence && r.text.length > same.text.length)) {
      Object.assign(same, { text: r.text, confidence: r.confidence, engine: r.engine, top: r.top, left: r.left, height: r.height, width: r.width });
    }
  }
  return kept.sort((a, b) => {
    const overlap = Math.min(a.top + a.height, b.top + b.height) - Math.max(a.top, b.top);
    if (overlap > 0.5 * Math.min(a.height, b.height)) return a.left - b.left;
    return a.top - b.top;
  });
}

/** A line on screen in at least this many scenes of a video, at the same place, is persistent... */
export const PERSISTENT_SCENES = 3;
/** ...and over at least this many seconds from its first to its last sighting (a subtitle over quick cuts is not). */
export const PERSISTENT_SECONDS = 5;

/** Two placements are the same place when their centres are within this fraction of the frame. */
const SAME_PLACE = 0.05;

function samePlace(a: Pick<TimedLine, 'top' | 'left' | 'height' | 'width'>, b: Pick<TimedLine, 'top' | 'left' | 'height' | 'width'>): boolean {
  return Math.abs(a.top + a.height / 2 - (b.top + b.height / 2)) <= SAME_PLACE && Math.abs(a.left + a.width / 2 - (b.left + b.width / 2)) <= SAME_PLACE;
}

/**
 * The lines seen so far in the scenes of one video, to mark the ones that stay on screen (a channel logo, a
 * ticker, a watermark): a line is persistent when the same line (see {@link sameLine}) at the same place was
 * read in at least {@link PERSISTENT_SCENES} distinct scenes, this one included, over at least
 * {@link PERSISTENT_SECONDS} seconds (a subtitle that runs over two quick cuts is not a logo). Scenes are enriched about in
 * order: the lines of the first scenes a logo appears in are marked when it reaches the count (their objects
 * are mutated), but text already derived from them (visible_text) keeps its order.
 */
export class TextHistory {
  private readonly entries: { line: TimedLine; scenes: Set<number>; members: { persistent: boolean }[]; first: number; last: number }[] = [];

  /**
   * Record the lines of a scene and set `persistent` on those seen in enough scenes (mutates `lines`). When a
   * line becomes persistent, the same line of the earlier scenes, and every copy adopted with {@link adopt}, is
   * marked too.
   */
  observe(scene: number, lines: TimedLine[]): void {
    for (const line of lines) {
      let entry = this.entries.find((e) => samePlace(e.line, line) && sameLine(e.line.text, line.text));
      if (entry === undefined) {
        entry = { line: { ...line }, scenes: new Set(), members: [], first: line.first_seen, last: line.last_seen };
        this.entries.push(entry);
      }
      entry.scenes.add(scene);
      entry.members.push(line);
      entry.first = Math.min(entry.first, line.first_seen);
      entry.last = Math.max(entry.last, line.last_seen);
      if (entry.scenes.size >= PERSISTENT_SCENES && entry.last - entry.first >= PERSISTENT_SECONDS) for (const m of entry.members) m.persistent = true;
    }
  }

  /** Link a copy of an observed line (an output object) so that it is marked when the line becomes persistent. */
  adopt(line: TimedLine, copy: { persistent: boolean }): void {
    const entry = this.entries.find((e) => e.members.includes(line));
    if (entry === undefined) return;
    entry.members.push(copy);
    copy.persistent = line.persistent;
  }
}

/**
 * Mark persistent lines over all the scenes of a video at once (mutates the lines), so the first scenes of a
 * logo are marked too. `scenes[i]` is the text lines of scene i.
 */
export function markPersistent(scenes: readonly (TimedLine[] | null | undefined)[]): void {
  const history = new TextHistory();
  scenes.forEach((lines, i) => history.observe(i, lines ?? []));
}

/**
 * The scene's visible text: its own lines first in reading order, persistent lines (logos, tickers) after them,
 * joined by "\n"; null when there are none.
 */
export function visibleText(lines: readonly TimedLine[]): string | null {
  if (lines.length === 0) return null;
  const own = lines.filter((l) => !l.persistent);
  const persistent = lines.filter((l) => l.persistent);
  return [...own, ...persistent].map((l) => l.text).join('\n');
}
