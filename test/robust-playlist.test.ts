/**
 * Issue 12, item 5: playlists and reference lists that try to get past the sniffing (an ID3v2 tag before
 * `#EXTM3U` or an ffconcat header, a comment before `<MPD`), and an image-sequence pattern, must be refused
 * before ffprobe opens any other file. Each list names a FIFO; a watcher polls it with a non-blocking open for
 * writing, which succeeds only while someone has it open for reading, so "ffprobe opened it" is observable and
 * can never block the test.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, copyFileSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite, test } from 'node:test';
import { detectScenes } from '../src/api/detect.js';
import { ScenescopeError } from '../src/errors.js';
import { safeInputArgs } from '../src/media/ffmpeg.js';
import { probe } from '../src/media/probe.js';
import { ffmpeg, tempDir } from './helpers/clips.js';

const dir = tempDir('scenescope-playlist-');

/** A FIFO and a watcher that records whether any process opened it for reading. */
function fifoWatcher(file: string): { opened: () => boolean; stop: () => void } {
  execFileSync('mkfifo', [file]);
  let opened = false;
  const timer = setInterval(() => {
    try {
      closeSync(openSync(file, constants.O_WRONLY | constants.O_NONBLOCK));
      opened = true; // a reader exists; closing our end gives it EOF, so it cannot hang either
    } catch {
      // ENXIO: nobody is reading. Good.
    }
  }, 2);
  return { opened: () => opened, stop: () => clearInterval(timer) };
}

/** An ID3v2.3 tag of `bodyBytes` padding bytes. */
function id3(bodyBytes: number): Buffer {
  const size = [(bodyBytes >> 21) & 0x7f, (bodyBytes >> 14) & 0x7f, (bodyBytes >> 7) & 0x7f, bodyBytes & 0x7f];
  return Buffer.concat([Buffer.from('ID3'), Buffer.from([3, 0, 0, ...size]), Buffer.alloc(bodyBytes)]);
}

async function refused(file: string, watcher: { opened: () => boolean; stop: () => void }, code = 'EXTERNAL_REFERENCE'): Promise<void> {
  try {
    await assert.rejects(detectScenes(file), (error: unknown) => {
      assert.ok(error instanceof ScenescopeError, String(error));
      assert.equal(error.code, code, error.message);
      return true;
    });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(watcher.opened(), false, 'the FIFO named by the list was opened');
  } finally {
    watcher.stop();
  }
}

suite('playlists that hide their header are refused before ffprobe opens what they name', () => {
  test('an ID3v2 tag before #EXTM3U', async () => {
    const fifo = path.join(dir, 'hls-segment.ts');
    const watcher = fifoWatcher(fifo);
    const file = path.join(dir, 'id3-hls.m3u8');
    writeFileSync(file, Buffer.concat([id3(32), Buffer.from(`#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n${fifo}\n#EXT-X-ENDLIST\n`)]));
    await refused(file, watcher);
  });

  test('an ID3v2 tag before an ffconcat header, also with a large tag and a .mp4 name', async () => {
    const fifo = path.join(dir, 'concat-part.ts');
    const watcher = fifoWatcher(fifo);
    const small = path.join(dir, 'id3-concat.txt');
    // A relative name: the concat demuxer's safe mode refuses absolute ones, not these.
    writeFileSync(small, Buffer.concat([id3(16), Buffer.from(`ffconcat version 1.0\nfile '${path.basename(fifo)}'\n`)]));
    const large = path.join(dir, 'id3-concat-large.mp4');
    writeFileSync(large, Buffer.concat([id3(200_000), Buffer.from(`ffconcat version 1.0\nfile '${path.basename(fifo)}'\n`)]));
    try {
      await refused(small, { opened: watcher.opened, stop: () => undefined });
      await refused(large, { opened: watcher.opened, stop: () => undefined });
    } finally {
      watcher.stop();
    }
  });

  test('a comment before <MPD', async () => {
    const fifo = path.join(dir, 'dash-init.mp4');
    const watcher = fifoWatcher(fifo);
    const file = path.join(dir, 'comment.mpd');
    writeFileSync(
      file,
      `<!-- generated -->\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT2S"><Period><AdaptationSet><Representation id="1" bandwidth="1000"><BaseURL>${fifo}</BaseURL></Representation></AdaptationSet></Period></MPD>\n`,
    );
    await refused(file, watcher);
  });

  test('an image-sequence pattern does not make ffprobe read its siblings', async () => {
    const sub = path.join(dir, 'sequence');
    mkdirSync(sub);
    const png = path.join(sub, 'frame%d.png');
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=64x36:rate=1:duration=1', '-frames:v', '1', '-f', 'image2', '-update', '1', path.join(sub, 'seed.png')]);
    copyFileSync(path.join(sub, 'seed.png'), png);
    const watcher = fifoWatcher(path.join(sub, 'frame1.png'));
    await refused(png, watcher, 'STILL_IMAGE');
  });

  test('ffprobe and ffmpeg get a demuxer whitelist without the reference demuxers', async () => {
    const { resolveFfmpegPaths } = await import('../src/media/ffmpeg.js');
    const { ffprobe } = resolveFfmpegPaths();
    const args = safeInputArgs(ffprobe);
    assert.equal(args[0], '-protocol_whitelist');
    const formats = args[args.indexOf('-format_whitelist') + 1]!.split(',');
    assert.ok(formats.includes('matroska') && formats.includes('mov') && formats.includes('png_pipe'));
    for (const denied of ['hls', 'concat', 'image2', 'sdp', 'rtsp', 'lavfi']) assert.ok(!formats.includes(denied), denied);
    // Without probe()'s sniffing, ffprobe itself refuses a concat list behind an ID3 tag, before it opens the FIFO.
    const fifo = path.join(dir, 'whitelist-part.ts');
    const watcher = fifoWatcher(fifo);
    const list = path.join(dir, 'whitelist.txt');
    writeFileSync(list, Buffer.concat([id3(8), Buffer.from(`ffconcat version 1.0\nfile '${fifo}'\n`)]));
    const { runTool, fileUrl } = await import('../src/media/ffmpeg.js');
    try {
      const result = await runTool(ffprobe, ['-v', 'error', ...args, '-show_format', fileUrl(list)], { timeoutMs: 10_000 });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /Format not on whitelist/);
      assert.equal(watcher.opened(), false);
    } finally {
      watcher.stop();
    }
    await assert.rejects(probe(list), (e: unknown) => e instanceof ScenescopeError && e.code === 'EXTERNAL_REFERENCE');
  });
});
