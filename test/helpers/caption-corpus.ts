/**
 * A seeded corpus of burnt-in captions rendered by ffmpeg's drawtext over moving lavfi backgrounds: several
 * fonts (DejaVu sans, serif, mono, condensed, bold, oblique), styles (outline, box, shadow, plain), colours,
 * sizes and places, at 360p to 1080p, encoded with a high CRF so the text carries compression artefacts. A share
 * of the captions is shown for under a second at the very end of its scene. The same seed gives the same corpus.
 * Used by test/ocr-corpus.test.ts (small) and benchmarks/ocr.ts (large, other seeds).
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EnrichFrame } from '../../src/enrich/types.js';
import { characterErrorRate } from '../../src/enrich/text.js';
import { ffmpeg } from './clips.js';
import { seededRandom } from './onnx-writer.js';

const FONT_DIR = '/usr/share/fonts/truetype/dejavu';
const FONTS = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSerif.ttf', 'DejaVuSerif-Bold.ttf', 'DejaVuSansMono.ttf', 'DejaVuSansCondensed-Bold.ttf', 'DejaVuSans-Oblique.ttf'];
const WORDS = (
  'harbour lights tonight storm warning coast road closed market opens city council vote weather update ' +
  'breaking news live from the studio final score match report travel delays north river bridge museum ' +
  'summer festival winter sale special offer new season episode coming soon interview with minister ' +
  'election results local time morning show evening news sports desk traffic alert school holidays ' +
  'mountain village ocean view garden party chapter one the end credits subscribe today limited edition'
).split(' ');
const EXTRAS = ['50% OFF', 'at 9:30', 'Route 66', '2024', 'No. 7', '£25', 'Vol. 3', '18:45', '-20%', 'Part 2'];
const COLOURS = ['white', 'yellow', '0xFFD700', 'white', '0x00FFFF', 'white'];

/** The backgrounds: lavfi sources with no text of their own, some calm, some busy. */
function background(kind: number, width: number, height: number, seconds: number, seed: number): string {
  const size = `${width}x${height}`;
  const sources = [
    `mandelbrot=size=${size}:rate=25:start_scale=${(2 + (seed % 5)).toFixed(1)}`,
    `color=c=0x${(0x203040 + ((seed * 7919) % 0x606060)).toString(16).padStart(6, '0')}:size=${size}:rate=25,noise=alls=25:allf=t`,
    `life=size=${size}:rate=25:mold=10:ratio=0.2:seed=${seed}:death_color=0x402020:life_color=0x80a0c0`,
    `smptehdbars=size=${size}:rate=25`,
    `cellauto=size=${size}:rate=25:rule=${[18, 30, 110][seed % 3]}:seed=${seed}`,
  ];
  return `${sources[kind % sources.length]!},trim=duration=${seconds},setpts=PTS-STARTPTS,format=yuv420p`;
}

/** One scene of the corpus and its caption. */
export interface CorpusScene {
  start: number;
  /** Exclusive. */
  end: number;
  caption: string;
  /** When the caption is on screen (seconds from the start of the clip). */
  shownFrom: number;
  shownTo: number;
  /** The caption is on screen for under a second at the end of the scene. */
  lateShort: boolean;
  style: string;
}

/** One clip of the corpus. */
export interface CorpusClip {
  file: string;
  width: number;
  height: number;
  fps: number;
  scenes: CorpusScene[];
}

function phrase(random: () => number): string {
  const n = 2 + Math.floor(random() * 3);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(WORDS[Math.floor(random() * WORDS.length)]!);
  if (random() < 0.35) words.splice(Math.floor(random() * (words.length + 1)), 0, EXTRAS[Math.floor(random() * EXTRAS.length)]!);
  const casing = random();
  if (casing < 0.3) return words.join(' ').toUpperCase();
  if (casing < 0.7) return words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' ');
  return words.join(' ').replace(/^./, (c) => c.toUpperCase());
}

/** Whether drawtext can run here (the DejaVu fonts are installed). */
export function corpusSkipReason(): string | false {
  return existsSync(path.join(FONT_DIR, 'DejaVuSans.ttf')) ? false : `the DejaVu fonts are absent (${FONT_DIR}); apt-get install fonts-dejavu-core`;
}

/**
 * Render the corpus: one H.264 clip per size, `scenes` scenes of `sceneSeconds` each, one caption a scene,
 * a share `lateShare` of them shown only in the last 0.5-0.9 s of their scene.
 */
export async function makeCaptionCorpus(
  dir: string,
  options: { seed: number; sizes: readonly { width: number; height: number }[]; scenes: number; sceneSeconds?: number; lateShare?: number; crf?: number },
): Promise<CorpusClip[]> {
  const random = seededRandom(options.seed);
  const seconds = options.sceneSeconds ?? 2;
  const lateShare = options.lateShare ?? 0.4;
  const clips: CorpusClip[] = [];
  for (const [c, { width, height }] of options.sizes.entries()) {
    const name = `corpus-${options.seed}-${c}-${height}p`;
    const inputs: string[] = [];
    const draws: string[] = [];
    const scenes: CorpusScene[] = [];
    for (let s = 0; s < options.scenes; s++) {
      const kind = Math.floor(random() * 5);
      inputs.push('-f', 'lavfi', '-i', background(kind, width, height, seconds, Math.floor(random() * 1000)));
      const caption = phrase(random);
      const textFile = path.join(dir, `${name}-${s}.txt`);
      await writeFile(textFile, caption);
      const start = s * seconds;
      const late = random() < lateShare;
      const shownFrom = late ? start + seconds - (0.5 + random() * 0.4) : start + random() * 0.3;
      const shownTo = start + seconds - 0.02;
      // Font size from the frame height, shrunk so that the line fits in 90 % of the width.
      let fontSize = Math.round(height * (0.045 + random() * 0.035));
      fontSize = Math.max(14, Math.min(fontSize, Math.floor((width * 0.9) / (0.62 * caption.length))));
      const font = FONTS[Math.floor(random() * FONTS.length)]!;
      const colour = COLOURS[Math.floor(random() * COLOURS.length)]!;
      const styleRoll = random();
      // Plain text only over the calm noise background; the busy ones get an outline, a box or a shadow.
      const style = kind === 1 && styleRoll < 0.25 ? 'plain' : styleRoll < 0.5 ? 'outline' : styleRoll < 0.8 ? 'box' : 'shadow';
      const styleArgs = {
        plain: '',
        outline: `:borderw=${1 + Math.floor(random() * 3)}:bordercolor=black`,
        box: `:box=1:boxcolor=black@${(0.5 + random() * 0.4).toFixed(2)}:boxborderw=${Math.round(fontSize * 0.3)}`,
        shadow: `:shadowx=2:shadowy=2:shadowcolor=black@0.9:borderw=1:bordercolor=black`,
      }[style];
      const place = random();
      const xy = place < 0.6 ? `x=(w-tw)/2:y=h-th-${Math.round(height * 0.08)}` : place < 0.8 ? `x=${Math.round(width * 0.05)}:y=${Math.round(height * 0.08)}` : `x=(w-tw)/2:y=(h-th)/2`;
      draws.push(
        `drawtext=fontfile=${FONT_DIR}/${font}:textfile=${textFile}:expansion=none:fontsize=${fontSize}:fontcolor=${colour}${styleArgs}:${xy}:enable='between(t,${shownFrom.toFixed(3)},${shownTo.toFixed(3)})'`,
      );
      scenes.push({ start, end: start + seconds, caption, shownFrom, shownTo, lateShort: late, style: `${style} ${font} ${fontSize}px ${colour}` });
    }
    const labels = scenes.map((_, i) => `[${i}:v]`).join('');
    const graph = `${labels}concat=n=${scenes.length}:v=1:a=0,${draws.join(',')}[v]`;
    const file = path.join(dir, `${name}.mp4`);
    await ffmpeg([...inputs, '-filter_complex', graph, '-map', '[v]', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', String(options.crf ?? 28), '-g', '50', '-pix_fmt', 'yuv420p', file]);
    clips.push({ file, width, height, fps: 25, scenes });
  }
  return clips;
}

/** Per-frame facts for a corpus scene (moving backgrounds: every frame a little different, none black). */
export function corpusFrames(scene: CorpusScene, fps = 25): EnrichFrame[] {
  const frames: EnrichFrame[] = [];
  const first = Math.round(scene.start * fps);
  const last = Math.round(scene.end * fps);
  for (let i = first; i < last; i++) frames.push({ time: i / fps, mean_luma: 110, std_luma: 45, sharpness: 12, delta_lum: 3 });
  return frames;
}

/** A caption counts as found when its best-matching line has a character error rate at most this. */
export const FOUND_CER = 0.34;

/** Score readings against the captions: share found, and the character error rate over all captions. */
export function scoreCaptions(items: readonly { caption: string; lines: readonly string[] }[]): { found: number; total: number; cer: number; misses: { caption: string; lines: readonly string[] }[] } {
  let found = 0;
  let errors = 0;
  let length = 0;
  const misses: { caption: string; lines: readonly string[] }[] = [];
  for (const item of items) {
    // The best line, or the lines joined (a caption the detector split in two).
    const candidates = [...item.lines, item.lines.join(' ')];
    const best = Math.min(...candidates.map((l) => characterErrorRate(item.caption, l)));
    const cer = Math.min(1, best);
    if (cer <= FOUND_CER) found++;
    else misses.push(item);
    errors += cer * item.caption.length;
    length += item.caption.length;
  }
  return { found: items.length === 0 ? 1 : found / items.length, total: items.length, cer: length === 0 ? 0 : errors / length, misses };
}
