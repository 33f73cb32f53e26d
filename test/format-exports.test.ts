import { suite, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { toCsv, toEdl, toOtio, toVtt, exportResult, timecodeRate, timecodeToFrame, parseClock, CSV_COLUMNS, type ExportableResult, type ExportFormat } from '../src/format/index.js';
import type { BoundaryKind } from '../src/detect/types.js';

/** A result as `scenescope detect --format json` prints it, built from boundary frames. */
function makeResult(fps: number, frameCount: number, cuts: { frame: number; kind: BoundaryKind; span?: number }[]): ExportableResult {
  const boundaries = cuts.map(({ frame, kind, span = 0 }) => ({ frame, time: frame / fps, kind, start_frame: frame - span, end_frame: frame + span, confidence: 0.875, detector: 'test' }));
  const starts = [0, ...cuts.map((c) => c.frame)];
  const scenes = starts.map((start, i) => {
    const end = starts[i + 1] ?? frameCount;
    return { scene_index: i, start_frame: start, end_frame: end, start_time: start / fps, end_time: end / fps, time_range_formatted: '' };
  });
  return { video: { frame_rate: fps, duration_seconds: frameCount / fps }, frame_rate: fps, frame_count: frameCount, boundaries, scenes };
}

const NTSC = makeResult(30000 / 1001, 30000, [
  { frame: 1798, kind: 'cut' },
  { frame: 1800, kind: 'dissolve', span: 8 },
  { frame: 17982, kind: 'fade', span: 12 },
  { frame: 20000, kind: 'wipe', span: 5 },
]);
const PAL = makeResult(25, 100, [{ frame: 25, kind: 'cut' }]);

/** RFC 4180 reader: quoted fields, doubled quotes, CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let fieldText = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (fieldText += '"'), i++;
      else if (c === '"') quoted = false;
      else fieldText += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(fieldText), (fieldText = '');
    else if (c === '\r' && text[i + 1] === '\n') {
      row.push(fieldText), rows.push(row), (row = []), (fieldText = ''), i++;
    } else fieldText += c;
  }
  assert.equal(fieldText, '', 'CSV ends with CRLF');
  return rows;
}

interface EdlEvent {
  number: number;
  reel: string;
  codes: string[];
  srcIn: number;
  srcOut: number;
  recIn: number;
  recOut: number;
  comments: string[];
}

/** CMX 3600 reader: TITLE, FCM, event lines (timecodes parsed back at the clip's rate) and their comments. */
function parseEdl(text: string, fps: number): { title: string; dropFrame: boolean; events: EdlEvent[] } {
  const lines = text.split('\n');
  const title = /^TITLE: (.+)$/.exec(lines[0] ?? '')?.[1];
  const fcm = /^FCM: (DROP FRAME|NON-DROP FRAME)$/.exec(lines[1] ?? '')?.[1];
  assert.ok(title !== undefined && fcm !== undefined, 'TITLE and FCM lines');
  const dropFrame = fcm === 'DROP FRAME';
  const rate = timecodeRate(fps, { dropFrame });
  const tc = '(\\d{2}:\\d{2}:\\d{2}[:;]\\d{2})';
  const eventLine = new RegExp(`^(\\d{3,})  (\\S+)\\s+V\\s+C\\s+${tc} ${tc} ${tc} ${tc}$`);
  const events: EdlEvent[] = [];
  for (const line of lines.slice(2)) {
    if (line === '') continue;
    const m = eventLine.exec(line);
    if (m !== null) {
      const codes = m.slice(3, 7);
      for (const code of codes) assert.equal(code.includes(';'), dropFrame, `separator of ${code} matches FCM`);
      const [srcIn, srcOut, recIn, recOut] = codes.map((c) => timecodeToFrame(c, rate)) as [number, number, number, number];
      events.push({ number: Number(m[1]), reel: m[2]!, codes, srcIn, srcOut, recIn, recOut, comments: [] });
    } else if (line.startsWith('* ') && events.length > 0) events[events.length - 1]!.comments.push(line.slice(2));
    else assert.fail(`unexpected EDL line ${JSON.stringify(line)}`);
  }
  return { title, dropFrame, events };
}

/** WebVTT reader: header, then cues of id, timing line, text. */
function parseVtt(text: string): { id: string; start: number; end: number; text: string }[] {
  const blocks = text.split(/\n\n+/).filter((b) => b.trim() !== '');
  assert.equal(blocks[0], 'WEBVTT');
  return blocks.slice(1).map((block) => {
    const [id, timing, ...body] = block.trimEnd().split('\n');
    const m = /^(\S+) --> (\S+)$/.exec(timing ?? '');
    assert.ok(m !== null, `timing line ${JSON.stringify(timing)}`);
    return { id: id!, start: parseClock(m[1]!), end: parseClock(m[2]!), text: body.join('\n') };
  });
}

suite('exports', () => {
  test('CSV has one row per scene with frames, times, drop-frame timecodes, kind and confidence', () => {
    const rows = parseCsv(toCsv(NTSC));
    assert.deepEqual(rows[0], [...CSV_COLUMNS]);
    assert.equal(rows.length - 1, NTSC.scenes.length);
    const col = (name: (typeof CSV_COLUMNS)[number]): number => CSV_COLUMNS.indexOf(name);
    const rate = timecodeRate(30000 / 1001);
    let expectedStart = 0;
    for (const [i, row] of rows.slice(1).entries()) {
      const scene = NTSC.scenes[i]!;
      assert.equal(Number(row[col('scene')]), i + 1);
      assert.equal(Number(row[col('start_frame')]), expectedStart);
      assert.equal(Number(row[col('end_frame')]), scene.end_frame);
      assert.equal(timecodeToFrame(row[col('start_timecode')]!, rate), scene.start_frame);
      assert.equal(timecodeToFrame(row[col('end_timecode')]!, rate), scene.end_frame);
      assert.ok(Math.abs(Number(row[col('start_time')]) - scene.start_time) < 1e-6);
      assert.equal(Number(row[col('duration_frames')]), scene.end_frame - scene.start_frame);
      expectedStart = scene.end_frame;
    }
    assert.equal(expectedStart, NTSC.frame_count);
    assert.equal(rows[1]![col('kind')], '');
    assert.equal(rows[2]![col('start_timecode')], '00:00:59;28');
    assert.equal(rows[2]![col('kind')], 'cut');
    assert.equal(rows[3]![col('start_timecode')], '00:01:00;02');
    assert.equal(rows[3]![col('kind')], 'dissolve');
    assert.equal(rows[4]![col('start_timecode')], '00:10:00;00');
    assert.equal(rows[4]![col('confidence')], '0.875');
  });

  test('EDL writes the CMX 3600 event layout exactly', () => {
    const text = toEdl(PAL, { source: '/media/clip one.mp4' });
    const lines = text.split('\n');
    assert.equal(lines[0], 'TITLE: clip one.mp4');
    assert.equal(lines[1], 'FCM: NON-DROP FRAME');
    assert.equal(lines[3], '001  AX       V     C        00:00:00:00 00:00:01:00 00:00:00:00 00:00:01:00');
    assert.equal(lines[4], '* FROM CLIP NAME: clip one.mp4');
  });

  test('EDL at 29.97 is drop-frame and frame-exact, events contiguous from 0 to the last frame', () => {
    const parsed = parseEdl(toEdl(NTSC, { source: 'clip.mp4', title: 'Reel 1' }), 30000 / 1001);
    assert.equal(parsed.title, 'Reel 1');
    assert.equal(parsed.dropFrame, true);
    assert.equal(parsed.events.length, NTSC.scenes.length);
    let record = 0;
    for (const [i, event] of parsed.events.entries()) {
      const scene = NTSC.scenes[i]!;
      assert.equal(event.number, i + 1);
      assert.equal(event.reel, 'AX');
      assert.deepEqual([event.srcIn, event.srcOut], [scene.start_frame, scene.end_frame]);
      assert.equal(event.recIn, record);
      record = event.recOut;
    }
    assert.equal(record, NTSC.frame_count);
    assert.ok(parsed.events[2]!.comments.some((c) => c.includes('dissolve')));
  });

  test('EDL at 29.97 can be written non-drop on request', () => {
    const parsed = parseEdl(toEdl(NTSC, { dropFrame: false }), 30000 / 1001);
    assert.equal(parsed.dropFrame, false);
    assert.equal(parsed.events[1]!.srcIn, 1798);
  });

  test('OTIO follows the Timeline > Stack > Track > Clip schema with ranges at the real rate', () => {
    const source = path.resolve('/media/my clip#1.mp4');
    const doc = JSON.parse(toOtio(NTSC, { source })) as Record<string, any>;
    assert.equal(doc.OTIO_SCHEMA, 'Timeline.1');
    assert.equal(doc.name, 'my clip#1.mp4');
    assert.equal(doc.tracks.OTIO_SCHEMA, 'Stack.1');
    assert.equal(doc.tracks.children.length, 1);
    const track = doc.tracks.children[0];
    assert.equal(track.OTIO_SCHEMA, 'Track.1');
    assert.equal(track.kind, 'Video');
    assert.equal(track.children.length, NTSC.scenes.length);
    let next = 0;
    let total = 0;
    for (const [i, clip] of (track.children as any[]).entries()) {
      assert.equal(clip.OTIO_SCHEMA, 'Clip.2');
      assert.equal(clip.name, `Scene ${i + 1}`);
      const range = clip.source_range;
      assert.equal(range.OTIO_SCHEMA, 'TimeRange.1');
      for (const t of [range.start_time, range.duration]) {
        assert.equal(t.OTIO_SCHEMA, 'RationalTime.1');
        assert.equal(t.rate, 30000 / 1001);
        assert.ok(Number.isInteger(t.value));
      }
      assert.equal(range.start_time.value, next);
      next = range.start_time.value + range.duration.value;
      total += range.duration.value;
      const ref = clip.media_references[clip.active_media_reference_key];
      assert.equal(ref.OTIO_SCHEMA, 'ExternalReference.1');
      assert.ok(ref.target_url.startsWith('file:///'));
      assert.equal(fileURLToPath(ref.target_url), source);
      assert.equal(ref.available_range.duration.value, NTSC.frame_count);
    }
    assert.equal(total, NTSC.frame_count);
    assert.equal(track.children[4].metadata.scenescope.opened_by.kind, 'wipe');
  });

  test('OTIO at 25 fps counts at rate 25, and without a source the media is a MissingReference', () => {
    const doc = JSON.parse(toOtio(PAL)) as Record<string, any>;
    const clip = doc.tracks.children[0].children[1];
    assert.equal(clip.source_range.start_time.rate, 25);
    assert.equal(clip.source_range.start_time.value, 25);
    assert.equal(clip.media_references.DEFAULT_MEDIA.OTIO_SCHEMA, 'MissingReference.1');
  });

  test('WebVTT has one chapter cue per scene, contiguous, at the scenes\' times', () => {
    const cues = parseVtt(toVtt(NTSC));
    assert.equal(cues.length, NTSC.scenes.length);
    for (const [i, cue] of cues.entries()) {
      const scene = NTSC.scenes[i]!;
      assert.equal(cue.id, String(i + 1));
      assert.equal(cue.text, `Scene ${i + 1}`);
      assert.ok(Math.abs(cue.start - scene.start_time) <= 0.0005);
      assert.ok(Math.abs(cue.end - scene.end_time) <= 0.0005);
      assert.ok(cue.end > cue.start);
      if (i > 0) assert.equal(cue.start, cues[i - 1]!.end);
    }
  });

  test('bad formats and options are refused with the standard message', () => {
    assert.throws(() => exportResult(PAL, 'xml' as ExportFormat), { message: 'Expected one of "csv", "edl", "otio", "vtt" for format but received "xml" of type string' });
    assert.throws(() => toEdl(PAL, { sorce: 'x' } as never), { message: 'Unknown option "sorce" in toEdl options; did you mean "source"?' });
    assert.throws(() => toCsv({ ...PAL, frame_rate: 0 }), { message: 'Expected positive number for result.frame_rate but received 0 of type number' });
    assert.equal(exportResult(PAL, 'vtt'), toVtt(PAL));
  });
});
