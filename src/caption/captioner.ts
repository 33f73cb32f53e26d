/**
 * Image-to-text captioning with a VisionEncoderDecoder model in Hugging Face Optimum's ONNX export layout
 * (for example Xenova/vit-gpt2-image-captioning, exported from nlpconnect/vit-gpt2-image-captioning):
 *
 *   <dir>/config.json, generation_config.json (optional), preprocessor_config.json,
 *   tokenizer.json (or vocab.json + merges.txt),
 *   <dir>[/onnx]/encoder_model[_quantized].onnx   pixel_values [1,3,H,W] -> last_hidden_state [1,S,D]
 *   <dir>[/onnx]/decoder_model[_quantized].onnx   input_ids [1,T] (+ encoder_hidden_states [1,S,D], optional
 *                                                 attention masks) -> logits [1,T,V]
 *   or decoder_model_merged[_quantized].onnx      the same plus use_cache_branch and past_key_values.* inputs
 *
 * Algorithm: preprocess (see preprocess.ts), run the encoder once, then greedy decoding: start from
 * `decoder_start_token_id`, feed the whole sequence to the decoder, append the argmax of the last position's
 * logits (lowest id wins a tie), stop at `eos_token_id` or after `max_length - 1` new tokens (Hugging Face counts
 * the start token in max_length). Detokenise with the GPT-2 byte-level BPE decoder.
 *
 * No key/value cache: each step re-runs the decoder over the whole prefix. Captions are short (max_length 20 for
 * vit-gpt2), so this costs a few times the cached version's decoder time and keeps to one decoder file. With a merged
 * decoder the cache branch is switched off (`use_cache_branch = false`) and empty past tensors are fed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { ModelError, throwIfAborted } from '../errors.js';
import { integerIn, oneOf, opt, plainOptions, signal as signalCheck, string } from '../util/validate.js';
import { checkImage, preprocessImage, resolvePreprocessing, type CaptionImage, type ImagePreprocessing } from './preprocess.js';
import { loadByteLevelDecoder, type ByteLevelDecoder } from './tokenizer.js';

/** Options of {@link loadCaptioner}. */
export interface LoadCaptionerOptions {
  /**
   * Which weights to load when several are present: `auto` (default) prefers float32 (`encoder_model.onnx`) and
   * falls back to the int8 `_quantized` files; `fp32` and `quantized` insist.
   */
  variant?: 'auto' | 'fp32' | 'quantized';
  /** Threads per ONNX session (default: onnxruntime's choice, all cores). */
  threads?: number;
  /** Name reported in results (default: the folder name). */
  modelId?: string;
}

/** Options of {@link Captioner.caption}. */
export interface CaptionOptions {
  /** Most tokens to generate (default: the model's max_length - 1; at most 512). */
  maxTokens?: number;
  signal?: AbortSignal;
}

/** A caption and how it was made. */
export interface CaptionResult {
  /** The caption, trimmed. Empty when the model stopped at once. */
  text: string;
  /** Generated token ids, without the start token and without the end token. */
  tokens: number[];
  /** The model's id (folder name unless given). */
  model: string;
  /** True when decoding stopped at the end token, false when it hit maxTokens. */
  finished: boolean;
}

/** A loaded captioner. Reuse it: sessions are created once. */
export interface Captioner {
  /** Model id reported in results. */
  readonly model: string;
  /** The files in use, for reports. */
  readonly files: { encoder: string; decoder: string };
  /**
   * Caption one image (raw RGB24 pixels or an encoded JPEG/PNG/WebP buffer).
   * @throws OptionError for bad arguments; ModelError MODEL_FAILED when inference fails; AbortError.
   */
  caption(image: CaptionImage, options?: CaptionOptions): Promise<CaptionResult>;
  /** Release the ONNX sessions. Further calls to caption() throw. */
  close(): Promise<void>;
}

interface GenerationSettings {
  decoderStart: number;
  eos: Set<number>;
  maxNew: number;
  vocabSize: number | undefined;
}

function readJsonObject(path: string, required: boolean): Record<string, unknown> | undefined {
  if (!existsSync(path)) {
    if (required) throw new ModelError('MODEL_UNAVAILABLE', `Missing ${path}`, { details: { path } });
    return undefined;
  }
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (error) {
    throw new ModelError('MODEL_UNAVAILABLE', `Cannot read ${path}: ${(error as Error).message}`, { cause: error, details: { path } });
  }
}

function firstInt(...values: unknown[]): number | undefined {
  for (const v of values) {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
    if (Array.isArray(v) && v.length > 0 && typeof v[0] === 'number' && Number.isInteger(v[0])) return v[0] as number;
  }
  return undefined;
}

function intSet(value: unknown): number[] {
  if (typeof value === 'number' && Number.isInteger(value)) return [value];
  if (Array.isArray(value)) return value.filter((v): v is number => typeof v === 'number' && Number.isInteger(v));
  return [];
}

/** Generation settings from generation_config.json (first) and config.json (top level, then its decoder). */
function generationSettings(config: Record<string, unknown>, generation: Record<string, unknown> | undefined, dir: string): GenerationSettings {
  const g = generation ?? {};
  const d = (config.decoder !== null && typeof config.decoder === 'object' ? config.decoder : {}) as Record<string, unknown>;
  const decoderStart = firstInt(g.decoder_start_token_id, config.decoder_start_token_id, d.decoder_start_token_id, g.bos_token_id, config.bos_token_id, d.bos_token_id);
  if (decoderStart === undefined) throw new ModelError('MODEL_UNAVAILABLE', `${dir}: config.json names no decoder_start_token_id or bos_token_id`, { details: { dir } });
  const eosList = intSet(g.eos_token_id ?? config.eos_token_id ?? d.eos_token_id);
  const maxNewTokens = firstInt(g.max_new_tokens);
  const maxLength = firstInt(g.max_length, config.max_length, d.max_length) ?? 20;
  const maxNew = maxNewTokens ?? Math.max(1, maxLength - 1);
  const vocabSize = firstInt(d.vocab_size, config.vocab_size);
  return { decoderStart, eos: new Set(eosList), maxNew: Math.min(maxNew, 512), vocabSize };
}

/** The first existing file among the candidates, looking in `dir` then `dir/onnx`. */
function pick(dir: string, names: readonly string[]): string | undefined {
  for (const name of names) {
    for (const folder of [dir, join(dir, 'onnx')]) {
      const path = join(folder, name);
      if (existsSync(path)) return path;
    }
  }
  return undefined;
}

function candidates(stem: string, variant: 'auto' | 'fp32' | 'quantized'): string[] {
  if (variant === 'fp32') return [`${stem}.onnx`];
  if (variant === 'quantized') return [`${stem}_quantized.onnx`];
  return [`${stem}.onnx`, `${stem}_quantized.onnx`];
}

type Ort = typeof import('onnxruntime-node');

let ortPromise: Promise<Ort> | undefined;

/** onnxruntime-node, imported on first use so that importing scenescope stays cheap. */
async function loadOrt(): Promise<Ort> {
  ortPromise ??= import('onnxruntime-node').catch((error: unknown) => {
    ortPromise = undefined;
    throw new ModelError('MODEL_UNAVAILABLE', `Cannot load onnxruntime-node: ${(error as Error).message}`, { cause: error });
  });
  return ortPromise;
}

/** Index of the largest value in `logits[offset .. offset + length)`; the lowest index wins ties; NaN never wins. */
export function argmax(logits: ArrayLike<number>, offset = 0, length = logits.length - offset): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < length; i++) {
    const v = logits[offset + i]!;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best === -1 ? 0 : best;
}

/** Zero-length (or size-1 batch) tensor for a past_key_values input of a merged decoder with the cache off. */
function emptyPast(ort: Ort, meta: InferenceSession.ValueMetadata | undefined): Tensor {
  const shape = meta !== undefined && meta.isTensor ? meta.shape.map((d, i) => (typeof d === 'number' && d >= 0 ? d : i === 0 ? 1 : 0)) : [1, 1, 0, 1];
  const type = meta !== undefined && meta.isTensor ? meta.type : 'float32';
  if (type === 'float16') return new ort.Tensor('float16', new Uint16Array(0), shape);
  return new ort.Tensor('float32', new Float32Array(0), shape);
}

function metadata(session: InferenceSession, name: string): InferenceSession.ValueMetadata | undefined {
  try {
    return session.inputMetadata.find((m) => m.name === name);
  } catch {
    return undefined;
  }
}

function intTensor(ort: Ort, session: InferenceSession, name: string, values: readonly number[], shape: number[]): Tensor {
  const meta = metadata(session, name);
  if (meta !== undefined && meta.isTensor && meta.type === 'int32') return new ort.Tensor('int32', Int32Array.from(values), shape);
  return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), shape);
}

/**
 * Load a VisionEncoderDecoder captioner from a folder in Optimum's ONNX export layout (see the file header).
 * @throws ModelError MODEL_UNAVAILABLE naming every missing file and the expected layout; OptionError for bad options.
 */
export async function loadCaptioner(dir: string, options: LoadCaptionerOptions = {}): Promise<Captioner> {
  const o = plainOptions('loadCaptioner options', options, ['variant', 'threads', 'modelId']);
  const variant = opt(o, 'variant', 'auto' as const, (name, v) => oneOf(name, v, ['auto', 'fp32', 'quantized'] as const));
  const threads = opt(o, 'threads', undefined as number | undefined, (name, v) => integerIn(name, v, 1, 256));
  const root = resolve(dir);
  const modelId = opt(o, 'modelId', basename(root), string);

  const encoderPath = pick(root, candidates('encoder_model', variant));
  const decoderPath = pick(root, [...candidates('decoder_model', variant), ...candidates('decoder_model_merged', variant)]);
  const missing: string[] = [];
  if (encoderPath === undefined) missing.push(candidates('encoder_model', variant).join(' or '));
  if (decoderPath === undefined) missing.push(candidates('decoder_model', variant).join(' or '));
  for (const name of ['config.json', 'preprocessor_config.json']) if (!existsSync(join(root, name))) missing.push(name);
  if (!existsSync(join(root, 'tokenizer.json')) && !existsSync(join(root, 'vocab.json'))) missing.push('tokenizer.json (or vocab.json + merges.txt)');
  if (missing.length > 0) {
    throw new ModelError('MODEL_UNAVAILABLE', `Not a VisionEncoderDecoder ONNX export: ${root} lacks ${missing.join(', ')} (expected Optimum's layout, see docs/models.md)`, {
      details: { dir: root, missing },
    });
  }

  const config = readJsonObject(join(root, 'config.json'), true)!;
  const generation = readJsonObject(join(root, 'generation_config.json'), false);
  const pre: ImagePreprocessing = resolvePreprocessing(readJsonObject(join(root, 'preprocessor_config.json'), true)!, join(root, 'preprocessor_config.json'));
  const settings = generationSettings(config, generation, root);
  const tokenizer: ByteLevelDecoder = loadByteLevelDecoder(root, [settings.decoderStart, ...settings.eos]);

  const ort = await loadOrt();
  const sessionOptions: InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', executionProviders: ['cpu'] };
  if (threads !== undefined) {
    sessionOptions.intraOpNumThreads = threads;
    sessionOptions.interOpNumThreads = 1;
  }
  let encoder: InferenceSession;
  let decoder: InferenceSession;
  try {
    encoder = await ort.InferenceSession.create(encoderPath!, sessionOptions);
  } catch (error) {
    throw new ModelError('MODEL_UNAVAILABLE', `Cannot load the encoder ${encoderPath!}: ${(error as Error).message}`, { cause: error, details: { path: encoderPath } });
  }
  try {
    decoder = await ort.InferenceSession.create(decoderPath!, sessionOptions);
  } catch (error) {
    await encoder.release().catch(() => undefined);
    throw new ModelError('MODEL_UNAVAILABLE', `Cannot load the decoder ${decoderPath!}: ${(error as Error).message}`, { cause: error, details: { path: decoderPath } });
  }

  const encoderInput = encoder.inputNames.includes('pixel_values') ? 'pixel_values' : encoder.inputNames[0]!;
  const encoderOutput = encoder.outputNames.includes('last_hidden_state') ? 'last_hidden_state' : encoder.outputNames[0]!;
  const decoderInputs = decoder.inputNames;
  const logitsName = decoder.outputNames.includes('logits') ? 'logits' : decoder.outputNames[0]!;
  const known = new Set(['input_ids', 'encoder_hidden_states', 'attention_mask', 'decoder_attention_mask', 'encoder_attention_mask', 'use_cache_branch']);
  const unknownInputs = decoderInputs.filter((n) => !known.has(n) && !n.startsWith('past_key_values'));
  if (!decoderInputs.includes('input_ids') || unknownInputs.length > 0) {
    await encoder.release().catch(() => undefined);
    await decoder.release().catch(() => undefined);
    throw new ModelError('MODEL_UNAVAILABLE', `Unsupported decoder ${decoderPath!}: inputs ${decoderInputs.join(', ')} (expected input_ids, encoder_hidden_states and optional masks)`, {
      details: { path: decoderPath, inputs: decoderInputs },
    });
  }
  let closed = false;

  async function caption(image: CaptionImage, callOptions: CaptionOptions = {}): Promise<CaptionResult> {
    if (closed) throw new ModelError('MODEL_FAILED', `The captioner ${modelId} is closed`);
    const co = plainOptions('caption options', callOptions, ['maxTokens', 'signal']);
    const maxTokens = opt(co, 'maxTokens', settings.maxNew, (name, v) => integerIn(name, v, 1, 512));
    const signal = opt(co, 'signal', undefined as AbortSignal | undefined, signalCheck);
    const checked = checkImage(image);
    throwIfAborted(signal);
    const pixels = await preprocessImage(checked, pre);
    throwIfAborted(signal);
    let hidden: Tensor;
    try {
      const out = await encoder.run({ [encoderInput]: new ort.Tensor('float32', pixels.data, [1, 3, pixels.height, pixels.width]) });
      hidden = out[encoderOutput]!;
    } catch (error) {
      throw new ModelError('MODEL_FAILED', `Caption encoder failed: ${(error as Error).message}`, { cause: error, details: { model: modelId } });
    }
    const sequence = [settings.decoderStart];
    const generated: number[] = [];
    let finished = false;
    const encoderLength = hidden.dims.length >= 2 ? hidden.dims[1]! : 1;
    try {
      while (generated.length < maxTokens) {
        throwIfAborted(signal);
        const t = sequence.length;
        const feeds: Record<string, Tensor> = {};
        for (const name of decoderInputs) {
          if (name === 'input_ids') feeds[name] = intTensor(ort, decoder, name, sequence, [1, t]);
          else if (name === 'encoder_hidden_states') feeds[name] = hidden;
          else if (name === 'attention_mask' || name === 'decoder_attention_mask') feeds[name] = intTensor(ort, decoder, name, new Array<number>(t).fill(1), [1, t]);
          else if (name === 'encoder_attention_mask') feeds[name] = intTensor(ort, decoder, name, new Array<number>(encoderLength).fill(1), [1, encoderLength]);
          else if (name === 'use_cache_branch') feeds[name] = new ort.Tensor('bool', new Uint8Array([0]), [1]);
          else feeds[name] = emptyPast(ort, metadata(decoder, name));
        }
        const out = await decoder.run(feeds, [logitsName]);
        const logits = out[logitsName]!;
        const vocab = logits.dims[logits.dims.length - 1]!;
        const rows = logits.dims.length === 3 ? logits.dims[1]! : 1;
        const data = logits.data as Float32Array;
        const next = argmax(data, (rows - 1) * vocab, vocab);
        if (settings.eos.has(next)) {
          finished = true;
          break;
        }
        sequence.push(next);
        generated.push(next);
      }
    } catch (error) {
      if (signal?.aborted === true) throw error;
      if (error instanceof ModelError) throw error;
      throw new ModelError('MODEL_FAILED', `Caption decoder failed: ${(error as Error).message}`, { cause: error, details: { model: modelId } });
    }
    return { text: tokenizer.decode(generated).trim(), tokens: generated, model: modelId, finished };
  }

  return {
    model: modelId,
    files: { encoder: encoderPath!, decoder: decoderPath! },
    caption,
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([encoder.release(), decoder.release()]);
    },
  };
}
