/**
 * The realistic corpus generator (corpus v2, issue 8): clips built like broadcast edits rather than slide
 * shows, with exact ground truth by construction.
 *
 * What a clip holds, and why (each item is a class of miss seen on real footage):
 * - **Moving sources.** A shot is either a stretch of real footage cut out of ../shared/media/real (between two
 *   certain hard cuts of its truth.json, never across a transition; a negative clip counts as one shot, minus
 *   its uncertain spans), with its own motion, noise and compression, or, without real footage, a photo seen
 *   through a moving camera (pan or zoom at a visible speed, with grain). A slow digital pan/zoom is laid over
 *   real footage too, so both sides of every gradual transition move, and every shot keeps playing through
 *   the transitions it takes part in.
 * - **Wipe families** drawn as motion graphics: tile/mosaic reveals, iris (circle), clock sweep, push, slide,
 *   diagonal and soft-edged linear wipes.
 * - **Long dissolves** (0.6-1.5 s) and **fades** through black, and **a flash through white** between two shots
 *   (annotated as one fade spanning both halves, as the real truth.json does).
 * - **Montages** of 6-12 frame shots joined by cuts, and **a cut followed within 0.5 s by a fade**.
 * - **Overlays that stay through transitions**: a channel logo, a scrolling news ticker and a subtitle line,
 *   drawn over the edited picture so they do not take part in the transition.
 * - **Distractors** inside shots, away from every transition, that must stay silent: camera flashes, captions
 *   appearing (lower thirds), fast pans with motion blur (photo shots), and large objects entering the frame.
 *
 * Ground truth, in the scenescope corpus format (annotations.ts reads it as `--format scenescope`): a
 * transition's span holds exactly the frames that are neither purely the old shot nor purely the new one (a
 * cut's span is its one frame, the first of the new shot); `frame` is the first frame at least half new (the
 * first frame of the fade-in for fades). Distractor spans hold the frames the event changes.
 *
 * Everything is drawn from a seeded PRNG; the same seed, sources and size give the same frames.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { InputError, OptionError, throwIfAborted } from '../errors.js';
import { spawnTool, fileUrl, resolveFfmpegPaths, safeInputArgs } from '../media/ffmpeg.js';
import { FrameEncoder } from './encode.js';
import { Prng } from './prng.js';
import { addGrain, blank, blurHorizontal, composite, mix, sample, type Rgb, type Rgba } from './raster.js';
import { listPhotos, defaultPhotoDir } from './corpus.js';
import { parseTruthJson, TRUTH_FILE } from './annotations.js';

/** Version of the realistic generator's drawing rules; it goes into every truth file. */
export const REALISTIC_GENERATOR_VERSION = 2;

/** Wipe styles the generator draws (all annotated as kind "wipe", with the style beside it). */
export const WIPE_STYLES = ['tile', 'iris', 'clock', 'push', 'slide', 'diagonal', 'soft'] as const;
/** One of {@link WIPE_STYLES}. */
export type WipeStyle = (typeof WIPE_STYLES)[number];

/** A stretch of real footage usable as one shot: frames `start..end` (inclusive) of `video`. */
export interface RealSegment {
  video: string;
  start: number;
  end: number;
}

/**
 * The stretches of real footage of a truth.json dataset that lie inside one shot: between two consecutive
 * certain hard cuts (one frame kept clear of each), and the whole of each negative clip minus its uncertain
 * spans. At most `maxFrames` frames are taken from the start of a long negative clip, so decoding stays short.
 * Stretches shorter than `minFrames` are left out.
 */
export async function realSegments(dir: string, minFrames = 16, maxFrames = 400): Promise<RealSegment[]> {
  const file = path.join(dir, TRUTH_FILE);
  if (!existsSync(file)) return [];
  const parsed = parseTruthJson(JSON.parse(await readFile(file, 'utf8')) as unknown, file);
  const out: RealSegment[] = [];
  const push = (video: string, start: number, end: number): void => {
    const e = Math.min(end, start + maxFrames - 1);
    if (e - start + 1 >= minFrames) out.push({ video, start, end: e });
  };
  for (const clip of parsed.value.clips) {
    const video = path.join(dir, clip.file);
    if (!existsSync(video)) continue;
    // Spans the annotator was unsure of (damaged frames, a tilt that might be a boundary) are cut out.
    const holes = clip.distractors.filter((d) => d.uncertain === true).sort((a, b) => a.start_frame - b.start_frame);
    const pushAround = (start: number, end: number): void => {
      let from = start;
      for (const h of holes) {
        if (h.end_frame < from || h.start_frame > end) continue;
        push(video, from, h.start_frame - 1);
        from = h.end_frame + 1;
      }
      push(video, from, end);
    };
    if (clip.role === 'negative') {
      if (clip.frame_count !== undefined) pushAround(0, clip.frame_count - 1);
      continue;
    }
    const t = clip.transitions;
    for (let i = 0; i + 1 < t.length; i++) {
      const a = t[i]!;
      const b = t[i + 1]!;
      if (a.kind === 'cut' && b.kind === 'cut' && a.uncertain !== true && b.uncertain !== true) pushAround(a.frame + 1, b.frame - 2);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Plans

/** A planned transition into shot `index + 1`. Frames are global. */
export interface RealisticTransition {
  kind: 'cut' | 'dissolve' | 'fade' | 'wipe';
  /** Wipe style, or "black"/"white" for fades. */
  style?: string;
  start_frame: number;
  end_frame: number;
  frame: number;
  /** Frames of the fade-out half and of the held colour (fades only). */
  out_frames?: number;
  hold_frames?: number;
  /** Why it is there: "montage", "cut-then-fade", "flash-cut" ... */
  role?: string;
}

/** A planned distractor (must not be reported as a boundary). */
export interface RealisticDistractor {
  kind: 'flash' | 'caption' | 'pan' | 'object';
  start_frame: number;
  end_frame: number;
  /** Drawing parameters. */
  text?: string;
  /** First frame without the caption. */
  hide?: number;
  y?: number;
  dir?: number;
  size?: number;
}

/** A planned shot. Frames are global and include the frames it shares with its transitions. */
export interface RealisticShot {
  /** "real" shots read frames `offset + (f - first)` of a real segment; "photo" shots move over a photo. */
  source: { type: 'real'; segment: number; offset: number } | { type: 'photo'; photo: number };
  first: number;
  last: number;
  /** Camera: from (cx, cy, z) to (cx, cy, z) over the shot, in source-relative units (z = view width / source width). */
  from: { cx: number; cy: number; z: number };
  to: { cx: number; cy: number; z: number };
}

/** A persistent overlay of a clip. */
export interface RealisticOverlays {
  logo: boolean;
  ticker?: { text: string; speed: number } | undefined;
  subtitles: { text: string; start_frame: number; end_frame: number }[];
}

/** Everything the seed decides about one clip. */
export interface RealisticPlan {
  name: string;
  seed: number;
  fps: number;
  frame_count: number;
  shots: RealisticShot[];
  transitions: RealisticTransition[];
  distractors: RealisticDistractor[];
  overlays: RealisticOverlays;
}

const TICKERS = [
  'MARKETS CLOSE HIGHER +++ STORM WARNING FOR THE COAST +++ ELECTION RESULTS AT TEN +++ TRAFFIC: A7 CLOSED NORTHBOUND',
  'BREAKING: BRIDGE REOPENS AFTER REPAIRS +++ WEATHER: SHOWERS, 14C +++ SPORTS: CUP FINAL TONIGHT AT 8',
];
const SUBTITLES = ['We have to leave before the storm.', 'Nobody saw it coming, not even us.', 'The river was higher than last year.', 'Tell them we are on our way.'];
const CAPTIONS = ['LIVE  City Hall', 'Dr. Anna Weber, climatologist', 'EXCLUSIVE', 'Harbour, 6:40 am'];

/** One step of a clip's edit: the transition (or group of them) that ends the current shot. */
export type ScheduleStep = 'cut' | 'dissolve' | 'wipe' | 'fade' | 'flash' | 'montage' | 'cut-fade';
/** The steps of every clip (shuffled per clip): each hard class at least once. */
export const DEFAULT_SCHEDULE: readonly ScheduleStep[] = ['dissolve', 'dissolve', 'wipe', 'wipe', 'wipe', 'fade', 'flash', 'montage', 'cut-fade', 'cut', 'cut'];

/** Options of {@link planRealisticClip}. */
export interface RealisticPlanOptions {
  name: string;
  seed: number;
  fps: number;
  /** The steps of the edit, in order (default: {@link DEFAULT_SCHEDULE} shuffled by the seed). */
  schedule?: readonly ScheduleStep[] | undefined;
  /** Shot length range in seconds (default [2, 3.2]). */
  shotSeconds?: readonly [number, number] | undefined;
  /** Usable real segments (may be empty). */
  segments: readonly RealSegment[];
  /** Number of photos available (may be 0 when segments are given). */
  photos: number;
}

/**
 * Plan one clip. Every clip holds, in a seeded order: dissolves, wipes of several styles, a fade through black,
 * a flash through white, a montage, a cut followed by a fade, plain cuts, and distractors between them.
 */
export function planRealisticClip(o: RealisticPlanOptions): RealisticPlan {
  if (o.segments.length === 0 && o.photos === 0) throw new InputError('FILE_NOT_FOUND', 'The realistic generator needs real footage (../shared/media/real) or photos');
  const rng = new Prng(o.seed);
  const fps = o.fps;
  const s = (seconds: number): number => Math.max(1, Math.round(seconds * fps));
  const shots: RealisticShot[] = [];
  const transitions: RealisticTransition[] = [];
  const distractors: RealisticDistractor[] = [];
  const segUse = new Map<number, number>();

  const camera = (photo: boolean): { from: RealisticShot['from']; to: RealisticShot['to'] } => {
    // Visible motion: a pan of 8-20 % of the view or a zoom of 8-18 %, in a random direction. Photos are
    // loaded at twice the frame size, real footage at 1.25 times: z keeps about one source pixel per pixel.
    const z0 = photo ? rng.range(0.45, 0.58) : rng.range(0.72, 0.86);
    const cx = rng.range(0.42, 0.58);
    const cy = rng.range(0.44, 0.56);
    if (rng.chance(0.5)) {
      const d = rng.range(0.08, 0.2) * z0 * (rng.chance(0.5) ? 1 : -1);
      return { from: { cx: cx - d / 2, cy, z: z0 }, to: { cx: cx + d / 2, cy: cy + rng.range(-0.03, 0.03), z: z0 } };
    }
    const z1 = z0 * (rng.chance(0.5) ? rng.range(0.82, 0.92) : 1 / rng.range(0.82, 0.92));
    return { from: { cx, cy, z: z0 }, to: { cx: cx + rng.range(-0.04, 0.04), cy, z: Math.min(0.98, z1) } };
  };

  /** A source for a shot of `length` frames: real footage when a segment is long enough, else a photo. */
  const source = (length: number): RealisticShot['source'] => {
    if (o.segments.length > 0 && (o.photos === 0 || rng.chance(0.75))) {
      const fits = o.segments.map((g, i) => ({ g, i })).filter(({ g }) => g.end - g.start + 1 >= length);
      if (fits.length > 0) {
        // Prefer segments used least, so one clip does not repeat the same footage.
        const least = Math.min(...fits.map(({ i }) => segUse.get(i) ?? 0));
        const { g, i } = rng.pick(fits.filter(({ i: k }) => (segUse.get(k) ?? 0) === least));
        segUse.set(i, (segUse.get(i) ?? 0) + 1);
        return { type: 'real', segment: i, offset: g.start + rng.int(0, g.end - g.start + 1 - length) };
      }
    }
    if (o.photos === 0) {
      // Only short real segments: take the longest and let the plan shorten the shot to it.
      const longest = o.segments.reduce((best, g, i) => (g.end - g.start > o.segments[best]!.end - o.segments[best]!.start ? i : best), 0);
      return { type: 'real', segment: longest, offset: o.segments[longest]!.start };
    }
    return { type: 'photo', photo: rng.int(0, o.photos - 1) };
  };
  const maxLength = (src: RealisticShot['source']): number => (src.type === 'real' ? o.segments[src.segment]!.end - src.offset + 1 : Infinity);

  /** Start a shot at `first` lasting `length` frames (cut short to its source). */
  const addShot = (first: number, length: number): RealisticShot => {
    const src = source(length);
    const len = Math.max(4, Math.min(length, maxLength(src)));
    const cam = camera(src.type === 'photo');
    const shot: RealisticShot = { source: src, first, last: first + len - 1, from: cam.from, to: cam.to };
    shots.push(shot);
    return shot;
  };
  /** Stage one distractor inside [lo, hi] of the current shot, if it has room. */
  const stage = (shot: RealisticShot, lo: number, hi: number): void => {
    const kind = rng.pick(shot.source.type === 'photo' ? (['flash', 'caption', 'pan', 'object'] as const) : (['flash', 'caption', 'object'] as const));
    const len = kind === 'flash' ? rng.int(2, 3) : kind === 'caption' ? rng.int(3, 6) : kind === 'pan' ? s(rng.range(0.4, 0.7)) : s(rng.range(0.6, 1.0));
    if (hi - lo + 1 < len) return;
    const a = lo + rng.int(0, hi - lo + 1 - len);
    const d: RealisticDistractor = { kind, start_frame: a, end_frame: a + len - 1 };
    if (kind === 'caption') {
      // The caption stays on a while, then goes: both its appearance and its disappearance are distractors.
      const hide = Math.min(hi, a + len + s(rng.range(1.0, 2.0)));
      if (hide <= a + len) return;
      d.text = rng.pick(CAPTIONS);
      d.hide = hide;
      distractors.push(d, { kind: 'caption', start_frame: hide, end_frame: hide });
      return;
    }
    if (kind === 'object') {
      d.y = rng.range(0.3, 0.7);
      d.dir = rng.chance(0.5) ? 1 : -1;
      d.size = rng.range(0.35, 0.6);
    }
    if (kind === 'pan') d.dir = rng.chance(0.5) ? 1 : -1;
    distractors.push(d);
  };

  // The schedule: every clip gets each hard class once, and the rest is drawn at random.
  const schedule: readonly ScheduleStep[] = o.schedule ?? rng.shuffle([...DEFAULT_SCHEDULE]);
  const [shortest, longest] = o.shotSeconds ?? [2, 3.2];
  const wipeStyles = rng.shuffle([...WIPE_STYLES]);
  let wipeIndex = 0;
  const DMARGIN = 8;

  let shot = addShot(0, s(rng.range(shortest, longest)));
  for (const step of schedule) {
    // A distractor inside the current shot, clear of both ends.
    if (rng.chance(0.6)) stage(shot, shot.first + DMARGIN, shot.last - DMARGIN - 2);
    const L = s(rng.range(shortest, longest));
    switch (step) {
      case 'cut': {
        const next = addShot(shot.last + 1, L);
        transitions.push({ kind: 'cut', start_frame: next.first, end_frame: next.first, frame: next.first });
        shot = next;
        break;
      }
      case 'dissolve':
      case 'wipe': {
        const n = Math.min(step === 'dissolve' ? s(rng.range(0.6, 1.5)) : s(rng.range(0.5, 0.9)), shot.last - shot.first - 8);
        if (n < 6) {
          const next = addShot(shot.last + 1, L);
          transitions.push({ kind: 'cut', start_frame: next.first, end_frame: next.first, frame: next.first });
          shot = next;
          break;
        }
        // The incoming shot starts n frames before the outgoing one ends: both play through the transition.
        const start = shot.last - n + 1;
        const next = addShot(start, L + n);
        const style = step === 'wipe' ? wipeStyles[wipeIndex++ % wipeStyles.length]! : undefined;
        const t: RealisticTransition = { kind: step, start_frame: start, end_frame: shot.last, frame: start + Math.floor(n / 2) };
        if (style !== undefined) t.style = style;
        transitions.push(t);
        shot = next;
        break;
      }
      case 'fade':
      case 'flash': {
        const white = step === 'flash';
        const outN = Math.max(1, Math.min(white ? rng.int(2, 4) : s(rng.range(0.3, 0.6)), shot.last - shot.first - 6));
        const hold = white ? rng.int(1, 2) : rng.int(0, s(0.2));
        const inN = white ? rng.int(2, 5) : s(rng.range(0.3, 0.6));
        const start = shot.last - outN + 1;
        const next = addShot(shot.last + hold + 1, L);
        transitions.push({ kind: 'fade', style: white ? 'white' : 'black', start_frame: start, end_frame: next.first + inN - 1, frame: next.first, out_frames: outN, hold_frames: hold, ...(white ? { role: 'flash-cut' } : {}) });
        shot = next;
        break;
      }
      case 'montage': {
        const count = rng.int(4, 7);
        for (let k = 0; k < count; k++) {
          const next = addShot(shot.last + 1, rng.int(6, 12));
          transitions.push({ kind: 'cut', start_frame: next.first, end_frame: next.first, frame: next.first, role: 'montage' });
          shot = next;
        }
        const after = addShot(shot.last + 1, L);
        transitions.push({ kind: 'cut', start_frame: after.first, end_frame: after.first, frame: after.first, role: 'montage' });
        shot = after;
        break;
      }
      case 'cut-fade': {
        // A cut, then within 0.5 s a fade through black out of the shot it cut to.
        const gap = rng.int(Math.max(4, s(0.15)), s(0.45));
        const outN = s(rng.range(0.25, 0.45));
        const mid = addShot(shot.last + 1, gap + outN);
        transitions.push({ kind: 'cut', start_frame: mid.first, end_frame: mid.first, frame: mid.first, role: 'cut-then-fade' });
        const inN = s(rng.range(0.25, 0.5));
        const start = mid.last - outN + 1;
        const next = addShot(mid.last + 1, L);
        transitions.push({ kind: 'fade', style: 'black', start_frame: start, end_frame: next.first + inN - 1, frame: next.first, out_frames: outN, hold_frames: 0, role: 'cut-then-fade' });
        shot = next;
        break;
      }
    }
  }
  if (rng.chance(0.6)) stage(shot, shot.first + DMARGIN + 6, shot.last - DMARGIN);
  const frameCount = shot.last + 1;

  // A distractor must not touch a transition (they are staged inside shots; this drops any that a short shot let through).
  const busy = transitions.map((t) => [t.start_frame - DMARGIN, t.end_frame + DMARGIN] as const);
  const kept = distractors.filter((d) => d.start_frame >= 0 && d.end_frame < frameCount && !busy.some(([a, b]) => d.end_frame >= a && d.start_frame <= b));

  // Overlays that stay through transitions: a subtitle line over each dissolve and some wipes.
  const subtitles: RealisticOverlays['subtitles'] = [];
  for (const t of transitions) {
    if ((t.kind === 'dissolve' || t.kind === 'wipe') && rng.chance(0.6)) {
      const a = t.start_frame - rng.int(s(0.4), s(0.8));
      const b = t.end_frame + rng.int(s(0.4), s(0.8));
      const clash = [...transitions.filter((u) => u !== t), ...kept].some((u) => (a >= u.start_frame - 3 && a <= u.end_frame + 3) || (b >= u.start_frame - 3 && b <= u.end_frame + 3));
      if (a > 0 && b < frameCount - 1 && !clash) subtitles.push({ text: rng.pick(SUBTITLES), start_frame: a, end_frame: b });
    }
  }
  // A subtitle appearing and going away is a caption distractor too.
  const subtitleEvents: RealisticDistractor[] = subtitles.flatMap((u) => [
    { kind: 'caption' as const, start_frame: u.start_frame, end_frame: u.start_frame },
    { kind: 'caption' as const, start_frame: u.end_frame + 1, end_frame: u.end_frame + 1 },
  ]);
  const overlays: RealisticOverlays = { logo: rng.chance(0.75), subtitles };
  if (rng.chance(0.6)) overlays.ticker = { text: rng.pick(TICKERS), speed: rng.range(1.5, 3) };
  return {
    name: o.name,
    seed: o.seed,
    fps,
    frame_count: frameCount,
    shots,
    transitions,
    distractors: [...kept, ...subtitleEvents].sort((a, b) => a.start_frame - b.start_frame),
    overlays,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Rendering

async function loadSharp(): Promise<typeof import('sharp')> {
  const mod = (await import('sharp')) as unknown as { default: typeof import('sharp') };
  return mod.default;
}

async function rasterSvg(svg: string): Promise<Rgba> {
  const sharp = await loadSharp();
  const { data, info } = await sharp(Buffer.from(svg)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const FONT = 'DejaVu Sans, Liberation Sans, sans-serif';

/**
 * Decode frames `start..start+count-1` (0-based decoded frames, no rate conversion) of a video, scaled to cover
 * `W`x`H` at `coverScale` times the frame size (room for the digital camera) and centre-cropped.
 */
async function decodeSegment(video: string, start: number, count: number, W: number, H: number, signal?: AbortSignal): Promise<Rgb[]> {
  const { ffmpeg } = resolveFfmpegPaths({});
  const args = [
    '-hide_banner', '-loglevel', 'error', ...safeInputArgs(), '-i', fileUrl(video), '-an', '-sn',
    '-vf', `trim=start_frame=${start}:end_frame=${start + count},scale=${W}:${H}:force_original_aspect_ratio=increase:flags=bicubic,crop=${W}:${H},setsar=1`,
    '-vsync', '0', '-frames:v', String(count), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ];
  const { child } = spawnTool(ffmpeg, args, { signal });
  const bytes = W * H * 3;
  const frames: Rgb[] = [];
  let buffer: Buffer = Buffer.alloc(0);
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      while (buffer.length >= bytes) {
        frames.push({ width: W, height: H, data: new Uint8Array(buffer.subarray(0, bytes)) });
        buffer = buffer.subarray(bytes);
      }
    });
    child.once('close', () => resolve());
    child.once('error', reject);
  });
  if (frames.length === 0) throw new InputError('DECODE_FAILED', `No frame decoded from ${video} at ${start}`);
  // A segment that ends early (a short read) repeats its last frame rather than failing the corpus.
  while (frames.length < count) frames.push(frames[frames.length - 1]!);
  return frames;
}

const smooth = (t: number): number => (t <= 0 ? 0 : t >= 1 ? 1 : t * t * (3 - 2 * t));

/** Per-pixel mask of a wipe at progress p (0..1): 1 where the new picture shows. Seeded parts in `salt`. */
function wipeMask(style: WipeStyle, p: number, W: number, H: number, salt: Float32Array, out: Float32Array): void {
  const cols = 8;
  const rows = Math.max(4, Math.round((cols * H) / W));
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const fx = (x + 0.5) / W;
      const fy = (y + 0.5) / H;
      let m: number;
      switch (style) {
        case 'tile': {
          // Cells flip in a seeded order, each over a short stretch of the progress.
          const c = Math.min(cols - 1, Math.floor(fx * cols));
          const r = Math.min(rows - 1, Math.floor(fy * rows));
          const order = salt[(r * cols + c) % salt.length]!;
          // Orders lie in [0, 1) with one cell at 0, so the first frame flips a cell and the last leaves none.
          m = p >= order * 0.85 ? 1 : 0;
          break;
        }
        case 'iris': {
          const dx = (fx - salt[0]!) * (W / H);
          const dy = fy - salt[1]!;
          // The circle reaches the farthest corner at p = 1, so the last frame of the span still shows the old shot.
          const far = Math.hypot(Math.max(salt[0]!, 1 - salt[0]!) * (W / H), Math.max(salt[1]!, 1 - salt[1]!)) + 0.02;
          const radius = p * far;
          const d = Math.sqrt(dx * dx + dy * dy);
          m = Math.min(1, Math.max(0, (radius - d) / 0.02 + 0.5));
          break;
        }
        case 'clock': {
          const a = (Math.atan2(fx - 0.5, 0.5 - fy) / (2 * Math.PI) + 1) % 1;
          m = a < p ? 1 : 0;
          break;
        }
        case 'diagonal':
          m = (fx + fy) / 2 < p * 1.02 ? 1 : 0;
          break;
        case 'soft': {
          const edge = p * 1.3 - 0.15;
          m = Math.min(1, Math.max(0, (edge - fx) / 0.3 + 0.5));
          break;
        }
        default:
          m = fx < p ? 1 : 0;
      }
      out[y * W + x] = m;
    }
  }
}

/** Renders the frames of a plan. Real segments are decoded when their shot starts and dropped when it ends. */
export class RealisticRenderer {
  private readonly W: number;
  private readonly H: number;
  private readonly plan: RealisticPlan;
  private readonly segments: readonly RealSegment[];
  private readonly photos: Rgb[];
  private readonly loaded = new Map<number, Rgb[]>();
  private readonly bufA: Rgb;
  private readonly bufB: Rgb;
  private readonly out: Rgb;
  private readonly mask: Float32Array;
  private readonly noise: Int8Array;
  private readonly salt = new Map<RealisticTransition, Float32Array>();
  private logo: Rgba | undefined;
  private ticker: Rgba | undefined;
  private tickerBar: Rgba | undefined;
  private readonly texts = new Map<string, Rgba>();
  private readonly objects = new Map<RealisticDistractor, Rgba>();
  private readonly signal: AbortSignal | undefined;

  private constructor(plan: RealisticPlan, W: number, H: number, segments: readonly RealSegment[], photos: Rgb[], signal: AbortSignal | undefined) {
    this.plan = plan;
    this.W = W;
    this.H = H;
    this.segments = segments;
    this.photos = photos;
    this.signal = signal;
    this.bufA = blank(W, H);
    this.bufB = blank(W, H);
    this.out = blank(W, H);
    this.mask = new Float32Array(W * H);
    const rng = new Prng(plan.seed ^ 0x5eed);
    this.noise = new Int8Array(W * H * 3 + 4096);
    for (let i = 0; i < this.noise.length; i++) this.noise[i] = Math.round(rng.normal(0, 3.2));
    for (const t of plan.transitions) {
      const salt = new Float32Array(256);
      for (let i = 0; i < salt.length; i++) salt[i] = rng.next();
      salt[0] = rng.range(0.3, 0.7);
      salt[1] = rng.range(0.3, 0.7);
      salt[2] = 0;
      this.salt.set(t, salt);
    }
  }

  /** Prepare a renderer: load the photos and draw the overlays. */
  static async create(plan: RealisticPlan, W: number, H: number, segments: readonly RealSegment[], photoFiles: readonly string[], signal?: AbortSignal): Promise<RealisticRenderer> {
    const sharp = await loadSharp();
    const used = new Set(plan.shots.flatMap((s) => (s.source.type === 'photo' ? [s.source.photo] : [])));
    const photos: Rgb[] = [];
    for (let i = 0; i < photoFiles.length; i++) {
      if (!used.has(i)) {
        photos.push(blank(1, 1));
        continue;
      }
      const { data, info } = await sharp(photoFiles[i]!).rotate().removeAlpha().toColourspace('srgb').resize(W * 2, H * 2, { fit: 'outside' }).raw().toBuffer({ resolveWithObject: true });
      photos.push({ width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) });
    }
    const r = new RealisticRenderer(plan, W, H, segments, photos, signal);
    const o = plan.overlays;
    if (o.logo) {
      const h = Math.round(H * 0.09);
      r.logo = await rasterSvg(`<svg xmlns="http://www.w3.org/2000/svg" width="${h * 2.6}" height="${h}"><rect width="${h * 2.6}" height="${h}" rx="${h * 0.18}" fill="#c8102e" fill-opacity="0.82"/><text x="${h * 0.3}" y="${h * 0.72}" font-family="${FONT}" font-size="${h * 0.62}" font-weight="bold" fill="#fff">TV 24</text></svg>`);
    }
    if (o.ticker !== undefined) {
      const h = Math.round(H * 0.075);
      const font = Math.round(h * 0.62);
      const text = `${o.ticker.text} +++ ${o.ticker.text}`;
      const w = Math.round(font * 0.64 * text.length);
      r.ticker = await rasterSvg(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><text x="0" y="${h * 0.74}" font-family="${FONT}" font-size="${font}" font-weight="bold" fill="#fff">${escapeXml(text)}</text></svg>`);
      r.tickerBar = await rasterSvg(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}"><rect width="${W}" height="${h}" fill="#0b1f4d" fill-opacity="0.9"/><rect width="${Math.round(W * 0.16)}" height="${h}" fill="#f5b700"/><text x="${Math.round(W * 0.012)}" y="${h * 0.74}" font-family="${FONT}" font-size="${font}" font-weight="bold" fill="#0b1f4d">NEWS</text></svg>`);
    }
    for (const u of o.subtitles) r.texts.set(`sub:${u.text}`, await r.subtitle(u.text));
    for (const d of plan.distractors) {
      if (d.kind === 'caption' && d.text !== undefined && !r.texts.has(`cap:${d.text}`)) r.texts.set(`cap:${d.text}`, await r.caption(d.text));
      if (d.kind === 'object') {
        const h = Math.round(H * (d.size ?? 0.45));
        const w = Math.round(h * 1.7);
        r.objects.set(d, await rasterSvg(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 170 100"><path d="M8 70 Q10 30 60 26 L95 8 L140 10 Q165 30 166 70 Q150 96 85 96 Q20 96 8 70 Z" fill="#2d3436"/><circle cx="45" cy="82" r="14" fill="#111"/><circle cx="130" cy="82" r="14" fill="#111"/><rect x="70" y="16" width="50" height="22" fill="#74b9ff" opacity="0.8"/></svg>`));
      }
    }
    return r;
  }

  private async subtitle(text: string): Promise<Rgba> {
    const font = Math.round(this.H * 0.055);
    const w = Math.round(font * 0.6 * text.length + font);
    const h = Math.round(font * 1.5);
    return rasterSvg(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><text x="${w / 2}" y="${font * 1.1}" text-anchor="middle" font-family="${FONT}" font-size="${font}" fill="#fff" stroke="#000" stroke-width="${Math.max(1, font * 0.08)}" paint-order="stroke">${escapeXml(text)}</text></svg>`);
  }

  private async caption(text: string): Promise<Rgba> {
    const barH = Math.round(this.H * 0.11);
    const font = Math.round(this.H * 0.048);
    const barW = Math.min(this.W - 20, Math.round(font * 0.62 * text.length + font * 1.8));
    return rasterSvg(`<svg xmlns="http://www.w3.org/2000/svg" width="${barW}" height="${barH}"><rect width="${barW}" height="${barH}" fill="#ffffff" fill-opacity="0.92"/><rect width="${Math.max(4, barH * 0.1)}" height="${barH}" fill="#c8102e"/><text x="${font}" y="${barH / 2 + font * 0.36}" font-family="${FONT}" font-size="${font}" font-weight="bold" fill="#111">${escapeXml(text)}</text></svg>`);
  }

  /** Load the real frames of shots that are on screen at `f`, drop those that are done. */
  private async prepare(f: number): Promise<void> {
    for (const [i, shot] of this.plan.shots.entries()) {
      if (shot.source.type !== 'real') continue;
      const live = f >= shot.first && f <= shot.last;
      if (live && !this.loaded.has(i)) {
        const seg = this.segments[shot.source.segment]!;
        this.loaded.set(i, await decodeSegment(seg.video, shot.source.offset, shot.last - shot.first + 1, Math.round(this.W * 1.25 / 2) * 2, Math.round(this.H * 1.25 / 2) * 2, this.signal));
      } else if (!live && this.loaded.has(i) && f > shot.last) this.loaded.delete(i);
    }
  }

  /** Draw shot `i` at global frame `f` into `out`, with its camera and the distractors that move the camera. */
  private shotFrame(i: number, f: number, out: Rgb): void {
    const shot = this.plan.shots[i]!;
    const n = Math.max(1, shot.last - shot.first);
    const t = (f - shot.first) / n;
    let cx = shot.from.cx + (shot.to.cx - shot.from.cx) * t;
    const cy = shot.from.cy + (shot.to.cy - shot.from.cy) * t;
    const z = shot.from.z + (shot.to.z - shot.from.z) * t;
    let blur = 0;
    for (const d of this.plan.distractors) {
      if (d.kind !== 'pan' || f < d.start_frame || f > shot.last || d.start_frame < shot.first) continue;
      // A fast pan: the camera travels 35 % of the source in the distractor's span and stays there.
      const len = d.end_frame - d.start_frame + 1;
      const q = Math.min(1, (f - d.start_frame + 1) / len);
      cx += (d.dir ?? 1) * 0.35 * smooth(q) * (1 - z);
      if (f <= d.end_frame) blur = Math.round((this.W * 0.35 * (1 - z) * 2) / len);
    }
    const src = shot.source.type === 'real' ? this.loaded.get(i)![f - shot.first]! : this.photos[shot.source.photo]!;
    const scale = (z * src.width) / this.W;
    const half = (this.W * scale) / 2 / src.width;
    const halfY = (this.H * scale) / 2 / src.height;
    sample(src, { cx: Math.min(1 - half, Math.max(half, cx)) * src.width, cy: Math.min(1 - halfY, Math.max(halfY, cy)) * src.height, scale, angle: 0 }, out);
    if (blur > 1) blurHorizontal(out, Math.min(40, blur));
    for (const d of this.plan.distractors) {
      if (d.kind !== 'object' || f < d.start_frame || d.start_frame < shot.first || d.start_frame > shot.last) continue;
      // Part of the shot, not an overlay: it enters from one side over the distractor's span, then stays (drifting
      // slowly) until the shot ends, so it leaves with the shot through the next transition.
      const img = this.objects.get(d)!;
      const q = Math.min(1, (f - d.start_frame) / Math.max(1, d.end_frame - d.start_frame));
      const travel = smooth(q) * (img.width + this.W * 0.35) + Math.max(0, f - d.end_frame) * 0.4;
      const x = (d.dir ?? 1) > 0 ? -img.width + travel : this.W - travel;
      composite(out, img, x, Math.round((d.y ?? 0.5) * this.H - img.height / 2));
    }
    if (shot.source.type === 'photo') addGrain(out, this.noise, ((f * 7919) % 4096) | 0);
  }

  /** Render global frame `f`. */
  async render(f: number): Promise<Uint8Array> {
    await this.prepare(f);
    const live = this.plan.shots.map((s, i) => ({ s, i })).filter(({ s }) => f >= s.first && f <= s.last);
    const out = this.out;
    const transition = this.plan.transitions.find((t) => t.kind !== 'cut' && f >= t.start_frame && f <= t.end_frame);
    if (transition !== undefined && transition.kind === 'fade') {
      const level = transition.style === 'white' ? 255 : 0;
      const outN = transition.out_frames ?? 1;
      const holdEnd = transition.start_frame + outN + (transition.hold_frames ?? 0) - 1;
      if (f < transition.start_frame + outN) {
        this.shotFrame(live[0]!.i, f, out);
        const k = (f - transition.start_frame + 1) / (outN + 1);
        for (let j = 0; j < out.data.length; j++) out.data[j] = out.data[j]! + (level - out.data[j]!) * k + 0.5;
      } else if (f <= holdEnd) out.data.fill(level);
      else {
        const inN = transition.end_frame - holdEnd;
        this.shotFrame(live[live.length - 1]!.i, f, out);
        const k = 1 - (f - holdEnd) / (inN + 1);
        for (let j = 0; j < out.data.length; j++) out.data[j] = out.data[j]! + (level - out.data[j]!) * k + 0.5;
      }
    } else if (transition !== undefined && live.length >= 2) {
      const a = live[0]!;
      const b = live[live.length - 1]!;
      const n = transition.end_frame - transition.start_frame + 1;
      const p = (f - transition.start_frame + 1) / (n + 1);
      if (transition.kind === 'dissolve') {
        this.shotFrame(a.i, f, this.bufA);
        this.shotFrame(b.i, f, this.bufB);
        mix(this.bufA, this.bufB, p, out);
      } else {
        const style = (transition.style ?? 'diagonal') as WipeStyle;
        const e = smooth(p);
        if (style === 'push' || style === 'slide') {
          // The new shot enters from the right; for a push the old one leaves to the left with it.
          this.shotFrame(a.i, f, this.bufA);
          this.shotFrame(b.i, f, this.bufB);
          const shift = Math.max(1, Math.min(this.W - 1, Math.round(e * this.W)));
          const W = this.W;
          for (let y = 0; y < this.H; y++) {
            const row = y * W * 3;
            for (let x = 0; x < W; x++) {
              const o = row + x * 3;
              let sIdx: number;
              let src: Uint8Array;
              if (x >= W - shift) {
                src = this.bufB.data;
                sIdx = row + (x - (W - shift)) * 3;
              } else {
                src = this.bufA.data;
                sIdx = style === 'push' ? row + (x + shift) * 3 : o;
              }
              out.data[o] = src[sIdx]!;
              out.data[o + 1] = src[sIdx + 1]!;
              out.data[o + 2] = src[sIdx + 2]!;
            }
          }
        } else {
          this.shotFrame(a.i, f, this.bufA);
          this.shotFrame(b.i, f, this.bufB);
          // Masks take the linear progress: eased, the first and last frames of the span could be pure.
          wipeMask(style, p, this.W, this.H, this.salt.get(transition)!, this.mask);
          const A = this.bufA.data;
          const B = this.bufB.data;
          for (let j = 0, px = 0; px < this.mask.length; px++, j += 3) {
            const m = this.mask[px]!;
            out.data[j] = A[j]! + (B[j]! - A[j]!) * m + 0.5;
            out.data[j + 1] = A[j + 1]! + (B[j + 1]! - A[j + 1]!) * m + 0.5;
            out.data[j + 2] = A[j + 2]! + (B[j + 2]! - A[j + 2]!) * m + 0.5;
          }
        }
      }
    } else {
      // One shot on screen: the newest one that has started (after a cut the new shot's first frame).
      this.shotFrame(live[live.length - 1]!.i, f, out);
    }
    this.overlay(f, out);
    return out.data;
  }

  /** Distractor events and the overlays that stay through transitions. */
  private overlay(f: number, out: Rgb): void {
    for (const d of this.plan.distractors) {
      if (d.kind === 'flash' && f >= d.start_frame && f <= d.end_frame) {
        const k = f === d.start_frame ? 0.85 : 0.45 / (f - d.start_frame);
        for (let j = 0; j < out.data.length; j++) out.data[j] = out.data[j]! + (255 - out.data[j]!) * k + 0.5;
      }
      if (d.kind === 'caption' && d.text !== undefined && d.hide !== undefined) {
        if (f >= d.start_frame && f < d.hide) {
          const img = this.texts.get(`cap:${d.text}`)!;
          const k = Math.min(1, (f - d.start_frame + 1) / (d.end_frame - d.start_frame + 1));
          composite(out, img, Math.round(this.W * 0.06 - (1 - k) * img.width * 0.3), Math.round(this.H * 0.64), k);
        }
      }
    }
    const o = this.plan.overlays;
    for (const u of o.subtitles) {
      if (f >= u.start_frame && f <= u.end_frame) {
        const img = this.texts.get(`sub:${u.text}`)!;
        composite(out, img, Math.round((this.W - img.width) / 2), Math.round(this.H * (o.ticker !== undefined ? 0.76 : 0.84)));
      }
    }
    if (this.logo !== undefined) composite(out, this.logo, Math.round(this.W * 0.965 - this.logo.width), Math.round(this.H * 0.05), 0.9);
    if (this.ticker !== undefined && this.tickerBar !== undefined && o.ticker !== undefined) {
      const y = this.H - this.tickerBar.height - Math.round(this.H * 0.03);
      composite(out, this.tickerBar, 0, y);
      const left = Math.round(this.W * 0.17);
      const x = left + this.W - ((f * o.ticker.speed * (this.W / 320)) % (this.ticker.width + this.W));
      // Clip the scrolling text to the right of the "NEWS" box.
      const saved = out.data.slice(y * this.W * 3, (y + this.tickerBar.height) * this.W * 3);
      composite(out, this.ticker, x, y);
      for (let yy = 0; yy < this.tickerBar.height; yy++) {
        const row = (y + yy) * this.W * 3;
        out.data.set(saved.subarray(yy * this.W * 3, yy * this.W * 3 + left * 3), row);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// The corpus

/** Options of {@link generateRealisticCorpus}. */
export interface RealisticCorpusOptions {
  /** Output folder. */
  out: string;
  /** Default 1. */
  seed?: number | undefined;
  /** Number of clips. Default 8. */
  clips?: number | undefined;
  /** The steps of each clip (default {@link DEFAULT_SCHEDULE}, shuffled per clip: about 35 s of video). */
  schedule?: readonly ScheduleStep[] | undefined;
  /** Shot length range in seconds (default [2, 3.2]). */
  shotSeconds?: readonly [number, number] | undefined;
  /** Default 512. */
  width?: number | undefined;
  /** Default 288. */
  height?: number | undefined;
  /** A truth.json folder to cut real shots from (default ../shared/media/real when present; "" for none). */
  real?: string | undefined;
  /** Photo folder (default {@link defaultPhotoDir}); used when real footage is absent, and mixed in otherwise. */
  photos?: string | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((p: { clip: string; frame: number; frames: number; clipsDone: number; clips: number }) => void) | undefined;
}

/** What a realistic corpus run wrote. */
export interface RealisticManifest {
  seed: number;
  width: number;
  height: number;
  sources: { real: string | undefined; segments: number; photos: number };
  clips: { name: string; video: string; truth: string; frames: number; fps: number; transitions: number; distractors: number }[];
  transitions: Record<string, number>;
  distractors: Record<string, number>;
}

/** Render one planned clip to `<out>/<name>.mp4` and `<out>/<name>.json`. */
export async function renderRealisticClip(plan: RealisticPlan, o: { out: string; width: number; height: number; segments: readonly RealSegment[]; photos: readonly string[]; signal?: AbortSignal | undefined; onFrame?: ((frame: number) => void) | undefined }): Promise<void> {
  if (o.width % 2 !== 0 || o.height % 2 !== 0) throw new OptionError(`Expected even width and height for yuv420p but received ${o.width}x${o.height}`);
  await mkdir(o.out, { recursive: true });
  const renderer = await RealisticRenderer.create(plan, o.width, o.height, o.segments, o.photos, o.signal);
  // CRF 23 leaves compression artefacts, as broadcast and web video have.
  const encoder = new FrameEncoder(path.join(o.out, `${plan.name}.mp4`), { width: o.width, height: o.height, fps: plan.fps, crf: 23, signal: o.signal });
  try {
    for (let f = 0; f < plan.frame_count; f++) {
      throwIfAborted(o.signal);
      await encoder.write(await renderer.render(f));
      if (f % 25 === 0) o.onFrame?.(f);
    }
    await encoder.finish();
  } catch (error) {
    encoder.kill();
    throw error;
  }
  const truth = {
    schema: 'scenescope-corpus/2',
    generator: 'realistic',
    generator_version: REALISTIC_GENERATOR_VERSION,
    name: plan.name,
    video: `${plan.name}.mp4`,
    width: o.width,
    height: o.height,
    frame_rate: plan.fps,
    frame_count: plan.frame_count,
    seed: plan.seed,
    transitions: plan.transitions,
    distractors: plan.distractors.map(({ kind, start_frame, end_frame }) => ({ kind, start_frame, end_frame })),
    overlays: { logo: plan.overlays.logo, ticker: plan.overlays.ticker !== undefined, subtitles: plan.overlays.subtitles.map(({ start_frame, end_frame }) => ({ start_frame, end_frame })) },
    shots: plan.shots.map((s) => ({
      first: s.first,
      last: s.last,
      source: s.source.type === 'real' ? `${path.basename(o.segments[s.source.segment]!.video)}@${s.source.offset}` : `photo:${path.basename(o.photos[s.source.photo]!)}`,
    })),
  };
  await writeFile(path.join(o.out, `${plan.name}.json`), JSON.stringify(truth, null, 1) + '\n');
}

/** The default real-footage folder: ../shared/media/real from the working directory, when it exists. */
export function defaultRealDir(cwd = process.cwd()): string | undefined {
  const dir = path.resolve(cwd, '..', 'shared', 'media', 'real');
  return existsSync(path.join(dir, TRUTH_FILE)) ? dir : undefined;
}

/**
 * Generate a realistic corpus: `clips` clips alternating 25 and 30 fps. Throws FILE_NOT_FOUND when there is
 * neither real footage nor a photo.
 */
export async function generateRealisticCorpus(options: RealisticCorpusOptions): Promise<RealisticManifest> {
  const seed = options.seed ?? 1;
  const count = options.clips ?? 8;
  const width = options.width ?? 512;
  const height = options.height ?? 288;
  const realDir = options.real === '' ? undefined : (options.real ?? defaultRealDir());
  const segments = realDir === undefined ? [] : await realSegments(realDir);
  const photoDir = options.photos ?? defaultPhotoDir();
  const photos = photoDir === undefined ? [] : await listPhotos(photoDir);
  if (segments.length === 0 && photos.length === 0) throw new InputError('FILE_NOT_FOUND', 'No source for the realistic corpus: no real footage (../shared/media/real) and no photos (scripts/get-photos.sh)');
  const manifest: RealisticManifest = { seed, width, height, sources: { real: realDir, segments: segments.length, photos: photos.length }, clips: [], transitions: {}, distractors: {} };
  for (let i = 0; i < count; i++) {
    const name = `real${String(i + 1).padStart(2, '0')}`;
    const fps = i % 2 === 0 ? 25 : 30;
    const plan = planRealisticClip({ name, seed: seed * 1000 + i, fps, schedule: options.schedule, shotSeconds: options.shotSeconds, segments, photos: photos.length });
    await renderRealisticClip(plan, { out: options.out, width, height, segments, photos, signal: options.signal, onFrame: (frame) => options.onProgress?.({ clip: name, frame, frames: plan.frame_count, clipsDone: i, clips: count }) });
    manifest.clips.push({ name, video: `${name}.mp4`, truth: `${name}.json`, frames: plan.frame_count, fps, transitions: plan.transitions.length, distractors: plan.distractors.length });
    for (const t of plan.transitions) {
      const key = t.kind === 'wipe' ? `wipe:${t.style}` : t.kind === 'fade' ? `fade:${t.style}` : t.role !== undefined ? `${t.kind}:${t.role}` : t.kind;
      manifest.transitions[key] = (manifest.transitions[key] ?? 0) + 1;
    }
    for (const d of plan.distractors) manifest.distractors[d.kind] = (manifest.distractors[d.kind] ?? 0) + 1;
  }
  return manifest;
}
