/**
 * The whole captioning path (preprocess with sharp, ONNX encoder, greedy decoding with the ONNX decoder, GPT-2
 * byte-level detokenising) on a tiny VisionEncoderDecoder that this test builds with seeded random weights, in the
 * layout Hugging Face Optimum writes. The expected tokens are computed here independently, in plain float64 JS,
 * and the expected text from a hand-written table of each token's bytes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import sharp from 'sharp';
import { loadCaptioner, type Captioner } from '../src/caption/captioner.js';
import { loadByteLevelDecoder } from '../src/caption/tokenizer.js';
import { AbortError, ModelError, OptionError } from '../src/errors.js';
import { DataType, encodeModel, randomWeights, seededRandom } from './helpers/onnx-writer.js';

const SIDE = 16; // image side
const S = 4; // encoder sequence length ("patches")
const P = (3 * SIDE * SIDE) / S; // values per patch
const D = 8; // hidden size
const V = 24; // vocabulary size
const EOS = 23; // <|endoftext|>: bos, decoder start, eos and pad, as in GPT-2

/** Each token: its byte-level spelling (vocabulary key) and the bytes it stands for, written out by hand. */
const TOKENS: Array<[string, Buffer]> = [
  ['a', Buffer.from('a')],
  ['\u0120cat', Buffer.from(' cat')],
  ['\u0120dog', Buffer.from(' dog')],
  ['\u0120on', Buffer.from(' on')],
  ['\u0120the', Buffer.from(' the')],
  ['\u0120mat', Buffer.from(' mat')],
  ['\u0120sitting', Buffer.from(' sitting')],
  ['\u0120red', Buffer.from(' red')],
  ['\u0120ball', Buffer.from(' ball')],
  ['\u0120with', Buffer.from(' with')],
  ['\u0120caf', Buffer.from(' caf')],
  ['\u00c3\u00a9', Buffer.from([0xc3, 0xa9])], // "é" in one token
  ['\u00c3', Buffer.from([0xc3])], // first byte of "é" alone
  ['\u00a9', Buffer.from([0xa9])], // second byte alone
  ['\u010a', Buffer.from('\n')],
  [',', Buffer.from(',')],
  ['.', Buffer.from('.')],
  ['\u0120a', Buffer.from(' a')],
  ['\u0120big', Buffer.from(' big')],
  ['\u0120small', Buffer.from(' small')],
  ['\u0120tree', Buffer.from(' tree')],
  ['\u0120near', Buffer.from(' near')],
  ['\u0120\u00f0\u0141\u013a\u0122', Buffer.from(' \u{1F600}')], // " 😀": F0 9F 98 80, three of them shifted bytes
];

/** Expected text of generated ids, from the table above (bytes joined, then UTF-8, then trimmed). */
function expectedText(ids: number[]): string {
  return Buffer.concat(ids.map((id) => TOKENS[id]![1])).toString('utf8').trim();
}

interface Weights {
  wEnc: Float32Array; // [P, D]
  bEnc: Float32Array; // [D]
  emb: Float32Array; // [V, D]
  wOut: Float32Array; // [D, V]
  table: Float32Array; // [V, V]: logits added for each previous token
}

function makeWeights(seed: number, table?: (from: number, to: number) => number): Weights {
  const random = seededRandom(seed);
  const w: Weights = {
    wEnc: randomWeights(P * D, random, 0.08),
    bEnc: randomWeights(D, random, 0.1),
    emb: randomWeights(V * D, random, 1),
    wOut: randomWeights(D * V, random, 2),
    table: new Float32Array(V * V),
  };
  for (let from = 0; from < V; from++) for (let to = 0; to < V; to++) w.table[from * V + to] = table?.(from, to) ?? 0;
  return w;
}

interface LayoutOptions {
  /** Put ONNX files under onnx/ with _quantized names and use vocab.json + merges.txt (a hub snapshot). */
  snapshot?: boolean;
  /** Declare the extra inputs of a merged decoder (use_cache_branch, past_key_values.*) and an encoder mask. */
  merged?: boolean;
  maxLength?: number;
}

/** Write the tiny model folder; returns its path. */
function writeTinyModel(dir: string, w: Weights, layout: LayoutOptions = {}): string {
  mkdirSync(dir, { recursive: true });
  const encoder = encodeModel({
    name: 'encoder',
    inputs: [{ name: 'pixel_values', elemType: DataType.FLOAT, shape: ['batch_size', 3, SIDE, SIDE] }],
    outputs: [{ name: 'last_hidden_state', elemType: DataType.FLOAT, shape: ['batch_size', S, D] }],
    initializers: [
      { name: 'patch_shape', dims: [3], data: [1, S, P] },
      { name: 'w_enc', dims: [P, D], data: w.wEnc },
      { name: 'b_enc', dims: [D], data: w.bEnc },
    ],
    nodes: [
      { op: 'Reshape', inputs: ['pixel_values', 'patch_shape'], outputs: ['patches'] },
      { op: 'MatMul', inputs: ['patches', 'w_enc'], outputs: ['projected'] },
      { op: 'Add', inputs: ['projected', 'b_enc'], outputs: ['biased'] },
      { op: 'Tanh', inputs: ['biased'], outputs: ['last_hidden_state'] },
    ],
  });
  const decoderInputs: Array<{ name: string; elemType: number; shape: Array<number | string> }> = [
    { name: 'input_ids', elemType: DataType.INT64, shape: ['batch_size', 'decoder_sequence_length'] },
    { name: 'encoder_hidden_states', elemType: DataType.FLOAT, shape: ['batch_size', 'encoder_sequence_length', D] },
  ];
  if (layout.merged === true) {
    decoderInputs.push(
      { name: 'encoder_attention_mask', elemType: DataType.INT64, shape: ['batch_size', 'encoder_sequence_length'] },
      { name: 'past_key_values.0.key', elemType: DataType.FLOAT, shape: ['batch_size', 2, 'past_sequence_length', 4] },
      { name: 'past_key_values.0.value', elemType: DataType.FLOAT, shape: ['batch_size', 2, 'past_sequence_length', 4] },
      { name: 'use_cache_branch', elemType: DataType.BOOL, shape: [1] },
    );
  }
  const decoder = encodeModel({
    name: 'decoder',
    inputs: decoderInputs,
    outputs: [{ name: 'logits', elemType: DataType.FLOAT, shape: ['batch_size', 'decoder_sequence_length', V] }],
    initializers: [
      { name: 'embedding', dims: [V, D], data: w.emb },
      { name: 'w_out', dims: [D, V], data: w.wOut },
      { name: 'table', dims: [V, V], data: w.table },
    ],
    nodes: [
      { op: 'Gather', inputs: ['embedding', 'input_ids'], outputs: ['embedded'], attributes: [{ name: 'axis', int: 0 }] },
      { op: 'ReduceMean', inputs: ['encoder_hidden_states'], outputs: ['context'], attributes: [{ name: 'axes', ints: [1] }, { name: 'keepdims', int: 1 }] },
      { op: 'Add', inputs: ['embedded', 'context'], outputs: ['mixed'] },
      { op: 'Tanh', inputs: ['mixed'], outputs: ['hidden'] },
      { op: 'MatMul', inputs: ['hidden', 'w_out'], outputs: ['image_logits'] },
      { op: 'Gather', inputs: ['table', 'input_ids'], outputs: ['token_logits'], attributes: [{ name: 'axis', int: 0 }] },
      { op: 'Add', inputs: ['image_logits', 'token_logits'], outputs: ['logits'] },
    ],
  });
  const onnxDir = layout.snapshot === true ? join(dir, 'onnx') : dir;
  mkdirSync(onnxDir, { recursive: true });
  const suffix = layout.snapshot === true ? '_quantized' : '';
  writeFileSync(join(onnxDir, `encoder_model${suffix}.onnx`), encoder);
  writeFileSync(join(onnxDir, layout.merged === true ? `decoder_model_merged${suffix}.onnx` : `decoder_model${suffix}.onnx`), decoder);

  const vocab = Object.fromEntries(TOKENS.map(([token], id) => [token, id]));
  if (layout.snapshot === true) {
    writeFileSync(join(dir, 'vocab.json'), JSON.stringify({ ...vocab, '<|endoftext|>': EOS }));
    writeFileSync(join(dir, 'merges.txt'), '#version: 0.2\n\u00c3 \u00a9\n');
    writeFileSync(join(dir, 'special_tokens_map.json'), JSON.stringify({ bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>' }));
  } else {
    writeFileSync(
      join(dir, 'tokenizer.json'),
      JSON.stringify({
        version: '1.0',
        added_tokens: [{ id: EOS, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
        normalizer: null,
        pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
        post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
        decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
        model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, vocab, merges: ['\u00c3 \u00a9'] },
      }),
    );
  }
  const maxLength = layout.maxLength ?? 8;
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      architectures: ['VisionEncoderDecoderModel'],
      model_type: 'vision-encoder-decoder',
      decoder_start_token_id: EOS,
      pad_token_id: EOS,
      decoder: { model_type: 'gpt2', vocab_size: V, n_embd: D, n_head: 2, n_layer: 1, bos_token_id: EOS, eos_token_id: EOS, max_length: 20 },
      encoder: { model_type: 'vit', hidden_size: D, image_size: SIDE },
    }),
  );
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ bos_token_id: EOS, decoder_start_token_id: EOS, eos_token_id: EOS, pad_token_id: EOS, max_length: maxLength }));
  writeFileSync(
    join(dir, 'preprocessor_config.json'),
    JSON.stringify({ do_normalize: true, do_rescale: true, do_resize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5], resample: 2, rescale_factor: 1 / 255, size: { height: SIDE, width: SIDE } }),
  );
  return dir;
}

/** The same network in float64 JS: greedy tokens for a SIDE x SIDE RGB24 image. */
function referenceTokens(w: Weights, rgb: Buffer, maxNew: number): { tokens: number[]; finished: boolean; minMargin: number } {
  const plane = SIDE * SIDE;
  const chw = new Float64Array(3 * plane);
  for (let c = 0; c < 3; c++) for (let i = 0; i < plane; i++) chw[c * plane + i] = (rgb[i * 3 + c]! / 255 - 0.5) / 0.5;
  const context = new Float64Array(D);
  for (let s = 0; s < S; s++) {
    for (let d = 0; d < D; d++) {
      let sum = w.bEnc[d]!;
      for (let k = 0; k < P; k++) sum += chw[s * P + k]! * w.wEnc[k * D + d]!;
      context[d]! += Math.tanh(sum) / S;
    }
  }
  const tokens: number[] = [];
  let last = EOS;
  let minMargin = Infinity;
  while (tokens.length < maxNew) {
    const h = Array.from({ length: D }, (_, d) => Math.tanh(w.emb[last * D + d]! + context[d]!));
    const logits = Array.from({ length: V }, (_, v) => h.reduce((acc, hd, d) => acc + hd * w.wOut[d * V + v]!, 0) + w.table[last * V + v]!);
    const sorted = [...logits].sort((a, b) => b - a);
    minMargin = Math.min(minMargin, sorted[0]! - sorted[1]!);
    const next = logits.indexOf(sorted[0]!);
    if (next === EOS) return { tokens, finished: true, minMargin };
    tokens.push(next);
    last = next;
  }
  return { tokens, finished: false, minMargin };
}

/** A deterministic test picture: gradients and a square. */
function testImage(width: number, height: number): Buffer {
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const inSquare = x > width / 4 && x < (3 * width) / 4 && y > height / 4 && y < (3 * height) / 4;
      rgb[i] = Math.round((255 * x) / (width - 1));
      rgb[i + 1] = inSquare ? 230 : Math.round((255 * y) / (height - 1));
      rgb[i + 2] = (x * 37 + y * 11) % 256;
    }
  }
  return rgb;
}

suite('captioner: tiny VisionEncoderDecoder built by the test', () => {
  let root: string;
  // Random weights, and the end token forbidden so decoding runs to max_length.
  const open = makeWeights(7, (_from, to) => (to === EOS ? -50 : 0));
  // The end token is reachable: a fixed chain start -> a -> big -> red -> ball -> 0xC3 -> 0xA9 -> end.
  const chain = new Map([[EOS, 0], [0, 18], [18, 7], [7, 8], [8, 12], [12, 13], [13, EOS]]);
  const stopping = makeWeights(11, (from, to) => (chain.get(from) === to ? 40 : 0));
  let openDir: string;
  let captioner: Captioner;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'scenescope-caption-'));
    openDir = writeTinyModel(join(root, 'tiny-open'), open);
    writeTinyModel(join(root, 'tiny-stopping'), stopping);
    captioner = await loadCaptioner(openDir, { threads: 1 });
  });

  after(async () => {
    await captioner?.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('captions a raw RGB24 frame with the argmax tokens computed independently', async () => {
    const rgb = testImage(SIDE, SIDE);
    const expected = referenceTokens(open, rgb, 7);
    assert.ok(expected.minMargin > 1e-3, `seed gives a near-tie (${expected.minMargin}); pick another seed`);
    const result = await captioner.caption({ data: rgb, width: SIDE, height: SIDE });
    assert.deepEqual(result.tokens, expected.tokens);
    assert.equal(result.text, expectedText(expected.tokens));
    assert.equal(result.model, 'tiny-open');
    assert.equal(result.finished, false);
  });

  test('is deterministic across calls and across loads', async () => {
    const rgb = testImage(SIDE, SIDE);
    const first = await captioner.caption({ data: rgb, width: SIDE, height: SIDE });
    const second = await captioner.caption({ data: rgb, width: SIDE, height: SIDE });
    const other = await loadCaptioner(openDir, { threads: 1 });
    try {
      const third = await other.caption({ data: rgb, width: SIDE, height: SIDE });
      assert.deepEqual(second, first);
      assert.deepEqual(third, first);
    } finally {
      await other.close();
    }
  });

  test('different images give different token sequences', async () => {
    const a = testImage(SIDE, SIDE);
    const b = Buffer.from(a.map((v) => 255 - v));
    const ra = referenceTokens(open, a, 7).tokens;
    const rb = referenceTokens(open, b, 7).tokens;
    assert.notDeepEqual(ra, rb, 'the seed should make the image matter');
    assert.deepEqual((await captioner.caption({ data: b, width: SIDE, height: SIDE })).tokens, rb);
  });

  test('stops at the end token and joins bytes split across tokens', async () => {
    const stopper = await loadCaptioner(join(root, 'tiny-stopping'), { threads: 1 });
    try {
      const result = await stopper.caption({ data: testImage(SIDE, SIDE), width: SIDE, height: SIDE }, { maxTokens: 20 });
      assert.deepEqual(result.tokens, [0, 18, 7, 8, 12, 13]);
      assert.equal(result.text, 'a big red ball\u00e9');
      assert.equal(result.finished, true);
      assert.deepEqual(result.tokens, referenceTokens(stopping, testImage(SIDE, SIDE), 20).tokens);
    } finally {
      await stopper.close();
    }
  });

  test('stops after maxTokens, and by default after max_length - 1 tokens', async () => {
    const rgb = testImage(SIDE, SIDE);
    const short = await captioner.caption({ data: rgb, width: SIDE, height: SIDE }, { maxTokens: 3 });
    assert.deepEqual(short.tokens, referenceTokens(open, rgb, 3).tokens);
    assert.equal(short.tokens.length, 3);
    assert.equal(short.finished, false);
    const byDefault = await captioner.caption({ data: rgb, width: SIDE, height: SIDE });
    assert.equal(byDefault.tokens.length, 7, 'generation_config max_length 8 counts the start token');
  });

  test('an encoded PNG gives the same caption as its raw pixels', async () => {
    const rgb = testImage(SIDE, SIDE);
    const png = await sharp(rgb, { raw: { width: SIDE, height: SIDE, channels: 3 } }).png().toBuffer();
    const fromPng = await captioner.caption(png);
    const fromRaw = await captioner.caption({ data: rgb, width: SIDE, height: SIDE });
    assert.deepEqual(fromPng, fromRaw);
  });

  test('resizes larger frames per preprocessor_config (bilinear to size)', async () => {
    const big = testImage(64, 48);
    const resized = await sharp(big, { raw: { width: 64, height: 48, channels: 3 } }).resize(SIDE, SIDE, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
    const result = await captioner.caption({ data: big, width: 64, height: 48 });
    assert.deepEqual(result.tokens, referenceTokens(open, resized, 7).tokens);
  });

  test('reads a hub snapshot: onnx/ folder, _quantized names, vocab.json, merged decoder inputs', async () => {
    const dir = writeTinyModel(join(root, 'snapshot'), stopping, { snapshot: true, merged: true });
    const snap = await loadCaptioner(dir, { threads: 1, modelId: 'snapshot-model' });
    try {
      assert.match(snap.files.encoder, /onnx[/\\]encoder_model_quantized\.onnx$/);
      assert.match(snap.files.decoder, /onnx[/\\]decoder_model_merged_quantized\.onnx$/);
      const result = await snap.caption({ data: testImage(SIDE, SIDE), width: SIDE, height: SIDE });
      assert.equal(result.text, 'a big red ball\u00e9');
      assert.equal(result.model, 'snapshot-model');
    } finally {
      await snap.close();
    }
  });

  test('a folder that is not an export is refused with every missing file named', async () => {
    const empty = join(root, 'empty');
    mkdirSync(empty);
    await assert.rejects(loadCaptioner(empty), (error: unknown) => {
      assert.ok(error instanceof ModelError);
      assert.equal(error.code, 'MODEL_UNAVAILABLE');
      assert.equal(
        error.message,
        `Not a VisionEncoderDecoder ONNX export: ${empty} lacks encoder_model.onnx or encoder_model_quantized.onnx, decoder_model.onnx or decoder_model_quantized.onnx, config.json, preprocessor_config.json, tokenizer.json (or vocab.json + merges.txt) (expected Optimum's layout, see docs/models.md)`,
      );
      return true;
    });
  });

  test('bad images and options are rejected at the boundary', async () => {
    await assert.rejects(captioner.caption({ data: Buffer.alloc(10), width: SIDE, height: SIDE }), (error: unknown) => {
      assert.ok(error instanceof OptionError);
      assert.match(error.message, /^Expected Buffer of 768 bytes \(RGB24 16x16\) for image\.data but received .* of type object$/s);
      return true;
    });
    await assert.rejects(captioner.caption(Buffer.from('not an image')), (error: unknown) => error instanceof ModelError && error.code === 'MODEL_FAILED');
    await assert.rejects(captioner.caption(testImage(SIDE, SIDE), { maxTokens: 0 }), /Expected integer between 1 and 512 for maxTokens but received 0 of type number/);
    await assert.rejects(captioner.caption(testImage(SIDE, SIDE), { maxTokenz: 3 } as never), /Unknown option "maxTokenz" in caption options; did you mean "maxTokens"\?/);
  });

  test('an aborted signal stops captioning with AbortError', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(captioner.caption({ data: testImage(SIDE, SIDE), width: SIDE, height: SIDE }, { signal: controller.signal }), AbortError);
  });

  test('a closed captioner refuses work', async () => {
    const c = await loadCaptioner(openDir, { threads: 1 });
    await c.close();
    await assert.rejects(c.caption({ data: testImage(SIDE, SIDE), width: SIDE, height: SIDE }), /The captioner tiny-open is closed/);
  });
});

suite('captioner: GPT-2 byte-level detokeniser', () => {
  test('maps shifted bytes back, joins split characters, skips special tokens', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scenescope-tok-'));
    try {
      writeTinyModel(dir, makeWeights(1));
      const decoder = loadByteLevelDecoder(dir);
      assert.equal(decoder.size, V);
      assert.equal(decoder.decode([0, 1, 14, 12, 13, 22, EOS]), 'a cat\n\u00e9 \u{1F600}');
      assert.equal(decoder.decode([EOS, 0], { skipSpecial: false }), '<|endoftext|>a');
      assert.throws(() => decoder.decode([99]), /Token id 99 is not in the tokenizer's vocabulary \(24 tokens\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

suite('captioner inside the analysis: the installed captioner writes the description', () => {
  test('analyzeFile uses the caption as description; tags still come from the detectors', async () => {
    const { analyzeFile } = await import('../src/api/analyze.js');
    const { makeClip } = await import('./helpers/clips.js');
    const root = mkdtempSync(join(tmpdir(), 'scenescope-caption-e2e-'));
    try {
      // An encoder that ignores the picture: the caption is then the same for any frame, and known here.
      const w = makeWeights(11);
      w.wEnc.fill(0);
      const modelDir = writeTinyModel(join(root, 'vit-gpt2-image-captioning'), w);
      // generation_config's max_length is 8 here: 7 new tokens; the description is the caption as a sentence.
      const text = expectedText(referenceTokens(w, Buffer.alloc(SIDE * SIDE * 3), 7).tokens);
      assert.ok(text.length > 0);
      const sentence = text.charAt(0).toUpperCase() + text.slice(1);
      const expected = /[.!?]$/.test(sentence) ? sentence : sentence + '.';
      const clip = join(root, 'clip.mp4');
      await makeClip(clip, [{ kind: 0, seconds: 1 }, { kind: 1, seconds: 1 }]);
      mkdirSync(join(root, 'no-models'), { recursive: true });
      const result = await analyzeFile(clip, { captionModelDir: modelDir, modelsDir: join(root, 'no-models'), ocr: false, thumbnailsDir: join(root, 'thumbs') });
      assert.equal(result.scenes.length, 2);
      for (const scene of result.scenes) {
        assert.equal(scene.description, expected);
        assert.ok(scene.models_used.includes('vit-gpt2-image-captioning'), scene.models_used.join(', '));
      }
      const composed = await analyzeFile(clip, { captionModelDir: modelDir, caption: false, modelsDir: join(root, 'no-models'), ocr: false, thumbnailsDir: join(root, 'thumbs2') });
      assert.notEqual(composed.scenes[0]!.description, expected, 'without the captioner the description is composed');
      assert.deepEqual(result.scenes.map((s) => s.tags), composed.scenes.map((s) => s.tags), 'tags come from the detectors and visual facts, not the captioner');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
