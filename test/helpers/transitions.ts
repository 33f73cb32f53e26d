/** A generated clip with every kind of transition, for the windowed-detection tests and benchmarks. */
import { ffmpeg, shot } from './clips.js';

/** Frame rate of the clip. */
export const RATE = 25;

/**
 * A 38 s clip with every kind of transition: cuts, a dissolve, a slide (a wipe-like gradual change), a fade
 * out into a 9 s black hold (longer than the windows' margin, so a run must be seen whole) left by a cut, a
 * fade through black, a two-frame white flash, a dip through white. Only cheap filters (the bundled ffmpeg has
 * no xfade, and per-pixel blend expressions take a minute on a busy machine).
 */
export async function transitionsClip(file: string): Promise<void> {
  const shots = [
    { kind: 0, seconds: 4 },
    { kind: 1, seconds: 3 },
    { kind: 4, seconds: 4 },
    { kind: 3, seconds: 3.5 },
    { kind: 0, seconds: 4 },
    { kind: 4, seconds: 3 },
    { kind: 1, seconds: 3 },
    { kind: 4, seconds: 3 },
  ];
  // Between shot i and i+1.
  const joins: (['dissolve' | 'slide', number] | ['black' | 'white', number] | ['cut'] | ['hold'])[] = [['cut'], ['dissolve', 0.8], ['slide', 0.5], ['hold'], ['black', 0.5], ['cut'], ['white', 0.3]];
  const inputs: string[] = [];
  for (const s of shots) inputs.push('-f', 'lavfi', '-t', String(s.seconds), '-i', shot(s.kind, '320x180', RATE, s.seconds));
  inputs.push('-f', 'lavfi', '-t', '9', '-i', `color=black:size=320x180:rate=${RATE}`);
  inputs.push('-f', 'lavfi', '-t', '1', '-i', `color=black:size=320x180:rate=${RATE}`);
  const graph: string[] = shots.map((_, i) => `[${i}:v]setsar=1,fps=${RATE},format=yuv420p[s${i}]`);
  graph.push(`[${shots.length}:v]setsar=1,format=yuv420p[hold]`, `[${shots.length + 1}:v]setsar=1,format=yuv420p[dip]`);
  let last = 's0';
  let length = shots[0]!.seconds;
  joins.forEach((join, j) => {
    const next = `s${j + 1}`;
    const out = `j${j}`;
    const lb = shots[j + 1]!.seconds;
    switch (join[0]) {
      case 'cut':
        graph.push(`[${last}][${next}]concat=n=2:v=1:a=0[${out}]`);
        length += lb;
        break;
      case 'hold':
        // Fade out into a long black hold; the next shot starts with a cut out of the black.
        graph.push(`[${last}]fade=t=out:st=${length - 1}:d=1[fo${j}]`, `[fo${j}][hold][${next}]concat=n=3:v=1:a=0[${out}]`);
        length += 9 + lb;
        break;
      case 'black':
        graph.push(`[${last}]fade=t=out:st=${length - join[1]}:d=${join[1]}[fo${j}]`, `[${next}]fade=t=in:st=0:d=${join[1]}[fi${j}]`, `[fo${j}][dip][fi${j}]concat=n=3:v=1:a=0[${out}]`);
        length += 1 + lb;
        break;
      case 'white':
        graph.push(`[${last}]fade=t=out:st=${length - join[1]}:d=${join[1]}:color=white[fo${j}]`, `[${next}]fade=t=in:st=0:d=${join[1]}:color=white[fi${j}]`, `[fo${j}][fi${j}]concat=n=2:v=1:a=0[${out}]`);
        length += lb;
        break;
      default: {
        // Blend the last `d` seconds of what came before with the first `d` of the next shot (only those frames
        // go through the per-pixel expression, which is slow).
        const d = join[1];
        const t0 = length - d;
        const mix = join[0] === 'dissolve' ? `A+(B-A)*min(1,T/${d})` : `if(lt(X,W*min(1,T/${d})),B,A)`;
        graph.push(
          `[${last}]split[l${j}][m${j}]`,
          `[l${j}]trim=end=${t0},setpts=PTS-STARTPTS[h${j}]`,
          `[m${j}]trim=start=${t0},setpts=PTS-STARTPTS,format=gbrp[ta${j}]`,
          `[${next}]split[n${j}][o${j}]`,
          `[n${j}]trim=end=${d},setpts=PTS-STARTPTS,format=gbrp[hb${j}]`,
          `[o${j}]trim=start=${d},setpts=PTS-STARTPTS[tb${j}]`,
          `[ta${j}][hb${j}]blend=all_expr='${mix}',format=yuv420p[x${j}]`,
          `[h${j}][x${j}][tb${j}]concat=n=3:v=1:a=0[${out}]`,
        );
        length += lb - d;
      }
    }
    last = out;
  });
  const flashAt = 27;
  graph.push(`[${last}]drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='between(t,${flashAt},${flashAt + 1.5 / RATE})'[v]`);
  await ffmpeg([...inputs, '-filter_complex', graph.join(';'), '-map', '[v]', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-g', '50', file]);
}
