/**
 * Plans for the independent xfade corpus (see docs/benchmarks.md, "The independent xfade corpus"). Pure and
 * deterministic: a seed, the photo count and the real-shot list give the same plan every time. Rendering is in
 * render.ts. Nothing here shares code with src/bench/corpus.ts or src/bench/realistic.ts: transitions are made
 * by ffmpeg's own `xfade` filter, not by our blending code.
 *
 * Timing of one xfade join (measured on ffmpeg 5.1, and checked by test/bench-xfade.test.ts): with the
 * accumulated stream A of `len` frames and `m` transition frames, xfade's offset is frame `k = len - m`; frame k
 * is still pure A (progress 1), frames k+1 .. k+m-1 mix both shots, frame k+m is the incoming shot's frame m,
 * pure. So a gradual transition's truth span is k+1 .. k+m-1 and the output grows to k + length of B.
 */
import type { DistractorKind, TruthKind } from '../../src/bench/types.js';

/** Every xfade family of ffmpeg 5.1 used here, with the kind our scorer knows it as. */
export const XFADE_FAMILIES: Readonly<Record<string, Exclude<TruthKind, 'cut' | 'gradual'>>> = {
  // Whole-frame blends: each pixel goes from A to B over time (a crossfade, possibly through grey, blur, a
  // pixelated or a zoomed picture, or in a random per-pixel order for `dissolve`).
  fade: 'dissolve',
  fadefast: 'dissolve',
  fadeslow: 'dissolve',
  dissolve: 'dissolve',
  distance: 'dissolve',
  fadegrays: 'dissolve',
  hblur: 'dissolve',
  pixelize: 'dissolve',
  zoomin: 'dissolve',
  // Through a colour.
  fadeblack: 'fade',
  fadewhite: 'fade',
  // Spatial: a moving edge or shape reveals B (wipes, pushes/slides, irises, clock, slices, squeezes).
  wipeleft: 'wipe',
  wiperight: 'wipe',
  wipeup: 'wipe',
  wipedown: 'wipe',
  wipetl: 'wipe',
  wipetr: 'wipe',
  wipebl: 'wipe',
  wipebr: 'wipe',
  slideleft: 'wipe',
  slideright: 'wipe',
  slideup: 'wipe',
  slidedown: 'wipe',
  smoothleft: 'wipe',
  smoothright: 'wipe',
  smoothup: 'wipe',
  smoothdown: 'wipe',
  circleopen: 'wipe',
  circleclose: 'wipe',
  circlecrop: 'wipe',
  rectcrop: 'wipe',
  radial: 'wipe',
  vertopen: 'wipe',
  vertclose: 'wipe',
  horzopen: 'wipe',
  horzclose: 'wipe',
  diagtl: 'wipe',
  diagtr: 'wipe',
  diagbl: 'wipe',
  diagbr: 'wipe',
  hlslice: 'wipe',
  hrslice: 'wipe',
  vuslice: 'wipe',
  vdslice: 'wipe',
  squeezeh: 'wipe',
  squeezev: 'wipe',
};

/** Families added once more to every deck round, so fades and plain dissolves are not rare. */
const EXTRA_FAMILIES = ['fadeblack', 'fadewhite', 'fadeblack', 'fadewhite', 'fade', 'dissolve'];

/** A real shot available as a source: frames `start..end` (inclusive) of `file`, inside one shot. */
export interface RealShotSource {
  file: string;
  start: number;
  end: number;
  /** Annotated hard negatives of the source clip inside start..end (source frame numbers). */
  non_transitions: { start: number; end: number; what?: string | undefined }[];
}

/** Camera over one shot. Photos: zoompan from (z0,cx0,cy0) to (z1,cx1,cy1); cx, cy in 0..1 of the free range. */
export interface XCamera {
  z0: number;
  z1: number;
  cx0: number;
  cx1: number;
  cy0: number;
  cy1: number;
  /** Crop offset (0..1 of the margin) at the start and end of the shot: a slow drift on every source. */
  dx0: number;
  dx1: number;
  dy0: number;
  dy1: number;
  /** Handheld shake over local frames `from..to`, amplitude in output pixels. */
  shake?: { from: number; to: number; amp: number; phase: number } | undefined;
  /** A fast pan (whip) over local frames `from..to`: the crop moves across the whole margin. */
  whip?: { from: number; to: number; dir: 1 | -1 } | undefined;
}

/** One planned shot. `first` is its first frame in the clip; its stream has `frames` frames. */
export interface XShot {
  source: { type: 'photo'; photo: number } | { type: 'real'; real: number; offset: number };
  first: number;
  frames: number;
  camera: XCamera;
}

/** One planned transition into shot `shot` (global frames; a cut's span is its one frame). */
export interface XTransition {
  kind: Exclude<TruthKind, 'gradual'>;
  /** The xfade family, or "cut". */
  family: string;
  start_frame: number;
  end_frame: number;
  /** First frame at least half new by xfade's progress (the cut frame for cuts). */
  frame: number;
  /** xfade duration in frames (m); 0 for cuts. */
  xfade_frames: number;
  /** xfade offset frame (k); the cut frame for cuts. */
  offset_frame: number;
  role?: 'montage' | undefined;
  /** Index of the incoming shot. */
  shot: number;
}

/** One planned distractor (must stay silent). */
export interface XDistractor {
  kind: DistractorKind;
  start_frame: number;
  end_frame: number;
  what: string;
  /** Drawing parameters for flash / exposure / object. */
  level?: number | undefined;
  y?: number | undefined;
  size?: number | undefined;
  dir?: 1 | -1 | undefined;
  photo?: number | undefined;
}

/** Overlays drawn over the finished clip, so they stay through every transition. */
export interface XOverlays {
  logo: boolean;
  ticker: boolean;
  /** Subtitle lines (global frames, inclusive), each across a gradual transition. */
  subtitles: { from: number; to: number; text: string }[];
}

/** A planned clip. */
export interface XClipPlan {
  name: string;
  fps: number;
  frame_count: number;
  role: 'transitions' | 'distractors';
  shots: XShot[];
  transitions: XTransition[];
  distractors: XDistractor[];
  overlays: XOverlays;
}

/** A small seeded PRNG (mulberry32), private to this generator. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** A float in [a, b). */
  range(a: number, b: number): number {
    return a + (b - a) * this.next();
  }
  /** An integer in [a, b]. */
  int(a: number, b: number): number {
    return a + Math.floor(this.next() * (b - a + 1));
  }
  /** One element. */
  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.next() * list.length)]!;
  }
  /** A shuffled copy. */
  shuffle<T>(list: readonly T[]): T[] {
    const out = [...list];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}

/** Deals xfade families in shuffled rounds of every family (plus {@link EXTRA_FAMILIES}). */
export class FamilyDeck {
  private cards: string[] = [];
  constructor(private readonly rng: Rng) {}
  /** The next family. */
  draw(): string {
    if (this.cards.length === 0) this.cards = this.rng.shuffle([...Object.keys(XFADE_FAMILIES), ...EXTRA_FAMILIES]);
    return this.cards.pop()!;
  }
}

/** What {@link planXfadeClip} needs. */
export interface XPlanOptions {
  name: string;
  fps: number;
  role: 'transitions' | 'distractors';
  rng: Rng;
  deck: FamilyDeck;
  photos: number;
  reals: readonly RealShotSource[];
  /** Gradual transitions per transition clip (default 7). */
  gradual?: number | undefined;
  /** Plain cuts per transition clip (default 2). */
  cuts?: number | undefined;
  /** Montages (3-5 shots of 6-12 frames) per transition clip (default 1). */
  montages?: number | undefined;
  /** Distractors inside shots per transition clip (default 3). */
  distractors?: number | undefined;
}

/** Frames kept between a distractor and any transition. */
const CLEAR = 10;

type Join = { family: string; m: number; role?: 'montage' } | undefined;

function camera(rng: Rng, photo: boolean): XCamera {
  const c: XCamera = { z0: 1, z1: 1, cx0: 0.5, cx1: 0.5, cy0: 0.5, cy1: 0.5, dx0: 0.5, dx1: 0.5, dy0: 0.5, dy1: 0.5 };
  // Every shot drifts a little in the crop stage (real ones have their own motion on top).
  c.dx0 = rng.range(0.2, 0.8);
  c.dx1 = Math.min(1, Math.max(0, c.dx0 + rng.range(-0.3, 0.3)));
  c.dy0 = rng.range(0.3, 0.7);
  c.dy1 = Math.min(1, Math.max(0, c.dy0 + rng.range(-0.2, 0.2)));
  if (photo) {
    const move = rng.pick(['pan', 'pan', 'zoomin', 'zoomout', 'panzoom'] as const);
    const speed = rng.range(0.25, 1); // share of the free range crossed over the shot
    if (move === 'pan' || move === 'panzoom') {
      c.z0 = rng.range(1.25, 1.6);
      c.z1 = move === 'panzoom' ? c.z0 + rng.range(-0.2, 0.2) : c.z0;
      const horizontal = rng.next() < 0.7;
      const a = rng.range(0, 1 - speed);
      const [from, to] = rng.next() < 0.5 ? [a, a + speed] : [a + speed, a];
      if (horizontal) {
        c.cx0 = from;
        c.cx1 = to;
        c.cy0 = c.cy1 = rng.range(0.3, 0.7);
      } else {
        c.cy0 = from;
        c.cy1 = to;
        c.cx0 = c.cx1 = rng.range(0.3, 0.7);
      }
    } else {
      const lo = 1;
      const hi = 1 + 0.6 * speed;
      [c.z0, c.z1] = move === 'zoomin' ? [lo, hi] : [hi, lo];
      c.cx0 = rng.range(0.3, 0.7);
      c.cx1 = c.cx0 + rng.range(-0.15, 0.15);
      c.cy0 = rng.range(0.3, 0.7);
      c.cy1 = c.cy0 + rng.range(-0.15, 0.15);
    }
  }
  return c;
}

/**
 * Plan one clip. A transition clip: shots joined by `gradual` xfade transitions of families dealt from the deck,
 * `cuts` cuts and `montages` montages, with `distractors` events inside shots and overlays on some clips. A
 * distractor clip: one long shot with two events; it must stay silent.
 */
export function planXfadeClip(o: XPlanOptions): XClipPlan {
  const { rng, fps } = o;
  const sec = (s: number): number => Math.round(s * fps);
  // 1. The joins between shots, and each shot's pure length (frames shown unmixed).
  const joins: Join[] = [undefined];
  const pure: number[] = [];
  const hosts: string[] = []; // distractor planned in that shot ('' when none)
  const distractorKinds: string[] = [];
  if (o.role === 'transitions') {
    const items: string[] = rng.shuffle([...Array<string>(o.gradual ?? 7).fill('g'), ...Array<string>(o.cuts ?? 2).fill('cut'), ...Array<string>(o.montages ?? 1).fill('montage')]);
    const kinds = rng.shuffle(['flash', 'exposure', 'object', 'shake', 'pan', 'flash']).slice(0, o.distractors ?? 3);
    distractorKinds.push(...kinds);
    pure.push(sec(rng.range(1, 2)));
    for (const item of items) {
      if (item === 'g') {
        const family = o.deck.draw();
        joins.push({ family, m: Math.max(2, sec(rng.range(0.3, 1.5))) + 1 });
        pure.push(sec(rng.range(0.9, 2.2)));
      } else if (item === 'cut') {
        joins.push({ family: 'cut', m: 0 });
        pure.push(sec(rng.range(0.9, 2.2)));
      } else {
        const n = rng.int(3, 5);
        for (let i = 0; i < n; i++) {
          joins.push({ family: 'cut', m: 0, role: 'montage' });
          pure.push(rng.int(6, 12));
        }
        joins.push({ family: 'cut', m: 0, role: 'montage' });
        pure.push(sec(rng.range(0.9, 2.2)));
      }
    }
    // Distractors go into distinct long (non-montage) shots.
    const candidates = rng.shuffle(pure.map((p, i) => ({ p, i })).filter((x) => x.p > 12).map((x) => x.i));
    for (let i = 0; i < pure.length; i++) hosts.push('');
    kinds.forEach((k, j) => {
      const at = candidates[j];
      if (at !== undefined) hosts[at] = k;
    });
  } else {
    pure.push(sec(rng.range(7, 9)));
    hosts.push('pair');
    distractorKinds.push(...rng.shuffle(['flash', 'exposure', 'object', 'shake', 'pan']).slice(0, 2));
  }
  // Room for the events: a shot hosting one is long enough for it plus clear margins.
  const eventLength = (k: string): number => (k === 'flash' ? 3 : k === 'exposure' ? sec(1.2) : k === 'object' ? sec(1.4) : k === 'shake' ? sec(1.8) : k === 'pan' ? sec(0.5) : 0);
  hosts.forEach((h, i) => {
    if (h !== '' && h !== 'pair') pure[i] = Math.max(pure[i]!, eventLength(h) + 2 * CLEAR + 4);
  });

  // 2. Shots on the timeline. Stream length = incoming overlap + pure + outgoing overlap.
  const shots: XShot[] = [];
  const transitions: XTransition[] = [];
  let length = 0; // length of the accumulated stream
  const pureSpan: { from: number; to: number }[] = [];
  for (let i = 0; i < pure.length; i++) {
    const inJoin = joins[i];
    const outJoin = joins[i + 1];
    const mIn = inJoin?.m ?? 0;
    const mOut = outJoin?.m ?? 0;
    const frames = mIn + pure[i]! + mOut;
    let first: number;
    if (inJoin === undefined) first = 0;
    else if (inJoin.m === 0) {
      first = length;
      transitions.push({ kind: 'cut', family: 'cut', start_frame: first, end_frame: first, frame: first, xfade_frames: 0, offset_frame: first, role: inJoin.role, shot: i });
    } else {
      const k = length - inJoin.m;
      first = k;
      transitions.push({ kind: XFADE_FAMILIES[inJoin.family]!, family: inJoin.family, start_frame: k + 1, end_frame: k + inJoin.m - 1, frame: k + Math.ceil(inJoin.m / 2), xfade_frames: inJoin.m, offset_frame: k, shot: i });
    }
    length = first + frames;
    // Pure frames: from the incoming shot's frame m (pure B) to frame k of the next join (still pure A).
    pureSpan.push({ from: first + mIn, to: first + frames - 1 - Math.max(0, mOut - 1) });
    // Source: a real shot when one is long enough (about half the time), else a photo.
    // Never the same real clip twice in a row (two pieces of one shot would make a jump cut, not a transition).
    const prevShot = shots[shots.length - 1];
    const prevFile = prevShot?.source.type === 'real' ? o.reals[prevShot.source.real]!.file : undefined;
    const fits = o.reals.map((r, j) => ({ r, j })).filter(({ r }) => r.end - r.start + 1 >= frames && r.file !== prevFile);
    const useReal = fits.length > 0 && (o.photos === 0 || rng.next() < 0.5);
    const source: XShot['source'] = useReal
      ? (() => {
          // The clip first, then one of its shots: clips with many long shots would fill the corpus otherwise.
          const files = [...new Set(fits.map(({ r }) => r.file))];
          const file = rng.pick(files);
          const { r, j } = rng.pick(fits.filter((x) => x.r.file === file));
          return { type: 'real' as const, real: j, offset: r.start + rng.int(0, r.end - r.start + 1 - frames) };
        })()
      : { type: 'photo', photo: rng.int(0, Math.max(0, o.photos - 1)) };
    if (!useReal && o.photos === 0) throw new Error(`No source long enough for a ${frames}-frame shot and no photos`);
    // Consecutive shots never show the same photo.
    if (source.type === 'photo' && prevShot?.source.type === 'photo' && prevShot.source.photo === source.photo && o.photos > 1) source.photo = (source.photo + 1) % o.photos;
    shots.push({ source, first, frames, camera: camera(rng, source.type === 'photo') });
  }
  const frameCount = length;

  // 3. Distractors inside the pure part of their host shot, CLEAR frames from either end.
  const distractors: XDistractor[] = [];
  // The event lies inside lo..hi (inclusive).
  const place = (shotIndex: number, kind: string, lo: number, hi: number): void => {
    const len = eventLength(kind);
    const from = rng.int(lo, Math.max(lo, hi - len + 1));
    const to = from + len - 1;
    const shot = shots[shotIndex]!;
    const local = from - shot.first;
    if (kind === 'flash') {
      const n = rng.int(1, 3);
      distractors.push({ kind: 'flash', start_frame: from, end_frame: from + n - 1, what: `white flash, ${n} frame(s), decaying`, level: rng.range(0.7, 0.95) });
    } else if (kind === 'exposure') {
      const up = rng.next() < 0.5;
      distractors.push({ kind: 'exposure', start_frame: from, end_frame: to, what: `brightness ${up ? 'up' : 'down'} and back (4-frame ramps)`, level: up ? rng.range(0.12, 0.22) : -rng.range(0.12, 0.22) });
    } else if (kind === 'object') {
      distractors.push({ kind: 'object', start_frame: from, end_frame: to, what: 'a photo card crossing the frame', y: rng.range(0.1, 0.5), size: rng.range(0.35, 0.55), dir: rng.next() < 0.5 ? 1 : -1, photo: rng.int(0, Math.max(0, o.photos - 1)) });
    } else if (kind === 'shake') {
      shot.camera.shake = { from: local, to: local + len - 1, amp: rng.range(5, 12), phase: rng.range(0, 6.28) };
      distractors.push({ kind: 'shake', start_frame: from, end_frame: to, what: 'handheld shake' });
    } else if (kind === 'pan') {
      const dir = rng.next() < 0.5 ? 1 : -1;
      shot.camera.whip = { from: local, to: local + len - 1, dir };
      // The whip crosses the whole crop margin: it starts at one side and ends at the other.
      shot.camera.dx0 = shot.camera.dx1 = dir > 0 ? 0 : 1;
      distractors.push({ kind: 'pan', start_frame: from, end_frame: to, what: 'fast pan across the margin' });
    }
  };
  hosts.forEach((h, i) => {
    if (h === '') return;
    const span = pureSpan[i]!;
    if (h === 'pair') {
      // Two events in the two halves of the single shot, clear of each other and of the ends.
      const mid = Math.floor((span.from + span.to) / 2);
      place(i, distractorKinds[0]!, span.from + CLEAR, mid - CLEAR);
      place(i, distractorKinds[1]!, mid + CLEAR, span.to - CLEAR);
    } else place(i, h, span.from + CLEAR, span.to - CLEAR);
  });
  // Real sources bring their own annotated hard negatives (text fading, objects entering...).
  shots.forEach((s, i) => {
    if (s.source.type !== 'real') return;
    const src = o.reals[s.source.real]!;
    const span = pureSpan[i]!;
    for (const n of src.non_transitions) {
      const from = Math.max(span.from + 3, s.first + n.start - s.source.offset);
      const to = Math.min(span.to - 3, s.first + n.end - s.source.offset);
      if (to >= from) distractors.push({ kind: 'non_transition', start_frame: from, end_frame: to, what: `from the source's truth: ${n.what ?? 'non-transition'}` });
    }
  });
  distractors.sort((a, b) => a.start_frame - b.start_frame);
  if (o.role === 'distractors') distractors.push({ kind: 'negative', start_frame: 0, end_frame: frameCount - 1, what: 'a single shot: the whole clip must stay silent' });

  // 4. Overlays: a logo on about 60 % of clips, a ticker on 40 %, subtitles across some gradual transitions.
  const overlays: XOverlays = { logo: rng.next() < 0.6, ticker: rng.next() < 0.4, subtitles: [] };
  transitions.forEach((t, j) => {
    if (t.kind === 'cut' || rng.next() > 0.4) return;
    const before = pureSpan[t.shot - 1]!;
    const after = pureSpan[t.shot]!;
    // It appears inside the outgoing shot and goes inside the incoming one, both CLEAR frames from anything.
    const from = Math.max(before.from + CLEAR, t.start_frame - sec(0.8));
    const to = Math.min(after.to - CLEAR, t.end_frame + sec(0.8));
    const busy = (f: number): boolean => distractors.some((d) => f >= d.start_frame - CLEAR && f <= d.end_frame + CLEAR);
    if (from > t.start_frame - CLEAR || to < t.end_frame + CLEAR || busy(from) || busy(to)) return;
    overlays.subtitles.push({ from, to, text: SUBTITLES[j % SUBTITLES.length]! });
    distractors.push({ kind: 'caption', start_frame: from - 1, end_frame: from, what: 'subtitle appears' });
    distractors.push({ kind: 'caption', start_frame: to, end_frame: to + 1, what: 'subtitle goes' });
  });
  distractors.sort((a, b) => (a.kind === 'negative' ? 1 : 0) - (b.kind === 'negative' ? 1 : 0) || a.start_frame - b.start_frame);
  return { name: o.name, fps, frame_count: frameCount, role: o.role, shots, transitions, distractors, overlays };
}

const SUBTITLES = ['And then the weather turned', 'We never saw it coming', 'Nobody was there that night', 'This is where it all began', 'The road goes on from here'];
