/**
 * Rendering of the independent xfade corpus: one ffmpeg run per clip (an ffmpeg that has `xfade`, Debian's 5.1
 * by default; never the product's bundled 4.1), its filter graph built from a plan of plan.ts. Photos move
 * with zoompan, every shot drifts (and may shake or whip) in a crop, shots are joined by xfade or concat, and
 * overlays and distractor effects are drawn over the joined stream so they stay through transitions.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseTruthJson, TRUTH_FILE } from '../../src/bench/annotations.js';
import { FamilyDeck, planXfadeClip, Rng, XFADE_FAMILIES, type RealShotSource, type XClipPlan, type XShot } from './plan.js';

/** Debian's ffmpeg, the default. */
export const DEFAULT_XFADE_FFMPEG = '/usr/bin/ffmpeg';
/** skimage's sample photographs (Debian python3-skimage): real photos, not used by our own generators. */
export const SKIMAGE_DATA = '/usr/lib/python3/dist-packages/skimage/data';
/** The colour photographs of {@link SKIMAGE_DATA} used by default. */
export const SKIMAGE_PHOTOS = ['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg', 'motorcycle_left.png', 'hubble_deep_field.jpg'];
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';

/** An error with a code, for the CLI. */
export class XfadeError extends Error {
  constructor(
    readonly code: 'XFADE_MISSING' | 'FFMPEG_FAILED' | 'NO_SOURCES' | 'FRAME_COUNT',
    message: string,
  ) {
    super(message);
    this.name = 'XfadeError';
  }
}

function run(bin: string, args: string[], signal?: AbortSignal): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], signal });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20000)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** The ffmpeg's version line; throws XFADE_MISSING when it cannot run or has no xfade filter. */
export async function checkXfadeFfmpeg(ffmpeg: string): Promise<string> {
  const r = await run(ffmpeg, ['-hide_banner', '-h', 'filter=xfade']).catch((e: unknown) => ({ code: -1, stdout: '', stderr: String(e) }));
  if (r.code !== 0 || !/xfade AVOptions/.test(r.stdout)) {
    throw new XfadeError('XFADE_MISSING', `${ffmpeg} has no xfade filter (ffmpeg >= 4.3 needed; on Debian: apt-get install ffmpeg, or pass --ffmpeg PATH): ${r.stderr.trim().split('\n').pop() ?? ''}`);
  }
  const families = Object.keys(XFADE_FAMILIES).filter((f) => !new RegExp(`^\\s+${f}\\s`, 'm').test(r.stdout));
  if (families.length > 0) throw new XfadeError('XFADE_MISSING', `${ffmpeg}'s xfade lacks ${families.join(', ')} (ffmpeg 5.1 has them all)`);
  const v = await run(ffmpeg, ['-hide_banner', '-version']);
  return v.stdout.split('\n')[0] ?? '';
}

/**
 * Shots of a truth.json folder (../shared/media/real) usable as sources: only between two consecutive certain
 * hard cuts (2 frames kept clear after the first, 3 before the second), with uncertain non-transition spans cut
 * out; the certain ones come along as hard negatives.
 */
export async function realShotSources(dir: string, minFrames = 30): Promise<RealShotSource[]> {
  const file = path.join(dir, TRUTH_FILE);
  if (!existsSync(file)) return [];
  const parsed = parseTruthJson(JSON.parse(await readFile(file, 'utf8')) as unknown, file);
  const out: RealShotSource[] = [];
  for (const clip of parsed.value.clips) {
    const video = path.join(dir, clip.file);
    if (clip.role !== 'transitions' || !existsSync(video)) continue;
    const holes = clip.distractors.filter((d) => d.uncertain === true);
    const certain = clip.distractors.filter((d) => d.uncertain !== true);
    const t = [...clip.transitions].sort((a, b) => a.frame - b.frame);
    for (let i = 0; i + 1 < t.length; i++) {
      const a = t[i]!;
      const b = t[i + 1]!;
      if (a.kind !== 'cut' || b.kind !== 'cut' || a.uncertain === true || b.uncertain === true) continue;
      let pieces: [number, number][] = [[a.frame + 2, b.frame - 3]];
      for (const h of holes) pieces = pieces.flatMap(([s, e]): [number, number][] => (h.end_frame < s || h.start_frame > e ? [[s, e]] : [[s, h.start_frame - 3], [h.end_frame + 3, e]]));
      for (const [s, e] of pieces) {
        if (e - s + 1 < minFrames) continue;
        const inside = certain.filter((d) => d.end_frame >= s && d.start_frame <= e).map((d) => ({ start: Math.max(s, d.start_frame), end: Math.min(e, d.end_frame), what: d.what }));
        out.push({ file: video, start: s, end: e, non_transitions: inside });
      }
    }
  }
  return out;
}

/** Photos of a folder (png/jpg), sorted by name. */
export async function listPhotoFiles(dir: string, only?: readonly string[]): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const names = (await readdir(dir)).filter((n) => /\.(png|jpe?g)$/i.test(n) && (only === undefined || only.includes(n))).sort();
  return names.map((n) => path.join(dir, n));
}

const q = (expr: string): string => `'${expr}'`;
const num = (x: number): string => (Math.round(x * 1e6) / 1e6).toString();

/** Crop-stage x/y expressions of a shot (drift, whip, shake), over its local frame number n. */
function cropExpr(s: XShot, mx: number, my: number): { x: string; y: string } {
  const c = s.camera;
  const last = Math.max(1, s.frames - 1);
  let x = `${num(mx * c.dx0)}+${num(mx * (c.dx1 - c.dx0))}*n/${last}`;
  let y = `${num(my * c.dy0)}+${num(my * (c.dy1 - c.dy0))}*n/${last}`;
  if (c.whip !== undefined) {
    const span = Math.max(1, c.whip.to - c.whip.from);
    // Smoothstep ramp across the whole margin.
    const r = `clip((n-${c.whip.from})/${span},0,1)`;
    x += `+${c.whip.dir * mx}*(3*${r}*${r}-2*${r}*${r}*${r})`;
  }
  if (c.shake !== undefined) {
    const on = `between(n,${c.shake.from},${c.shake.to})`;
    const p = num(c.shake.phase);
    x += `+${on}*${num(c.shake.amp)}*(sin(n*1.9+${p})+0.6*sin(n*4.7+2*${p}))`;
    y += `+${on}*${num(c.shake.amp * 0.7)}*(sin(n*2.3+3*${p})+0.5*sin(n*5.3+${p}))`;
  }
  return { x: `max(0,min(${mx},${x}))`, y: `max(0,min(${my},${y}))` };
}

/** Everything one clip's ffmpeg run needs. */
export interface XRenderInputs {
  /** Photos prepared at 2x the intermediate size (see {@link preparePhotos}). */
  photos: readonly string[];
  reals: readonly RealShotSource[];
  /** Source frame rate per real file. */
  realFps: ReadonlyMap<string, number>;
  width: number;
  height: number;
}

/** The ffmpeg arguments and filter graph of one clip. */
export function clipCommand(plan: XClipPlan, inp: XRenderInputs, outFile: string, graphFile: string): { args: string[]; graph: string } {
  const { fps, shots } = plan;
  const W = inp.width;
  const H = inp.height;
  const IW = Math.round((W * 1.25) / 2) * 2;
  const IH = Math.round((H * 1.25) / 2) * 2;
  const args: string[] = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y'];
  const chains: string[] = [];
  const norm = `settb=1/${fps},setpts=N,fps=${fps}`;
  shots.forEach((s, i) => {
    const n = s.frames;
    let head: string;
    if (s.source.type === 'photo') {
      args.push('-loop', '1', '-framerate', String(fps), '-t', num((n + 5) / fps), '-i', inp.photos[s.source.photo]!);
      const c = s.camera;
      const last = Math.max(1, n - 1);
      const z = `${num(c.z0)}+${num(c.z1 - c.z0)}*on/${last}`;
      const x = `(${num(c.cx0)}+${num(c.cx1 - c.cx0)}*on/${last})*(iw-iw/zoom)`;
      const y = `(${num(c.cy0)}+${num(c.cy1 - c.cy0)}*on/${last})*(ih-ih/zoom)`;
      head = `zoompan=z=${q(z)}:x=${q(x)}:y=${q(y)}:d=1:s=${IW}x${IH}:fps=${fps},trim=end_frame=${n}`;
    } else {
      const r = inp.reals[s.source.real]!;
      const srcFps = inp.realFps.get(r.file) ?? 30;
      args.push('-t', num((s.source.offset + n) / srcFps + 2), '-i', r.file);
      head = `trim=start_frame=${s.source.offset}:end_frame=${s.source.offset + n},setpts=PTS-STARTPTS,scale=${IW}:${IH}:force_original_aspect_ratio=increase,crop=${IW}:${IH}`;
    }
    const crop = cropExpr(s, IW - W, IH - H);
    chains.push(`[${i}:v]${head},setsar=1,format=yuv420p,${norm},crop=${W}:${H}:x=${q(crop.x)}:y=${q(crop.y)}:exact=1,format=yuv420p[s${i}]`);
  });
  // Joins, in order: xfade for gradual transitions (offset k, duration m frames), concat for cuts.
  let acc = 's0';
  plan.transitions.forEach((t, j) => {
    const next = `j${j}`;
    if (t.kind === 'cut') chains.push(`[${acc}][s${t.shot}]concat=n=2:v=1:a=0,${norm}[${next}]`);
    else chains.push(`[${acc}][s${t.shot}]xfade=transition=${t.family}:duration=${num(t.xfade_frames / fps)}:offset=${num(t.offset_frame / fps)},${norm}[${next}]`);
    acc = next;
  });
  // Objects: photo cards crossing the frame (one looped input each).
  let inputIndex = shots.length;
  const post: string[] = [];
  for (const d of plan.distractors) {
    if (d.kind !== 'object') continue;
    args.push('-loop', '1', '-framerate', String(fps), '-i', inp.photos[d.photo ?? 0]!);
    const h = Math.round((H * (d.size ?? 0.4)) / 2) * 2;
    const w = Math.round((h * 1.4) / 2) * 2;
    chains.push(`[${inputIndex}:v]scale=${w}:${h},format=yuva420p[o${inputIndex}]`);
    const t0 = d.start_frame / fps;
    const dur = (d.end_frame - d.start_frame) / fps;
    const p = `clip((t-${num(t0)})/${num(dur)},0,1)`;
    const x = d.dir === -1 ? `W-(W+w)*${p}` : `-w+(W+w)*${p}`;
    const next = `b${inputIndex}`;
    chains.push(`[${acc}][o${inputIndex}]overlay=x=${q(x)}:y=${Math.round((d.y ?? 0.3) * H)}:shortest=1:enable=${q(`between(n,${d.start_frame},${d.end_frame})`)}[${next}]`);
    acc = next;
    inputIndex++;
  }
  // Exposure changes: brightness ramps up over 4 frames, holds, ramps back.
  const exposure = plan.distractors.filter((d) => d.kind === 'exposure');
  if (exposure.length > 0) {
    const b = exposure.map((d) => `${num(d.level ?? 0.15)}*max(0,min(min((n-${d.start_frame}+1)/4,(${d.end_frame}-n+1)/4),1))`).join('+');
    post.push(`eq=brightness=${q(b)}:eval=frame`);
  }
  // Flashes: white over the whole frame, decaying.
  for (const d of plan.distractors) {
    if (d.kind !== 'flash') continue;
    for (let f = d.start_frame, a = d.level ?? 0.9; f <= d.end_frame; f++, a *= 0.6) post.push(`drawbox=x=0:y=0:w=iw:h=ih:color=white@${num(a)}:t=fill:enable=${q(`eq(n,${f})`)}`);
  }
  const text = existsSync(FONT);
  if (plan.overlays.logo) {
    post.push(`drawbox=x=iw-${Math.round(W * 0.22)}:y=${Math.round(H * 0.05)}:w=${Math.round(W * 0.19)}:h=${Math.round(H * 0.1)}:color=0x1a3a8a@0.8:t=fill`);
    if (text) post.push(`drawtext=fontfile=${FONT}:text='XF 24':x=w-${Math.round(W * 0.2)}:y=${Math.round(H * 0.068)}:fontsize=${Math.round(H * 0.06)}:fontcolor=white`);
  }
  if (plan.overlays.ticker) {
    const bh = Math.round(H * 0.09);
    post.push(`drawbox=x=0:y=ih-${bh}:w=iw:h=${bh}:color=black@0.7:t=fill`);
    if (text) post.push(`drawtext=fontfile=${FONT}:text='MARKETS  +0.4 pct   WEATHER  rain later   SPORT  3 - 1 final   TRAFFIC  delays on the bridge':x=${q('w-mod(t*110,w+tw)')}:y=h-${Math.round(bh * 0.8)}:fontsize=${Math.round(bh * 0.55)}:fontcolor=white`);
  }
  if (text) {
    for (const s of plan.overlays.subtitles) {
      post.push(`drawtext=fontfile=${FONT}:text='${s.text}':x=(w-tw)/2:y=h-${Math.round(H * 0.22)}:fontsize=${Math.round(H * 0.065)}:fontcolor=white:borderw=2:bordercolor=black:enable=${q(`between(n,${s.from},${s.to})`)}`);
    }
  }
  post.push('format=yuv420p');
  chains.push(`[${acc}]${post.join(',')}[out]`);
  const graph = chains.join(';\n') + '\n';
  args.push('-filter_complex_script', graphFile, '-map', '[out]', '-an', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '21', '-g', '250', '-pix_fmt', 'yuv420p', '-threads', '2', outFile);
  return { args, graph };
}

/** Scale and crop each photo to `2w x 2h` PNG in `dir` (zoompan works on these). */
export async function preparePhotos(ffmpeg: string, photos: readonly string[], dir: string, w: number, h: number): Promise<string[]> {
  const out: string[] = [];
  for (const [i, p] of photos.entries()) {
    const file = path.join(dir, `photo${i}.png`);
    const r = await run(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-i', p, '-vf', `scale=${2 * w}:${2 * h}:force_original_aspect_ratio=increase:flags=lanczos,crop=${2 * w}:${2 * h},format=rgb24`, '-frames:v', '1', file]);
    if (r.code !== 0) throw new XfadeError('FFMPEG_FAILED', `preparing ${p}: ${r.stderr.trim()}`);
    out.push(file);
  }
  return out;
}

/** Frames of a video as ffprobe counts its packets (one per frame for H.264 without B-frame tricks). */
export async function countFrames(ffprobe: string, file: string): Promise<number> {
  const r = await run(ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', file]);
  return Number(r.stdout.trim());
}

async function sourceFps(ffprobe: string, file: string): Promise<number> {
  const r = await run(ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=avg_frame_rate', '-of', 'csv=p=0', file]);
  const [a, b] = r.stdout.trim().split('/').map(Number);
  return a !== undefined && b !== undefined && b > 0 ? a / b : 30;
}

/** Options of {@link generateXfadeCorpus}. */
export interface XfadeCorpusOptions {
  out: string;
  seed: number;
  /** Clips; every fourth is a distractor clip (one shot, two events). */
  clips: number;
  ffmpeg?: string | undefined;
  /** Photo files (default: skimage's colour photos). */
  photos?: readonly string[] | undefined;
  /** truth.json folder for real shots (default ../shared/media/real; '' for none). */
  real?: string | undefined;
  width?: number | undefined;
  height?: number | undefined;
  /** Override the per-clip schedule (tests). */
  schedule?: { gradual?: number; cuts?: number; montages?: number; distractors?: number } | undefined;
  /** Role of every clip instead of the default pattern (tests). */
  role?: 'transitions' | 'distractors' | undefined;
  signal?: AbortSignal | undefined;
  onClip?: ((name: string, index: number, clips: number) => void) | undefined;
}

/** What {@link generateXfadeCorpus} made. */
export interface XfadeManifest {
  ffmpeg: string;
  version: string;
  seed: number;
  photos: number;
  real_sources: number;
  clips: { name: string; frames: number; fps: number; role: string; transitions: number; distractors: number }[];
  transitions: Record<string, number>;
  families: Record<string, number>;
  distractors: Record<string, number>;
  frames: number;
}

/** Plan and render a corpus into `out`: `<name>.mp4` + `<name>.json` per clip (the `scenescope` format). */
export async function generateXfadeCorpus(o: XfadeCorpusOptions): Promise<XfadeManifest> {
  const ffmpeg = o.ffmpeg ?? DEFAULT_XFADE_FFMPEG;
  const version = await checkXfadeFfmpeg(ffmpeg);
  const ffprobe = path.join(path.dirname(ffmpeg), 'ffprobe');
  const width = o.width ?? 640;
  const height = o.height ?? 360;
  const photoFiles = o.photos ?? (await listPhotoFiles(SKIMAGE_DATA, SKIMAGE_PHOTOS));
  const realDir = o.real ?? path.resolve('..', 'shared', 'media', 'real');
  const reals = realDir === '' ? [] : await realShotSources(realDir);
  if (photoFiles.length === 0) throw new XfadeError('NO_SOURCES', `No photos: install Debian's python3-skimage (${SKIMAGE_DATA}) or pass --photos DIR`);
  await mkdir(o.out, { recursive: true });
  const work = await mkdtemp(path.join(tmpdir(), 'xfade-work-'));
  try {
    const IW = Math.round((width * 1.25) / 2) * 2;
    const IH = Math.round((height * 1.25) / 2) * 2;
    const photos = await preparePhotos(ffmpeg, photoFiles, work, IW, IH);
    const realFps = new Map<string, number>();
    for (const r of reals) if (!realFps.has(r.file)) realFps.set(r.file, await sourceFps(ffprobe, r.file));
    const rng = new Rng(o.seed * 2654435761 + 12345);
    const deck = new FamilyDeck(rng);
    const manifest: XfadeManifest = { ffmpeg, version, seed: o.seed, photos: photos.length, real_sources: reals.length, clips: [], transitions: {}, families: {}, distractors: {}, frames: 0 };
    for (let i = 0; i < o.clips; i++) {
      const name = `xf${String(i + 1).padStart(2, '0')}`;
      o.onClip?.(name, i, o.clips);
      const fps = i % 2 === 0 ? 25 : 30;
      const role = o.role ?? (i % 4 === 3 ? 'distractors' : 'transitions');
      const plan = planXfadeClip({ name, fps, role, rng, deck, photos: photos.length, reals, ...o.schedule });
      const video = path.join(o.out, `${name}.mp4`);
      const graphFile = path.join(work, `${name}.graph`);
      const { args, graph } = clipCommand(plan, { photos, reals, realFps, width, height }, video, graphFile);
      await writeFile(graphFile, graph);
      const r = await run(ffmpeg, args, o.signal);
      if (r.code !== 0) throw new XfadeError('FFMPEG_FAILED', `${name}: ffmpeg exited ${r.code}: ${r.stderr.trim().slice(-2000)}`);
      const frames = await countFrames(ffprobe, video);
      if (frames !== plan.frame_count) throw new XfadeError('FRAME_COUNT', `${name}: planned ${plan.frame_count} frames, the encoded clip has ${frames}`);
      const truth = {
        schema: 'scenescope-corpus/2',
        generator: 'xfade',
        generator_version: 1,
        ffmpeg: version,
        name,
        video: `${name}.mp4`,
        width,
        height,
        frame_rate: fps,
        frame_count: plan.frame_count,
        seed: o.seed,
        role,
        transitions: plan.transitions.map(({ kind, family, start_frame, end_frame, frame, xfade_frames, offset_frame, role: tr }) => ({ kind, family, start_frame, end_frame, frame, xfade_frames, offset_frame, ...(tr === undefined ? {} : { role: tr }) })),
        distractors: plan.distractors.map(({ kind, start_frame, end_frame, what }) => ({ kind, start_frame, end_frame, what })),
        overlays: plan.overlays,
        shots: plan.shots.map((s) => ({
          first: s.first,
          frames: s.frames,
          source: s.source.type === 'photo' ? `photo:${path.basename(photoFiles[s.source.photo]!)}` : `${path.basename(reals[s.source.real]!.file)}@${s.source.offset}`,
          camera: s.camera,
        })),
      };
      await writeFile(path.join(o.out, `${name}.json`), JSON.stringify(truth, null, 1) + '\n');
      manifest.clips.push({ name, frames, fps, role, transitions: plan.transitions.length, distractors: plan.distractors.length });
      manifest.frames += frames;
      for (const t of plan.transitions) {
        manifest.transitions[t.kind] = (manifest.transitions[t.kind] ?? 0) + 1;
        const f = t.role === 'montage' ? 'cut:montage' : t.family;
        manifest.families[f] = (manifest.families[f] ?? 0) + 1;
      }
      for (const d of plan.distractors) manifest.distractors[d.kind] = (manifest.distractors[d.kind] ?? 0) + 1;
    }
    return manifest;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
