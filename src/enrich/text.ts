/**
 * Text utilities for OCR: edit distance, character error rate, junk filtering and the merge of lines read in
 * several frames of a scene into one reading-ordered list.
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
