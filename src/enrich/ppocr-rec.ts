/**
 * Text-line recognition with PP-OCRv4's recogniser (SVTR-LCNet, CTC head) on onnxruntime-node.
 *
 * Pre-processing (PaddleOCR's `resize_norm_img`): the line crop keeps its aspect ratio and is resized to
 * {@link REC_HEIGHT} = 48 px high, width ceil(48 * w / h) capped at {@link REC_MAX_WIDTH}; channels go in BGR order
 * (PaddleOCR reads images with OpenCV) as (v / 255 - 0.5) / 0.5, and the rest of the input width is zero padding
 * (mid-grey after normalisation) up to {@link REC_MIN_WIDTH}. Each line is run alone at its own width (see
 * {@link recognizeLines}).
 *
 * Post-processing (CTCLabelDecode, greedy): the arg-max class of every time step, repeats collapsed, blanks
 * (class 0) dropped; class i maps to dictionary line i - 1, the last class to a space. The line confidence is
 * the mean of the kept characters' probabilities, as in PaddleOCR, and each character's probability is kept.
 * The dictionary is PaddleOCR's Chinese one (6623 characters, Latin included). Unless Chinese is asked for, the
 * arg-max runs over the blank, the space and the characters that normalise (NFKC) to Latin script, digits and
 * punctuation, so a "0" is never read as a CJK look-alike; full-width forms become their ASCII twins.
 */
import type { OnnxSession } from './onnx.js';
import { resizeRgb, toPlanar } from './runtime.js';
import type { RgbImage } from './types.js';

/** Input height of the recogniser. */
export const REC_HEIGHT = 48;
/**
 * Smallest input width: shorter lines are padded to it (12 CTC steps, enough for a short word). PaddleOCR pads
 * to 320; on the caption corpus and the real clips' text 96 read as well, at a third of the cost for a word.
 */
export const REC_MIN_WIDTH = 96;
/** Widest line fed at once (longer lines are squeezed to it). */
export const REC_MAX_WIDTH = 1600;

/** One recognised line. */
export interface RecResult {
  text: string;
  /** Mean probability of the kept characters, 0..1 (0 for an empty reading). */
  confidence: number;
  /** Probability of each character of `text`. */
  charProbs: number[];
}

/** The decoding table: a string per class (class 0, the blank, is ''), and which classes may be emitted. */
export interface CtcTable {
  chars: string[];
  allowed: Uint8Array;
  /** The allowed classes in ascending order (the arg-max runs over these only: ~200 of 6625 for Latin). */
  allowedList?: Int32Array;
}

const LATIN = /^[\p{Script=Latin}\p{N}\p{P}\p{S} ]+$/u;

/**
 * Build the CTC table from the dictionary. `latinOnly` restricts the emitted classes to Latin-script letters,
 * digits, punctuation and symbols (after NFKC, which maps full-width forms to ASCII).
 */
export function ctcTable(dictionary: readonly string[], latinOnly = true): CtcTable {
  const chars = ['', ...dictionary.map((c) => c.normalize('NFKC')), ' '];
  const allowed = new Uint8Array(chars.length);
  for (let i = 1; i < chars.length; i++) {
    const c = chars[i]!;
    allowed[i] = c.length > 0 && (!latinOnly || LATIN.test(c)) ? 1 : 0;
  }
  allowed[0] = 1;
  return { chars, allowed, allowedList: allowedClasses(allowed) };
}

function allowedClasses(allowed: Uint8Array): Int32Array {
  const list: number[] = [];
  for (let i = 0; i < allowed.length; i++) if (allowed[i] === 1) list.push(i);
  return Int32Array.from(list);
}

/**
 * Greedy CTC decode of one line's probabilities (`steps` x `classes`, row-major, starting at `offset`).
 * Exported for tests on synthetic outputs.
 */
export function ctcDecode(probs: Float32Array, steps: number, classes: number, table: CtcTable, offset = 0): RecResult {
  // Pass 1: the arg-max class of each step, and the characters with the blank run before each.
  const emitted: { ch: string; p: number; gapBefore: number; spaceBefore: number }[] = [];
  const space = classes - 1;
  const list = table.allowedList ?? allowedClasses(table.allowed);
  let previous = -1;
  let blanks = 0;
  let spaceP = 0;
  for (let t = 0; t < steps; t++) {
    const base = offset + t * classes;
    let best = 0;
    let bestP = -1;
    for (let k = 0; k < list.length; k++) {
      const c = list[k]!;
      if (c >= classes) break;
      const p = probs[base + c]!;
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    if (best === 0) {
      blanks++;
      spaceP = Math.max(spaceP, probs[base + space]!);
    } else {
      if (best !== previous) emitted.push({ ch: table.chars[best] ?? '', p: bestP, gapBefore: emitted.length === 0 ? 0 : blanks, spaceBefore: spaceP });
      blanks = 0;
      spaceP = 0;
    }
    previous = best;
  }
  // Pass 2: spaces the model left out (see wordGaps), then the text with a probability per character.
  const spaces = wordGaps(emitted);
  let text = '';
  const charProbs: number[] = [];
  for (let i = 0; i < emitted.length; i++) {
    const e = emitted[i]!;
    if (spaces[i] === 1) {
      text += ' ';
      charProbs.push(e.p);
    }
    text += e.ch;
    for (let k = 0; k < e.ch.length; k++) charProbs.push(e.p);
  }
  // Leading and trailing spaces carry no information; their probabilities go with them.
  const start = text.length - text.trimStart().length;
  const trimmed = text.trim();
  const kept = charProbs.slice(start, start + trimmed.length);
  const confidence = kept.length === 0 ? 0 : kept.reduce((s, p) => s + p, 0) / kept.length;
  return { text: trimmed, confidence, charProbs: kept };
}

/**
 * Where a space is missing between two emitted characters (1 = insert one before character i). PP-OCRv4's
 * Chinese-trained recogniser often drops the spaces of Latin text ("SALE50%OFF") although, in the blank steps
 * where one was, the space class comes second. A space goes in when, over the blank run before a character,
 * the space class reached {@link SPACE_SURE} or reached {@link SPACE_LIKELY} with a run longer than the line's
 * median run between letters; or when the run is very long (at least max(median + 3, 2.5 x median)). Letter-
 * spaced capitals ("C H E R N O B Y L") have long runs everywhere, which the median absorbs. Calibrated on
 * rendered captions and the real clips' text (see benchmarks/ocr.ts). Exported for tests.
 */
export function wordGaps(emitted: readonly { ch: string; gapBefore: number; spaceBefore: number }[]): Uint8Array {
  const out = new Uint8Array(emitted.length);
  const gaps: number[] = [];
  for (let i = 1; i < emitted.length; i++) {
    if (emitted[i]!.ch !== ' ' && emitted[i - 1]!.ch !== ' ') gaps.push(emitted[i]!.gapBefore);
  }
  gaps.sort((a, b) => a - b);
  // Too few letters to know the line's spacing: only the model's own evidence counts.
  const median = gaps.length < 3 ? Infinity : gaps[gaps.length >> 1]!;
  for (let i = 1; i < emitted.length; i++) {
    const ch = emitted[i]!.ch;
    const before = emitted[i - 1]!.ch;
    if (ch === ' ' || before === ' ') continue;
    const gap = emitted[i]!.gapBefore;
    const p = emitted[i]!.spaceBefore;
    if (p >= SPACE_SURE || (p >= SPACE_LIKELY && gap >= median + 1) || gap >= Math.max(median + 3, 2.5 * median)) out[i] = 1;
  }
  return out;
}

/** Space-class probability in a blank run that makes a space on its own. */
export const SPACE_SURE = 0.3;
/** Space-class probability in a longer-than-usual blank run that makes a space. */
export const SPACE_LIKELY = 0.08;

/** The resized width of a crop at the recogniser's height. */
export function recWidth(width: number, height: number): number {
  return Math.max(8, Math.min(REC_MAX_WIDTH, Math.ceil((REC_HEIGHT * width) / Math.max(1, height))));
}

/**
 * Recognise line crops (RGB, any size) with the PP-OCRv4 recogniser, one forward pass a line at its own width;
 * results in input order. Measured on this machine (onnxruntime-node 1.30, one thread): a pass costs ~0.09 ms
 * of CPU per input column and nothing is gained by batching (4 lines of 640 in one pass: 286 ms, one by one:
 * 240 ms), while a batch pads every line to its widest and short lines to {@link REC_MIN_WIDTH} (on the
 * subtitled real clip 43 % of the columns fed were padding).
 * @throws the session's error (ModelError MODEL_FAILED from the ONNX worker).
 */
export async function recognizeLines(session: OnnxSession, crops: readonly RgbImage[], table: CtcTable): Promise<RecResult[]> {
  const results: RecResult[] = [];
  for (const crop of crops) {
    const w = recWidth(crop.width, crop.height);
    const width = Math.max(REC_MIN_WIDTH, Math.ceil(w / 4) * 4);
    const input = new Float32Array(3 * REC_HEIGHT * width);
    const resized = await resizeRgb(crop, w, REC_HEIGHT, 'linear');
    toPlanar(resized, { scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], bgr: true }, input, width, REC_HEIGHT);
    const outputs = await session.run({ [session.inputNames[0]!]: { data: input, dims: [1, 3, REC_HEIGHT, width] } });
    const out = outputs[session.outputNames[0]!]!;
    const [, steps, classes] = out.dims as [number, number, number];
    results.push(ctcDecode(out.data, steps, classes, table));
  }
  return results;
}
