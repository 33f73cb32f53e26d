import { suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { frameToTimecode, timecodeToFrame, timecodeRate, rationalRate, formatClock, parseClock } from '../src/format/index.js';
import { ScenescopeError } from '../src/errors.js';

suite('SMPTE timecode', () => {
  test('29.97 drop-frame skips ;00 and ;01 at each minute except every tenth', () => {
    const rate = timecodeRate(30000 / 1001);
    assert.equal(rate.dropFrame, true);
    assert.equal(frameToTimecode(1798, rate), '00:00:59;28');
    assert.equal(frameToTimecode(1799, rate), '00:00:59;29');
    assert.equal(frameToTimecode(1800, rate), '00:01:00;02');
    assert.equal(frameToTimecode(17981, rate), '00:09:59;29');
    assert.equal(frameToTimecode(17982, rate), '00:10:00;00');
    assert.equal(frameToTimecode(17983, rate), '00:10:00;01');
    assert.equal(frameToTimecode(107892, rate), '01:00:00;00');
  });

  test('59.94 drop-frame skips four labels per minute', () => {
    const rate = timecodeRate(60000 / 1001);
    assert.equal(frameToTimecode(3596, rate), '00:00:59;56');
    assert.equal(frameToTimecode(3600, rate), '00:01:00;04');
    assert.equal(frameToTimecode(35964, rate), '00:10:00;00');
  });

  test('drop-frame labels parse back to the same frame for every frame of 40 minutes', () => {
    for (const fps of [30000 / 1001, 60000 / 1001]) {
      const rate = timecodeRate(fps);
      let previous = '';
      for (let frame = 0; frame < fps * 2400; frame += 1) {
        const label = frameToTimecode(frame, rate);
        assert.ok(label > previous, `${label} after ${previous}`);
        previous = label;
        if (timecodeToFrame(label, rate) !== frame) assert.fail(`${label} parsed to ${timecodeToFrame(label, rate)}, not ${frame}`);
      }
    }
  });

  test('non-drop rates count plainly at the integer timebase', () => {
    assert.equal(frameToTimecode(90000, timecodeRate(25)), '01:00:00:00');
    assert.equal(frameToTimecode(1799, timecodeRate(30)), '00:00:59:29');
    const ndf = timecodeRate(30000 / 1001, { dropFrame: false });
    assert.equal(frameToTimecode(1800, ndf), '00:01:00:00');
    const film = timecodeRate(24000 / 1001);
    assert.deepEqual([film.base, film.dropFrame, film.num, film.den], [24, false, 24000, 1001]);
    assert.equal(timecodeToFrame('00:00:10:12', timecodeRate(25)), 262);
  });

  test('float frame rates become their exact rationals', () => {
    assert.deepEqual(rationalRate(29.97), { num: 30000, den: 1001 });
    assert.deepEqual(rationalRate(29.97002997002997), { num: 30000, den: 1001 });
    assert.deepEqual(rationalRate(59.94), { num: 60000, den: 1001 });
    assert.deepEqual(rationalRate(25), { num: 25, den: 1 });
    assert.deepEqual(rationalRate(12.5), { num: 25, den: 2 });
  });

  test('labels that drop-frame skips, malformed labels and drop-frame at 25 fps are refused', () => {
    const df = timecodeRate(29.97);
    assert.throws(() => timecodeToFrame('00:01:00;00', df), { message: 'Timecode 00:01:00;00 does not exist in drop-frame (labels ;00-;01 are skipped)' });
    assert.equal(timecodeToFrame('00:10:00;00', df), 17982);
    assert.throws(() => timecodeToFrame('1:2:3', df), (error: unknown) => error instanceof ScenescopeError && error.code === 'INVALID_OPTION');
    assert.throws(() => timecodeRate(25, { dropFrame: true }), { message: 'Drop-frame timecode needs a 29.97 or 59.94 fps clip but the frame rate is 25' });
    assert.throws(() => frameToTimecode(-1, df), { message: 'Expected non-negative integer for frame but received -1 of type number' });
  });

  test('clock times round to the millisecond and parse back', () => {
    assert.equal(formatClock(3723.0005), '01:02:03.001');
    assert.equal(formatClock(1001 / 30000), '00:00:00.033');
    assert.equal(parseClock('01:02:03.001'), 3723.001);
    assert.equal(parseClock('02:03.500'), 123.5);
  });
});
