/**
 * GPT-2 byte-level BPE detokeniser.
 *
 * Decoding a byte-level BPE needs no merges: each token string in the vocabulary spells bytes through GPT-2's
 * byte-to-unicode table (printable Latin-1 bytes stand for themselves, the other 68 bytes are shifted to
 * U+0100..U+0143, so a space is "Ġ" and a newline "Ċ"). Concatenate the token strings, map every character back to
 * its byte, and decode the bytes as UTF-8 (a multi-byte character may be split across tokens, which is why bytes
 * are joined before decoding). Special tokens (`<|endoftext|>`) are skipped.
 *
 * Reads either `tokenizer.json` (Hugging Face tokenizers format: `model.vocab` plus `added_tokens`) or the older
 * `vocab.json` (+ `merges.txt`, not needed for decoding) with `special_tokens_map.json` / `added_tokens.json`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelError } from '../errors.js';

/** GPT-2's reversible byte -> printable character table, as a character -> byte map. */
function unicodeToBytes(): Map<string, number> {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const map = new Map<string, number>();
  for (const b of printable) map.set(String.fromCodePoint(b), b);
  let shift = 0;
  for (let b = 0; b < 256; b++) {
    if (printable.includes(b)) continue;
    map.set(String.fromCodePoint(256 + shift), b);
    shift++;
  }
  return map;
}

const CHAR_TO_BYTE = unicodeToBytes();

/** A loaded detokeniser. */
export interface ByteLevelDecoder {
  /** Number of ids known (vocabulary plus added tokens). */
  readonly size: number;
  /** Ids of special tokens (skipped by {@link ByteLevelDecoder.decode}). */
  readonly specialIds: ReadonlySet<number>;
  /** The token string of an id (byte-level spelling), or undefined. */
  token(id: number): string | undefined;
  /**
   * Turn ids into text: special tokens skipped, bytes joined and decoded as UTF-8 (invalid sequences become U+FFFD).
   * @throws ModelError MODEL_FAILED for an id outside the vocabulary.
   */
  decode(ids: readonly number[], options?: { skipSpecial?: boolean }): string;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ModelError('MODEL_UNAVAILABLE', `Cannot read ${path}: ${(error as Error).message}`, { cause: error, details: { path } });
  }
}

/** Build a decoder from an id -> token table and the special ids. */
export function createByteLevelDecoder(vocab: ReadonlyMap<number, string>, specialIds: ReadonlySet<number>): ByteLevelDecoder {
  return {
    size: vocab.size,
    specialIds,
    token: (id) => vocab.get(id),
    decode(ids, options = {}) {
      const skip = options.skipSpecial ?? true;
      const bytes: number[] = [];
      for (const id of ids) {
        const token = vocab.get(id);
        if (token === undefined) throw new ModelError('MODEL_FAILED', `Token id ${id} is not in the tokenizer's vocabulary (${vocab.size} tokens)`, { details: { id } });
        if (skip && specialIds.has(id)) continue;
        for (const char of token) {
          const byte = CHAR_TO_BYTE.get(char);
          // Added tokens may be plain text rather than byte-level spelled; keep their UTF-8 bytes.
          if (byte === undefined) bytes.push(...Buffer.from(char, 'utf8'));
          else bytes.push(byte);
        }
      }
      return Buffer.from(bytes).toString('utf8');
    },
  };
}

/**
 * Load the byte-level BPE decoder of a model folder: `tokenizer.json`, else `vocab.json` (+ special tokens from
 * `added_tokens.json` and `special_tokens_map.json`; `<|endoftext|>` is special in GPT-2).
 * @param extraSpecial ids to treat as special besides those the tokenizer marks (bos/eos/pad from the config).
 * @throws ModelError MODEL_UNAVAILABLE when neither file exists or the file is not a byte-level BPE tokenizer.
 */
export function loadByteLevelDecoder(dir: string, extraSpecial: Iterable<number> = []): ByteLevelDecoder {
  const vocab = new Map<number, string>();
  const special = new Set<number>(extraSpecial);
  const tokenizerJson = join(dir, 'tokenizer.json');
  const vocabJson = join(dir, 'vocab.json');
  if (existsSync(tokenizerJson)) {
    const raw = readJson(tokenizerJson) as { model?: { type?: unknown; vocab?: unknown }; added_tokens?: unknown; decoder?: { type?: unknown } | null };
    const model = raw.model;
    if (model === undefined || model.vocab === null || typeof model.vocab !== 'object' || Array.isArray(model.vocab)) {
      throw new ModelError('MODEL_UNAVAILABLE', `${tokenizerJson} has no model.vocab object: not a BPE tokenizer`, { details: { path: tokenizerJson } });
    }
    if (model.type !== undefined && model.type !== 'BPE') {
      throw new ModelError('MODEL_UNAVAILABLE', `${tokenizerJson} is a ${String(model.type)} tokenizer; only byte-level BPE (GPT-2 family) is supported`, { details: { path: tokenizerJson } });
    }
    if (raw.decoder !== undefined && raw.decoder !== null && raw.decoder.type !== undefined && raw.decoder.type !== 'ByteLevel') {
      throw new ModelError('MODEL_UNAVAILABLE', `${tokenizerJson} has a ${String(raw.decoder.type)} decoder; only ByteLevel is supported`, { details: { path: tokenizerJson } });
    }
    for (const [token, id] of Object.entries(model.vocab as Record<string, unknown>)) if (typeof id === 'number') vocab.set(id, token);
    if (Array.isArray(raw.added_tokens)) {
      for (const added of raw.added_tokens as Array<{ id?: unknown; content?: unknown; special?: unknown }>) {
        if (typeof added.id !== 'number' || typeof added.content !== 'string') continue;
        vocab.set(added.id, added.content);
        if (added.special === true) special.add(added.id);
      }
    }
  } else if (existsSync(vocabJson)) {
    const raw = readJson(vocabJson);
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ModelError('MODEL_UNAVAILABLE', `${vocabJson} is not a token -> id object`, { details: { path: vocabJson } });
    for (const [token, id] of Object.entries(raw as Record<string, unknown>)) if (typeof id === 'number') vocab.set(id, token);
    const addedPath = join(dir, 'added_tokens.json');
    if (existsSync(addedPath)) {
      for (const [token, id] of Object.entries(readJson(addedPath) as Record<string, unknown>)) {
        if (typeof id === 'number') {
          vocab.set(id, token);
          special.add(id);
        }
      }
    }
    const specialNames = new Set<string>(['<|endoftext|>']);
    const mapPath = join(dir, 'special_tokens_map.json');
    if (existsSync(mapPath)) {
      for (const value of Object.values(readJson(mapPath) as Record<string, unknown>)) {
        if (typeof value === 'string') specialNames.add(value);
        else if (value !== null && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') specialNames.add((value as { content: string }).content);
      }
    }
    for (const [id, token] of vocab) if (specialNames.has(token)) special.add(id);
  } else {
    throw new ModelError('MODEL_UNAVAILABLE', `No tokenizer in ${dir}: expected tokenizer.json, or vocab.json and merges.txt`, { details: { dir } });
  }
  if (vocab.size === 0) throw new ModelError('MODEL_UNAVAILABLE', `The tokenizer in ${dir} has an empty vocabulary`, { details: { dir } });
  return createByteLevelDecoder(vocab, special);
}
