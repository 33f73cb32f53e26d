/**
 * Image-to-text captioning with VisionEncoderDecoder ONNX exports (vit-gpt2 and friends).
 */
export { loadCaptioner, argmax, type Captioner, type CaptionOptions, type CaptionResult, type LoadCaptionerOptions } from './captioner.js';
export { type CaptionImage, type RawRgbImage } from './preprocess.js';
export { loadByteLevelDecoder, type ByteLevelDecoder } from './tokenizer.js';
