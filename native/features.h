// Per-frame features of packed RGB24 frames: the native half of scenescope's feature kernel.
//
// The exact definition of every value lives in src/features/kernel.ts (the TypeScript twin); this code must
// stay bit-identical to it, and test/features-parity.test.ts holds the two together on random and real frames.
// Everything here is integer arithmetic except the final divisions into doubles, which are done in the same
// order as in TypeScript (binding.gyp builds with -ffp-contract=off so no multiply-add is fused).
#ifndef SCENESCOPE_FEATURES_H_
#define SCENESCOPE_FEATURES_H_

#include <cstddef>
#include <cstdint>

namespace scenescope {

constexpr int kHistBins = 64;
constexpr int kGridW = 16;
constexpr int kGridH = 9;
constexpr int kGridSize = kGridW * kGridH * 3;
constexpr int kScalarCount = 9;
constexpr int kHashWords = 2;
constexpr int kMinSide = 8;
constexpr int kMaxSide = 4096;

// Bumped whenever a feature's definition changes; the loader refuses an addon whose version differs from
// the TypeScript kernel's, so a stale build can never feed different numbers to the detectors.
constexpr const char* kKernelVersion = "scenescope-features/1";

// Output arrays of a batch, sized count x (kScalarCount, kHistBins, kHashWords, kGridSize).
struct BatchOutput {
  double* scalars;
  uint32_t* hist;
  uint32_t* hash;
  uint8_t* grid;
};

// Computes the features of `count` frames. `frames` holds (hasPrev ? 1 : 0) + count packed RGB24 frames of
// width x height; with hasPrev the first one only serves as the previous frame of the first output. Sizes
// are trusted (the addon validates them). Scratch memory is thread_local and reused between calls.
void ComputeBatch(const uint8_t* frames, int width, int height, int count, bool hasPrev, const BatchOutput& out);

// The integer DCT cosine table, 8 x 32 row-major: round(cos(pi * (2x + 1) * k / 64) * 4096).
const int32_t* CosTable();

}  // namespace scenescope

#endif  // SCENESCOPE_FEATURES_H_
