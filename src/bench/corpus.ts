/**
 * Corpus generator: test clips rendered frame by frame from real photographs, so that the ground truth is exact
 * to the frame.
 *
 * A clip is a sequence of shots. Each shot looks at one photo through a moving virtual camera (a still view, a
 * slow Ken Burns zoom, or a drift), and shots are joined by cuts, dissolves, fades through black or white, and
 * wipes from several directions. Inside shots, away from every transition, the generator stages the events a
 * detector must not mistake for a boundary: camera flashes, sudden exposure changes, captions (lower thirds),
 * objects crossing the frame, fast pans (with motion blur), handheld shake, and pairs of dark low-contrast shots
 * with a real cut between them. Every frame gets film grain, so no two frames are identical.
 *
 * Everything is drawn by a seeded PRNG (prng.ts) and plain-TypeScript pixel code (raster.ts); sharp only loads
 * the photos and rasterises the caption and object drawings once per clip. The same photos and seed give the
 * same frames on any machine. Frames go to the bundled ffmpeg (libx264, yuv420p, constant frame rate, keyframe
 * every 250 frames) through a pipe with backpressure.
 *
 * Each clip writes `<name>.mp4` and `<name>.json`:
 * ```
 * { "schema": "scenescope-corpus/1", "name", "video": "<name>.mp4", "width", "height", "frame_rate",
 *   "frame_count", "seed",
 *   "transitions": [{ "kind": "cut"|"dissolve"|"fade"|"wipe", "start_frame", "end_frame", "frame", ... }],
 *   "distractors": [{ "kind": "flash"|"exposure"|"caption"|"object"|"pan"|"shake"|"dark", "start_frame",
 *                     "end_frame", ... }],
 *   "shots": [{ "photo", "start_frame", "end_frame", ... }] }
 * ```
 * A transition's span holds the frames that are neither purely the old shot nor purely the new one (a cut's span
 * is its one frame, the first of the new shot); `frame` is the first frame of the new scene inside it: the first
 * frame at least half new for dissolves and wipes, the first frame of the fade-in for fades.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { InputError, OptionError, throwIfAborted } from '../errors.js';
import { FrameEncoder } from './encode.js';
import { Prng } from './prng.js';
import { addGrain, blank, blurHorizontal, composite, grade, mix, mixToLevel, sample, wipe, type Rgb, type Rgba, type WipeDirection } from './raster.js';
import type { DistractorKind } from './types.js';

/** Version of the generator's drawing rules; it goes into every truth file. */
export const CORPUS_GENERATOR_VERSION = 1;

/** Where Debian's mate-backgrounds package puts its photographs (see scripts/get-photos.sh). */
export const DEBIAN_PHOTO_DIR = '/usr/share/backgrounds/mate/nature';

const PHOTO_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff'];

/** The photo folder to use: `SCENESCOPE_PHOTOS`, else {@link DEBIAN_PHOTO_DIR} when it exists, else undefined. */
export function defaultPhotoDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env.SCENESCOPE_PHOTOS;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return existsSync(DEBIAN_PHOTO_DIR) ? DEBIAN_PHOTO_DIR : undefined;
}

/** The image files of a folder, sorted by name (the order is part of what a seed reproduces). */
export async function listPhotos(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch((error: unknown) => {
    throw new InputError('FILE_NOT_FOUND', `Photo folder ${dir} cannot be read`, { cause: error });
  });
  return names
    .filter((n) => PHOTO_EXTENSIONS.includes(path.extname(n).toLowerCase()))
    .sort()
    .map((n) => path.join(dir, n));
}

// ---------------------------------------------------------------------------------------------------------
// Plans: everything about a clip that the seed decides, in resolution-independent units.

/** A camera view in photo-relative units: centre (0..1 of the photo), and width as a fraction of the photo's. */
export interface PlanView {
  cx: number;
  cy: number;
  z: number;
}

/** Transition kinds the generator draws. */
export type CorpusTransitionKind = 'cut' | 'dissolve' | 'fade' | 'wipe';

/** A planned transition between shot `index` and `index + 1`. */
export interface PlanTransition {
  kind: CorpusTransitionKind;
  start_frame: number;
  end_frame: number;
  frame: number;
  /** Fades: the colour passed through. */
  color?: 'black' | 'white';
  /** Fades: frames fading out, holding the colour, fading in. */
  fade_out?: number;
  hold?: number;
  fade_in?: number;
  /** Wipes: where the new picture comes from, and the soft edge. */
  direction?: WipeDirection;
  feather?: number;
}

/** A planned distractor (frames inclusive) with its drawing parameters. */
export interface PlanDistractor {
  kind: DistractorKind;
  start_frame: number;
  end_frame: number;
  /** flash: peak strength 0..1; exposure: final gain. */
  strength?: number;
  /** caption text. */
  text?: string;
  /** caption: frames of fade in and out. */
  fade?: number;
  /** object: shape, size (fraction of frame height), vertical centre (fraction), direction (+1 left to right). */
  shape?: 'ball' | 'bird' | 'car';
  size?: number;
  y?: number;
  dir?: 1 | -1;
  /** pan: horizontal travel of the view centre (photo fraction). */
  dx?: number;
  /** shake: amplitude as a fraction of the frame width, and the seed of its jitter. */
  amplitude?: number;
  seed?: number;
}

/** A planned shot. */
export interface PlanShot {
  photo: number;
  mirror: boolean;
  /** First and last frame showing only this shot. */
  start_frame: number;
  end_frame: number;
  /** First and last frame where this shot is visible at all (includes the transitions' spans). */
  visible_start: number;
  visible_end: number;
  motion: 'still' | 'kenburns' | 'drift';
  from: PlanView;
  to: PlanView;
  /** Dark low-contrast grading, when this shot is one of a dark pair. */
  dark?: { gain: number; contrast: number };
  /** Distractors staged inside this shot. */
  events: PlanDistractor[];
}

/** Everything the seed decided about one clip. */
export interface ClipPlan {
  name: string;
  seed: number;
  fps: number;
  frame_count: number;
  /** Photo files, in the order `photo` indices refer to. */
  photos: string[];
  shots: PlanShot[];
  transitions: PlanTransition[];
  /** All distractors, including the dark spans, sorted by start. */
  distractors: PlanDistractor[];
}

const CAPTIONS = [
  'MARIA LOPEZ  |  Field biologist',
  'Breaking news: river levels rise',
  'Live from the northern ridge',
  'DR. JAMES OKAFOR  |  Botanist',
  'Chapter 3: After the storm',
  'Source: regional weather service',
  'ANNA KOWALSKI  |  Photographer',
  'Tomorrow: sunshine, 24 C',
  'Interview recorded in June',
  'The garden at first light',
];

/** A view that fits inside the photo: width z (photo fraction) at a 16:9-ish frame of aspect `frameAspect`. */
function clampView(v: PlanView, photoAspect: number, frameAspect: number): PlanView {
  const zMax = Math.min(1, photoAspect / frameAspect);
  const z = Math.min(Math.max(v.z, 0.2), zMax);
  const zh = (z * frameAspect) / photoAspect;
  return { z, cx: Math.min(Math.max(v.cx, z / 2), 1 - z / 2), cy: Math.min(Math.max(v.cy, zh / 2), 1 - zh / 2) };
}

function randomView(rng: Prng, photoAspect: number, frameAspect: number, zoom: [number, number]): PlanView {
  const zMax = Math.min(1, photoAspect / frameAspect);
  const z = zMax * rng.range(zoom[0], zoom[1]);
  return clampView({ z, cx: rng.range(0, 1), cy: rng.range(0, 1) }, photoAspect, frameAspect);
}

/** Options of {@link planClip}. */
export interface PlanOptions {
  name: string;
  seed: number;
  fps: number;
  /** Photo files and their aspect ratios (width / height). */
  photos: readonly { path: string; aspect: number }[];
  /** Aspect of the frames to render (width / height). Default 16/9. */
  frameAspect?: number | undefined;
  /**
   * Repeat the shot pattern until the clip has at least this many frames, then end it there. Default: one
   * pattern (about 25 s).
   */
  targetFrames?: number | undefined;
}

const GRADUAL_KINDS: readonly CorpusTransitionKind[] = ['dissolve', 'dissolve', 'fade', 'fade', 'wipe', 'wipe'];
const HOST_KINDS: readonly DistractorKind[] = ['flash', 'exposure', 'caption', 'object', 'pan', 'shake'];
const WIPES: readonly WipeDirection[] = ['left', 'right', 'top', 'bottom', 'top-left', 'bottom-right'];

/**
 * Plan one clip. One pattern has ten shots and nine transitions: two cuts, two dissolves, two fades (one
 * through black, one through white), two wipes, in a shuffled order, plus the cut between a pair of dark shots;
 * six of the other shots each host one distractor (flash, exposure change, caption, crossing object, fast pan,
 * handheld shake).
 */
export function planClip(options: PlanOptions): ClipPlan {
  const { fps, photos } = options;
  if (photos.length < 2) throw new OptionError(`The corpus generator needs at least 2 photos but received ${photos.length}`);
  const frameAspect = options.frameAspect ?? 16 / 9;
  const rng = new Prng(options.seed);
  const s = (seconds: number): number => Math.max(1, Math.round(seconds * fps));
  const margin = Math.max(8, s(0.35));

  const shots: PlanShot[] = [];
  const transitions: PlanTransition[] = [];
  const distractors: PlanDistractor[] = [];
  let cursor = 0;
  let lastPhoto = -1;
  let fadeColor: 'black' | 'white' = rng.chance(0.5) ? 'black' : 'white';
  // First frame where the next shot becomes visible (the start of the transition into it).
  let pendingVisibleStart = 0;

  const pickPhoto = (): number => {
    let p = rng.int(0, photos.length - 1);
    if (p === lastPhoto) p = (p + 1 + rng.int(0, photos.length - 2)) % photos.length;
    lastPhoto = p;
    return p;
  };

  const addShot = (length: number, host: DistractorKind | 'dark' | undefined): PlanShot => {
    const photo = pickPhoto();
    const aspect = photos[photo]!.aspect;
    const pan = host === 'pan';
    const shake = host === 'shake';
    const zoom: [number, number] = pan ? [0.42, 0.5] : shake ? [0.55, 0.75] : [0.6, 0.95];
    let from = randomView(rng, aspect, frameAspect, zoom);
    // Shake needs room around the view so the jitter never reaches the photo's edge.
    if (shake) from = clampView({ z: from.z, cx: 0.5 + rng.range(-0.1, 0.1), cy: 0.5 + rng.range(-0.05, 0.05) }, aspect, frameAspect);
    let motion: PlanShot['motion'] = pan || host === 'dark' ? 'still' : rng.pick(['still', 'kenburns', 'kenburns', 'drift'] as const);
    let to = from;
    if (motion === 'kenburns') {
      const factor = rng.chance(0.5) ? rng.range(0.8, 0.9) : rng.range(1.1, 1.2);
      to = clampView({ z: from.z * factor, cx: from.cx + rng.range(-0.04, 0.04), cy: from.cy + rng.range(-0.04, 0.04) }, aspect, frameAspect);
    } else if (motion === 'drift') {
      to = clampView({ z: from.z, cx: from.cx + rng.range(-0.06, 0.06), cy: from.cy + rng.range(-0.03, 0.03) }, aspect, frameAspect);
    }
    if (to.cx === from.cx && to.cy === from.cy && to.z === from.z) motion = 'still';
    const shot: PlanShot = { photo, mirror: rng.chance(0.3), start_frame: cursor, end_frame: cursor + length - 1, visible_start: cursor, visible_end: cursor + length - 1, motion, from, to, events: [] };
    if (host === 'dark') shot.dark = { gain: rng.range(0.16, 0.28), contrast: rng.range(0.45, 0.65) };
    shots.push(shot);
    cursor += length;
    return shot;
  };

  const addTransition = (kind: CorpusTransitionKind): void => {
    const previous = shots[shots.length - 1]!;
    const start = cursor;
    let t: PlanTransition;
    if (kind === 'cut') t = { kind, start_frame: start, end_frame: start, frame: start };
    else if (kind === 'fade') {
      const fadeOut = s(rng.range(0.2, 0.5));
      const hold = rng.int(0, 4);
      const fadeIn = s(rng.range(0.2, 0.5));
      t = { kind, start_frame: start, end_frame: start + fadeOut + hold + fadeIn - 1, frame: start + fadeOut + hold, color: fadeColor, fade_out: fadeOut, hold, fade_in: fadeIn };
      fadeColor = fadeColor === 'black' ? 'white' : 'black';
    } else {
      const length = Math.max(3, s(rng.range(0.3, 1.0)));
      // First frame whose new-picture share (k + 1) / (length + 1) reaches one half.
      const half = Math.ceil((length + 1) / 2) - 1;
      t = { kind, start_frame: start, end_frame: start + length - 1, frame: start + half };
      if (kind === 'wipe') {
        t.direction = rng.pick(WIPES);
        t.feather = rng.chance(0.5) ? 0 : rng.range(0.02, 0.08);
      }
    }
    transitions.push(t);
    previous.visible_end = kind === 'cut' ? start - 1 : t.end_frame;
    // A cut's frame belongs to the new shot; a gradual span belongs to neither.
    cursor = kind === 'cut' ? start : t.end_frame + 1;
    pendingVisibleStart = kind === 'cut' ? start : t.start_frame;
  };

  const stage = (shot: PlanShot, kind: DistractorKind): void => {
    const lo = shot.start_frame + margin;
    const hi = shot.end_frame - margin;
    const room = hi - lo + 1;
    let d: PlanDistractor;
    const place = (length: number): [number, number] => {
      const len = Math.min(length, room);
      const start = lo + rng.int(0, Math.max(0, room - len));
      return [start, start + len - 1];
    };
    switch (kind) {
      case 'flash': {
        const [a, b] = place(rng.int(1, 3));
        d = { kind, start_frame: a, end_frame: b, strength: rng.range(0.75, 1) };
        break;
      }
      case 'exposure': {
        const [a, b] = place(rng.int(2, 6));
        d = { kind, start_frame: a, end_frame: b, strength: rng.chance(0.5) ? rng.range(0.5, 0.68) : rng.range(1.35, 1.6) };
        break;
      }
      case 'caption': {
        const [a, b] = place(s(rng.range(1.4, 2.4)));
        d = { kind, start_frame: a, end_frame: b, text: rng.pick(CAPTIONS), fade: rng.int(0, 4) };
        break;
      }
      case 'object': {
        const [a, b] = place(s(rng.range(0.7, 1.4)));
        d = { kind, start_frame: a, end_frame: b, shape: rng.pick(['ball', 'bird', 'car'] as const), size: rng.range(0.3, 0.55), y: rng.range(0.35, 0.7), dir: rng.chance(0.5) ? 1 : -1 };
        break;
      }
      case 'pan': {
        const [a, b] = place(s(rng.range(0.5, 1.0)));
        const travel = (1 - shot.from.z) * rng.range(0.7, 0.95);
        const dir = shot.from.cx > 0.5 ? -1 : 1;
        shot.from = { ...shot.from, cx: dir > 0 ? shot.from.z / 2 + 0.005 : 1 - shot.from.z / 2 - 0.005 };
        shot.to = shot.from;
        d = { kind, start_frame: a, end_frame: b, dx: dir * travel };
        break;
      }
      case 'shake': {
        const [a, b] = place(s(rng.range(1.2, 2.4)));
        d = { kind, start_frame: a, end_frame: b, amplitude: rng.range(0.006, 0.016), seed: rng.int(1, 2 ** 30) };
        break;
      }
      default:
        // 'dark' is staged as a pair of shots, and truth.json's kinds are not generated.
        return;
    }
    shot.events.push(d);
    distractors.push(d);
  };

  const target = options.targetFrames;
  do {
    const gradual = rng.shuffle(GRADUAL_KINDS);
    const joins: CorpusTransitionKind[] = rng.shuffle(['cut', 'cut', ...gradual]);
    // Ten shots: six hosts, two plain, one dark pair (adjacent, joined by a cut).
    const roles: (DistractorKind | 'plain' | 'dark-pair')[] = rng.shuffle([...HOST_KINDS, 'plain', 'plain', 'dark-pair']);
    let joinIndex = 0;
    const firstInPattern = shots.length === 0;
    for (const [r, role] of roles.entries()) {
      if (!(firstInPattern && r === 0)) addTransition(joins[joinIndex++] ?? 'cut');
      if (role === 'dark-pair') {
        const a = addShot(s(rng.range(1.5, 2.5)), 'dark');
        a.visible_start = pendingVisibleStart;
        addTransition('cut');
        const b = addShot(s(rng.range(1.5, 2.5)), 'dark');
        b.visible_start = pendingVisibleStart;
        b.dark = a.dark!;
        // The dark span keeps clear of the transitions into and out of the pair, like every distractor; the cut
        // inside it is real.
        const dark: PlanDistractor = { kind: 'dark', start_frame: a.start_frame + margin, end_frame: b.end_frame - margin };
        distractors.push(dark);
        continue;
      }
      const length = role === 'plain' ? s(rng.range(1.2, 2.4)) : role === 'caption' || role === 'shake' ? s(rng.range(3.2, 4.0)) : s(rng.range(2.4, 3.3));
      const shot = addShot(length, role === 'plain' ? undefined : role);
      shot.visible_start = pendingVisibleStart;
      if (role !== 'plain') stage(shot, role);
    }
  } while (target !== undefined && cursor < target);

  let frameCount = cursor;
  if (target !== undefined && cursor > target) {
    // End the clip at exactly `target` frames: drop what starts after it, shorten the last shot.
    frameCount = target;
    while (shots.length > 1 && shots[shots.length - 1]!.start_frame > target - Math.max(margin, s(1))) {
      shots.pop();
      transitions.pop();
    }
    const last = shots[shots.length - 1]!;
    last.end_frame = target - 1;
    last.visible_end = target - 1;
    const lastTransition = transitions[transitions.length - 1];
    if (lastTransition !== undefined && lastTransition.end_frame >= target) transitions.pop();
    for (let i = distractors.length - 1; i >= 0; i--) {
      if (distractors[i]!.end_frame > last.end_frame - (distractors[i]!.kind === 'dark' ? 0 : margin)) {
        const gone = distractors.splice(i, 1)[0]!;
        for (const shot of shots) shot.events = shot.events.filter((e) => e !== gone);
      }
    }
  }
  distractors.sort((a, b) => a.start_frame - b.start_frame);
  return { name: options.name, seed: options.seed, fps, frame_count: frameCount, photos: photos.map((p) => p.path), shots, transitions, distractors };
}

// ---------------------------------------------------------------------------------------------------------
// Rendering

/** A photo loaded at working resolution. */
interface LoadedPhoto {
  normal: Rgb;
  mirrored: Rgb | undefined;
}

async function loadSharp(): Promise<typeof import('sharp')> {
  const mod = (await import('sharp')) as unknown as { default: typeof import('sharp') };
  return mod.default;
}

/** Load photos scaled to cover `coverWidth` x `coverHeight` (keeping their aspect), as RGB. */
async function loadPhotos(files: readonly string[], coverWidth: number, coverHeight: number): Promise<{ images: Rgb[]; aspects: number[] }> {
  const sharp = await loadSharp();
  const images: Rgb[] = [];
  const aspects: number[] = [];
  for (const file of files) {
    const { data, info } = await sharp(file).rotate().removeAlpha().toColourspace('srgb').resize(coverWidth, coverHeight, { fit: 'outside', kernel: 'lanczos3' }).raw().toBuffer({ resolveWithObject: true });
    images.push({ width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) });
    aspects.push(info.width / info.height);
  }
  return { images, aspects };
}

/** Photo aspect ratios without decoding the pixels (for planning). */
export async function photoAspects(files: readonly string[]): Promise<number[]> {
  const sharp = await loadSharp();
  const out: number[] = [];
  for (const file of files) {
    const m = await sharp(file).metadata();
    const swap = (m.orientation ?? 1) >= 5;
    const w = m.width ?? 1;
    const h = m.height ?? 1;
    out.push(swap ? h / w : w / h);
  }
  return out;
}

function mirrorImage(img: Rgb): Rgb {
  const out = blank(img.width, img.height);
  const { width: W, height: H, data } = img;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const a = (y * W + x) * 3;
      const b = (y * W + (W - 1 - x)) * 3;
      out.data[b] = data[a]!;
      out.data[b + 1] = data[a + 1]!;
      out.data[b + 2] = data[a + 2]!;
    }
  }
  return out;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

async function rasterSvg(svg: string): Promise<Rgba> {
  const sharp = await loadSharp();
  const { data, info } = await sharp(Buffer.from(svg)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

async function captionOverlay(text: string, W: number, H: number): Promise<Rgba> {
  const barH = Math.round(H * 0.12);
  const font = Math.round(H * 0.05);
  const barW = Math.min(W - Math.round(W * 0.08), Math.round(font * 0.62 * text.length + font * 1.6));
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${barW}" height="${barH}">` +
    `<rect x="0" y="0" width="${barW}" height="${barH}" rx="${Math.round(barH * 0.12)}" fill="#101828" fill-opacity="0.78"/>` +
    `<rect x="0" y="0" width="${Math.max(3, Math.round(barH * 0.08))}" height="${barH}" fill="#f5b700"/>` +
    `<text x="${Math.round(font * 0.8)}" y="${Math.round(barH / 2 + font * 0.36)}" font-family="DejaVu Sans, Liberation Sans, sans-serif" font-size="${font}" font-weight="bold" fill="#ffffff">${escapeXml(text)}</text></svg>`;
  return rasterSvg(svg);
}

async function objectOverlay(shape: 'ball' | 'bird' | 'car', size: number): Promise<Rgba> {
  const h = Math.max(8, Math.round(size));
  let svg: string;
  if (shape === 'ball') {
    svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${h}" height="${h}"><defs><radialGradient id="g" cx="35%" cy="35%" r="65%"><stop offset="0" stop-color="#ffe2a8"/><stop offset="0.6" stop-color="#d9480f"/><stop offset="1" stop-color="#5c1a00"/></radialGradient></defs><circle cx="${h / 2}" cy="${h / 2}" r="${h / 2 - 1}" fill="url(#g)"/></svg>`;
  } else if (shape === 'bird') {
    const w = Math.round(h * 1.8);
    svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 180 100"><path d="M0 40 Q45 0 90 45 Q135 0 180 40 Q130 30 95 70 Q90 80 85 70 Q50 30 0 40 Z" fill="#1d1d1f"/></svg>`;
  } else {
    const w = Math.round(h * 2.2);
    svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 220 100"><rect x="5" y="30" width="210" height="50" rx="14" fill="#1c4e80"/><path d="M50 32 L80 5 L150 5 L180 32 Z" fill="#2b6cb0"/><rect x="88" y="10" width="55" height="20" fill="#bee3f8"/><circle cx="55" cy="82" r="17" fill="#111"/><circle cx="165" cy="82" r="17" fill="#111"/></svg>`;
  }
  return rasterSvg(svg);
}

const smooth = (t: number): number => (t <= 0 ? 0 : t >= 1 ? 1 : t * t * (3 - 2 * t));

/** Renders the frames of a plan at one resolution. */
export class ClipRenderer {
  readonly width: number;
  readonly height: number;
  readonly plan: ClipPlan;
  private readonly photos: LoadedPhoto[];
  private readonly overlays = new Map<PlanDistractor, Rgba>();
  private readonly shakes = new Map<PlanDistractor, Float64Array>();
  private readonly noise: Int8Array;
  private readonly noiseRng: Prng;
  private readonly bufA: Rgb;
  private readonly bufB: Rgb;
  private readonly out: Rgb;

  private constructor(plan: ClipPlan, width: number, height: number, photos: LoadedPhoto[]) {
    this.plan = plan;
    this.width = width;
    this.height = height;
    this.photos = photos;
    this.bufA = blank(width, height);
    this.bufB = blank(width, height);
    this.out = blank(width, height);
    const grain = new Prng(plan.seed ^ 0x5bd1e995);
    this.noise = new Int8Array(width * height * 3 + 8192);
    for (let i = 0; i < this.noise.length; i++) this.noise[i] = Math.max(-6, Math.min(6, Math.round(grain.normal(0, 1.8))));
    this.noiseRng = grain;
  }

  /** Load the plan's photos and draw its overlays. */
  static async create(plan: ClipPlan, width: number, height: number): Promise<ClipRenderer> {
    const used = new Set(plan.shots.map((s) => s.photo));
    const files = plan.photos;
    const loaded: LoadedPhoto[] = [];
    const cover = { w: Math.ceil(width * 1.6), h: Math.ceil(height * 1.6) };
    for (let i = 0; i < files.length; i++) {
      if (!used.has(i)) {
        loaded.push({ normal: blank(1, 1), mirrored: undefined });
        continue;
      }
      const { images } = await loadPhotos([files[i]!], cover.w, cover.h);
      const normal = images[0]!;
      const mirrored = plan.shots.some((s) => s.photo === i && s.mirror) ? mirrorImage(normal) : undefined;
      loaded.push({ normal, mirrored });
    }
    const renderer = new ClipRenderer(plan, width, height, loaded);
    for (const shot of plan.shots) {
      for (const e of shot.events) {
        if (e.kind === 'caption') renderer.overlays.set(e, await captionOverlay(e.text ?? '', width, height));
        if (e.kind === 'object') renderer.overlays.set(e, await objectOverlay(e.shape ?? 'ball', (e.size ?? 0.4) * height));
        if (e.kind === 'shake') renderer.shakes.set(e, shakePath(e, width));
      }
    }
    return renderer;
  }

  /** Render frame `f` (0-based); the returned buffer is reused by the next call. */
  render(f: number): Uint8Array {
    const visible = this.plan.shots.filter((s) => f >= s.visible_start && f <= s.visible_end);
    const transition = this.plan.transitions.find((t) => t.kind !== 'cut' && f >= t.start_frame && f <= t.end_frame);
    if (transition === undefined || visible.length < 2) {
      const shot = visible.length === 1 ? visible[0]! : visible.find((s) => f >= s.start_frame && f <= s.end_frame) ?? visible[visible.length - 1]!;
      this.renderShot(shot, f, this.out);
    } else {
      const [a, b] = visible as [PlanShot, PlanShot];
      this.renderShot(a, f, this.bufA);
      this.renderShot(b, f, this.bufB);
      const k = f - transition.start_frame;
      const length = transition.end_frame - transition.start_frame + 1;
      if (transition.kind === 'dissolve') mix(this.bufA, this.bufB, (k + 1) / (length + 1), this.out);
      else if (transition.kind === 'wipe') wipe(this.bufA, this.bufB, (k + 1) / (length + 1), transition.direction ?? 'left', transition.feather ?? 0, this.out);
      else {
        const level = transition.color === 'white' ? 255 : 0;
        const fadeOut = transition.fade_out ?? 1;
        const hold = transition.hold ?? 0;
        const fadeIn = transition.fade_in ?? 1;
        if (k < fadeOut) {
          this.out.data.set(this.bufA.data);
          mixToLevel(this.out, level, (k + 1) / (fadeOut + 1));
        } else if (k < fadeOut + hold) this.out.data.fill(level);
        else {
          this.out.data.set(this.bufB.data);
          mixToLevel(this.out, level, 1 - (k - fadeOut - hold + 1) / (fadeIn + 1));
        }
      }
    }
    addGrain(this.out, this.noise, this.noiseRng.int(0, 8191));
    return this.out.data;
  }

  private renderShot(shot: PlanShot, f: number, out: Rgb): void {
    const photo = this.photos[shot.photo]!;
    const src = shot.mirror && photo.mirrored !== undefined ? photo.mirrored : photo.normal;
    const span = Math.max(1, shot.visible_end - shot.visible_start);
    const t = shot.motion === 'still' ? 0 : (f - shot.visible_start) / span;
    const e = shot.motion === 'kenburns' ? smooth(t) : t;
    let cx = shot.from.cx + (shot.to.cx - shot.from.cx) * e;
    const cy = shot.from.cy + (shot.to.cy - shot.from.cy) * e;
    const z = shot.from.z + (shot.to.z - shot.from.z) * e;
    let blur = 0;
    let ox = 0;
    let oy = 0;
    let angle = 0;
    for (const ev of shot.events) {
      if (ev.kind === 'pan') {
        const length = ev.end_frame - ev.start_frame + 1;
        const at = (g: number): number => smooth((g - ev.start_frame + 1) / (length + 1));
        cx += (ev.dx ?? 0) * at(f);
        if (f >= ev.start_frame && f <= ev.end_frame) blur = Math.abs((ev.dx ?? 0) * (at(f + 0.5) - at(f - 0.5))) * src.width / ((z * src.width) / this.width) * 0.5;
      } else if (ev.kind === 'shake' && f >= ev.start_frame && f <= ev.end_frame) {
        const path = this.shakes.get(ev)!;
        const i = (f - ev.start_frame) * 3;
        ox = path[i]!;
        oy = path[i + 1]!;
        angle = path[i + 2]!;
      }
    }
    const scale = (z * src.width) / this.width;
    sample(src, { cx: cx * src.width + ox * scale, cy: cy * src.height + oy * scale, scale, angle }, out);
    if (blur >= 1) blurHorizontal(out, Math.min(blur, this.width / 20));
    for (const ev of shot.events) {
      if (ev.kind === 'object' && f >= ev.start_frame && f <= ev.end_frame) {
        const overlay = this.overlays.get(ev)!;
        const p = (f - ev.start_frame) / Math.max(1, ev.end_frame - ev.start_frame);
        const travel = this.width + overlay.width;
        const left = ev.dir === -1 ? this.width - p * travel : -overlay.width + p * travel;
        composite(out, overlay, left, (ev.y ?? 0.5) * this.height - overlay.height / 2);
      }
    }
    if (shot.dark !== undefined) grade(out, shot.dark.gain, shot.dark.contrast, 110);
    for (const ev of shot.events) {
      if (ev.kind === 'exposure' && f >= ev.start_frame) {
        const p = Math.min(1, (f - ev.start_frame + 1) / (ev.end_frame - ev.start_frame + 1));
        grade(out, 1 + ((ev.strength ?? 1) - 1) * p);
      } else if (ev.kind === 'flash' && f >= ev.start_frame && f <= ev.end_frame) {
        mixToLevel(out, 255, (ev.strength ?? 1) * Math.pow(0.6, f - ev.start_frame));
      }
    }
    for (const ev of shot.events) {
      if (ev.kind === 'caption' && f >= ev.start_frame && f <= ev.end_frame) {
        const fade = ev.fade ?? 0;
        const opacity = fade === 0 ? 1 : Math.min(1, (f - ev.start_frame + 1) / (fade + 1), (ev.end_frame - f + 1) / (fade + 1));
        const overlay = this.overlays.get(ev)!;
        composite(out, overlay, Math.round(this.width * 0.05), Math.round(this.height * 0.8 - overlay.height / 2), opacity);
      }
    }
  }
}

/** Per-frame handheld jitter (dx, dy in output pixels, angle in radians): smoothed seeded noise. */
function shakePath(e: PlanDistractor, width: number): Float64Array {
  const frames = e.end_frame - e.start_frame + 1;
  const rng = new Prng(e.seed ?? 1);
  const amp = (e.amplitude ?? 0.01) * width;
  const out = new Float64Array(frames * 3);
  let x = 0;
  let y = 0;
  let a = 0;
  for (let i = 0; i < frames; i++) {
    // Ease in and out so the shake starts and stops without a jump.
    const envelope = Math.min(1, (i + 1) / 4, (frames - i) / 4);
    x = 0.55 * x + 0.45 * rng.normal(0, amp);
    y = 0.55 * y + 0.45 * rng.normal(0, amp * 0.8);
    a = 0.6 * a + 0.4 * rng.normal(0, 0.004);
    out[i * 3] = x * envelope;
    out[i * 3 + 1] = y * envelope;
    out[i * 3 + 2] = a * envelope;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Writing clips

/** The truth file of a clip (see the module header). */
export interface ClipTruth {
  schema: 'scenescope-corpus/1';
  generator_version: number;
  name: string;
  video: string;
  width: number;
  height: number;
  frame_rate: number;
  frame_count: number;
  seed: number;
  transitions: PlanTransition[];
  distractors: PlanDistractor[];
  shots: { photo: string; mirror: boolean; start_frame: number; end_frame: number; motion: string; dark: boolean; events: DistractorKind[] }[];
}

/** The truth file content of a plan. */
export function truthOf(plan: ClipPlan, width: number, height: number): ClipTruth {
  return {
    schema: 'scenescope-corpus/1',
    generator_version: CORPUS_GENERATOR_VERSION,
    name: plan.name,
    video: `${plan.name}.mp4`,
    width,
    height,
    frame_rate: plan.fps,
    frame_count: plan.frame_count,
    seed: plan.seed,
    transitions: plan.transitions,
    distractors: plan.distractors,
    shots: plan.shots.map((s) => ({ photo: path.basename(plan.photos[s.photo]!), mirror: s.mirror, start_frame: s.start_frame, end_frame: s.end_frame, motion: s.motion, dark: s.dark !== undefined, events: s.events.map((e) => e.kind) })),
  };
}

/** Progress of a corpus run. */
export interface CorpusProgress {
  clip: string;
  /** Frames written of this clip, and its length. */
  frame: number;
  frames: number;
  /** Clips finished, and how many there are. */
  clipsDone: number;
  clips: number;
}

/** Options of {@link renderClip}. */
export interface RenderClipOptions {
  width: number;
  height: number;
  /** Output folder. */
  out: string;
  /** x264 preset. Default "veryfast". */
  preset?: string | undefined;
  signal?: AbortSignal | undefined;
  onFrame?: ((frame: number, frames: number) => void) | undefined;
}

/** Render a plan to `<out>/<name>.mp4` and write `<out>/<name>.json`. Returns the truth. */
export async function renderClip(plan: ClipPlan, options: RenderClipOptions): Promise<ClipTruth> {
  const { width, height } = options;
  if (width % 2 !== 0 || height % 2 !== 0) throw new OptionError(`Expected even width and height for yuv420p but received ${width}x${height}`);
  await mkdir(options.out, { recursive: true });
  const renderer = await ClipRenderer.create(plan, width, height);
  const video = path.join(options.out, `${plan.name}.mp4`);
  const encoder = new FrameEncoder(video, { width, height, fps: plan.fps, preset: options.preset, signal: options.signal });
  try {
    for (let f = 0; f < plan.frame_count; f++) {
      throwIfAborted(options.signal);
      await encoder.write(renderer.render(f));
      if (f % 25 === 0) options.onFrame?.(f, plan.frame_count);
    }
    await encoder.finish();
  } catch (error) {
    encoder.kill();
    throw error;
  }
  const truth = truthOf(plan, width, height);
  await writeFile(path.join(options.out, `${plan.name}.json`), JSON.stringify(truth, null, 1) + '\n');
  return truth;
}

/** Options of {@link generateCorpus}. */
export interface CorpusOptions {
  /** Folder of photographs (see {@link defaultPhotoDir}). */
  photos: string;
  /** Output folder. */
  out: string;
  /** Default 1. */
  seed?: number | undefined;
  /** Number of clips. Default 12. */
  clips?: number | undefined;
  /** Default 640. */
  width?: number | undefined;
  /** Default 360. */
  height?: number | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: CorpusProgress) => void) | undefined;
}

/** What a corpus run wrote: one entry per clip, and totals per kind. */
export interface CorpusManifest {
  seed: number;
  width: number;
  height: number;
  clips: { name: string; video: string; truth: string; frames: number; fps: number; transitions: number; distractors: number }[];
  transitions: Record<CorpusTransitionKind, number>;
  distractors: Record<DistractorKind, number>;
  frames: number;
  seconds: number;
}

/**
 * Generate the default corpus: `clips` clips (25 and 30 fps alternately) of about 25 s, each with nine
 * transitions of every kind and seven distractors, plus `manifest.json`. Throws FILE_NOT_FOUND when the photo
 * folder is missing, INVALID_OPTION with fewer than 2 photos, ABORTED through the signal.
 */
export async function generateCorpus(options: CorpusOptions): Promise<CorpusManifest> {
  const seed = options.seed ?? 1;
  const count = options.clips ?? 12;
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const files = await listPhotos(options.photos);
  const aspects = await photoAspects(files);
  const photos = files.map((p, i) => ({ path: p, aspect: aspects[i]! }));
  const manifest: CorpusManifest = {
    seed,
    width,
    height,
    clips: [],
    transitions: { cut: 0, dissolve: 0, fade: 0, wipe: 0 },
    distractors: { flash: 0, exposure: 0, caption: 0, object: 0, pan: 0, shake: 0, dark: 0, non_transition: 0, negative: 0 },
    frames: 0,
    seconds: 0,
  };
  for (let i = 0; i < count; i++) {
    const name = `clip${String(i + 1).padStart(2, '0')}`;
    const fps = i % 2 === 0 ? 25 : 30;
    const plan = planClip({ name, seed: seed * 1000 + i, fps, photos, frameAspect: width / height });
    const truth = await renderClip(plan, {
      width,
      height,
      out: options.out,
      signal: options.signal,
      onFrame: (frame, frames) => options.onProgress?.({ clip: name, frame, frames, clipsDone: i, clips: count }),
    });
    for (const t of truth.transitions) manifest.transitions[t.kind]++;
    for (const d of truth.distractors) manifest.distractors[d.kind]++;
    manifest.frames += truth.frame_count;
    manifest.seconds += truth.frame_count / fps;
    manifest.clips.push({ name, video: truth.video, truth: `${name}.json`, frames: truth.frame_count, fps, transitions: truth.transitions.length, distractors: truth.distractors.length });
    options.onProgress?.({ clip: name, frame: truth.frame_count, frames: truth.frame_count, clipsDone: i + 1, clips: count });
  }
  await writeFile(path.join(options.out, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
  return manifest;
}

/** Named render sizes for the speed benchmark. */
export const SPEED_SIZES = { '480p': [854, 480], '720p': [1280, 720], '1080p': [1920, 1080] } as const;
/** One of {@link SPEED_SIZES}. */
export type SpeedSize = keyof typeof SPEED_SIZES;

/** Options of {@link generateSpeedClips}. */
export interface SpeedClipOptions {
  photos: string;
  out: string;
  /** Default all three. */
  sizes?: readonly SpeedSize[] | undefined;
  /** Frames per clip. Default 3000. */
  frames?: number | undefined;
  /** Default 30. */
  fps?: number | undefined;
  seed?: number | undefined;
  /** x264 preset. Default "veryfast". */
  preset?: string | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: CorpusProgress) => void) | undefined;
}

/**
 * Clips for the speed benchmark: the same plan (same shots, transitions and distractors) rendered at 480p,
 * 720p and 1080p, `speed-<size>.mp4` with its truth file. Returns what was written.
 */
export async function generateSpeedClips(options: SpeedClipOptions): Promise<{ size: SpeedSize; video: string; width: number; height: number; frames: number; fps: number }[]> {
  const sizes = options.sizes ?? (Object.keys(SPEED_SIZES) as SpeedSize[]);
  const frames = options.frames ?? 3000;
  const fps = options.fps ?? 30;
  const files = await listPhotos(options.photos);
  const aspects = await photoAspects(files);
  const photos = files.map((p, i) => ({ path: p, aspect: aspects[i]! }));
  const out: { size: SpeedSize; video: string; width: number; height: number; frames: number; fps: number }[] = [];
  for (const [i, size] of sizes.entries()) {
    const [width, height] = SPEED_SIZES[size];
    const name = `speed-${size}`;
    const plan = planClip({ name, seed: options.seed ?? 7, fps, photos, frameAspect: width / height, targetFrames: frames });
    await renderClip(plan, {
      width,
      height,
      out: options.out,
      preset: options.preset,
      signal: options.signal,
      onFrame: (frame, total) => options.onProgress?.({ clip: name, frame, frames: total, clipsDone: i, clips: sizes.length }),
    });
    out.push({ size, video: path.join(options.out, `${name}.mp4`), width, height, frames: plan.frame_count, fps });
  }
  return out;
}
