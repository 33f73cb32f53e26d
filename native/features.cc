// Per-frame features, native half. The definitions live in src/features/kernel.ts (the TypeScript twin,
// written as plainly as the specification); this file computes the same numbers bit for bit, faster:
//
//  1. Colour sweep, one pass over the RGB pixels: BT.601 integer luma/chroma, integer HSV on OpenCV's scale
//     (hue 0..179), the HSV differences against the previous frame's planes, luma sums and the 64-bin luma
//     histogram. With SSE2, 16 pixels at a time; the two divisions of HSV go through float, which is exact
//     for these operands (see ColourScalar). Column sums of Y, Cb and Cr accumulate for the 16x9 colour grid
//     and the 32x32 hash thumbnail; they are reduced to cells only on the rows where cells start or end.
//  2. Luma sweep over interior pixels: Sobel magnitude |gx| + |gy| (kept for step 3) and |Laplacian|.
//  3. Edge sweep: edge = magnitude > max(64, 2 x mean magnitude), 3x3 dilation, pixels whose dilated mask
//     differs from the previous frame's.
//  4. Hash: an exact integer 8x8 DCT of the 32x32 thumbnail, bits above the median of the 63 AC terms.
//
// Scratch planes are thread_local and kept between calls (about 12 bytes per pixel of the frame size last
// seen by the thread), so a batch allocates nothing.
#include "features.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

// SSE2 is the x86-64 baseline; GCC and Clang say so with __SSE2__, MSVC with _M_X64.
#if (defined(__SSE2__) || defined(_M_X64)) && !defined(SCENESCOPE_SCALAR)
#define SCENESCOPE_SSE2 1
#include <emmintrin.h>
#endif

namespace scenescope {
namespace {

constexpr int kHashSide = 32;
constexpr int kDctSide = 8;

struct CosineTable {
  int32_t value[kDctSide * kHashSide];
  int16_t value16[kDctSide * kHashSide];
  CosineTable() {
    const double pi = 3.14159265358979323846;
    for (int k = 0; k < kDctSide; ++k) {
      for (int x = 0; x < kHashSide; ++x) {
        // std::round and JavaScript's Math.round differ only at exact halves, which cannot occur here.
        value[k * kHashSide + x] = static_cast<int32_t>(std::round(std::cos(pi * (2 * x + 1) * k / 64) * 4096));
        value16[k * kHashSide + x] = static_cast<int16_t>(value[k * kHashSide + x]);
      }
    }
  }
};
// A function-local static, not a namespace-scope object: GCC 12 at -O1 and above dropped the dynamic
// initialiser of a namespace-scope object of this type (its IPA pure-const pass), leaving the table zeroed.
const CosineTable& Cosines() {
  static const CosineTable table;
  return table;
}

// Cell i of `cells` along an axis of `length` pixels spans [floor(i*length/cells), floor((i+1)*length/cells)),
// or the single pixel at its start when that range is empty (an axis shorter than the cell count).
void CellRanges(int length, int cells, int* start, int* end) {
  for (int i = 0; i < cells; ++i) {
    const int a = static_cast<int>(static_cast<int64_t>(i) * length / cells);
    const int b = static_cast<int>(static_cast<int64_t>(i + 1) * length / cells);
    start[i] = a;
    end[i] = b > a ? b : a + 1;
  }
}

// Per-thread scratch, sized for the last frame size seen; planes alternate between current and previous.
struct Scratch {
  int w = 0;
  int h = 0;
  int cur = 0;
  std::vector<uint8_t> luma;
  std::vector<uint8_t> hsv[2];  // three planes (H, S, V) of n bytes each
  std::vector<uint16_t> mag;     // Sobel magnitude; the border stays 0, so it is never an edge
  std::vector<uint8_t> hdil;     // edge mask dilated horizontally
  std::vector<uint8_t> dil[2];   // edge mask dilated 3x3
  std::vector<uint8_t> cbRow, crRow, edgeRow, planes;
  int gx0[kGridW], gx1[kGridW], gy0[kGridH], gy1[kGridH];
  int px0[kHashSide], px1[kHashSide], py0[kHashSide], py1[kHashSide];
  // Cell sums without per-row range loops: column sums of Y, Cb, Cr accumulate over the rows seen so far, and
  // at each row where a cell row starts (the row before it) or ends they are reduced over the cell columns.
  // A cell's sum is then (snapshot at its last row) - (snapshot before its first row).
  std::vector<uint32_t> colY, colCb, colCr;
  std::vector<uint8_t> snapRows;  // bit 0: a grid boundary row, bit 1: a thumbnail boundary row
  uint64_t gridStart[kGridH][kGridW * 3], gridEnd[kGridH][kGridW * 3];
  uint64_t thumbStart[kHashSide][kHashSide], thumbEnd[kHashSide][kHashSide];

  void Prepare(int width, int height) {
    if (width == w && height == h) return;
    w = width;
    h = height;
    cur = 0;
    const size_t n = static_cast<size_t>(w) * h;
    luma.assign(n, 0);
    hsv[0].assign(3 * n, 0);
    hsv[1].assign(3 * n, 0);
    mag.assign(n, 0);
    hdil.assign(n, 0);
    dil[0].assign(n, 0);
    dil[1].assign(n, 0);
    cbRow.assign(w, 0);
    crRow.assign(w, 0);
    edgeRow.assign(w, 0);
    planes.assign(3 * static_cast<size_t>(w), 0);
    CellRanges(w, kGridW, gx0, gx1);
    CellRanges(h, kGridH, gy0, gy1);
    CellRanges(w, kHashSide, px0, px1);
    CellRanges(h, kHashSide, py0, py1);
    colY.assign(w, 0);
    colCb.assign(w, 0);
    colCr.assign(w, 0);
    snapRows.assign(h, 0);
    for (int i = 0; i < kGridH; ++i) {
      if (gy0[i] > 0) snapRows[gy0[i] - 1] |= 1;
      snapRows[gy1[i] - 1] |= 1;
    }
    for (int i = 0; i < kHashSide; ++i) {
      if (py0[i] > 0) snapRows[py0[i] - 1] |= 2;
      snapRows[py1[i] - 1] |= 2;
    }
  }
};

thread_local Scratch tScratch;

struct RowSums {
  uint32_t y = 0, y2 = 0, rgb = 0, dh = 0, ds = 0, dv = 0;
};

// The colour conversions of pixels [x0, w) of one row, scalar. The two divisions are done in float: for a
// numerator x < 2^16 and a divisor D <= 510 the correctly rounded float quotient never reaches the next
// integer (the gap is at least 1/D, the rounding error at most 2^-24 * 2^8), so truncation gives exactly
// floor(x / D). An exhaustive check over all 2^24 colours backs this, and test/features-parity.test.ts runs
// every colour through both kernels. Written without branches, like the vector version below.
template <bool kDelta>
inline void ColourScalar(const uint8_t* __restrict p, int x0, int w, uint8_t* __restrict yRow, uint8_t* __restrict cbRow,
                         uint8_t* __restrict crRow, uint8_t* __restrict hRow, uint8_t* __restrict sRow,
                         uint8_t* __restrict vRow, const uint8_t* __restrict phRow, const uint8_t* __restrict psRow,
                         const uint8_t* __restrict pvRow, RowSums& acc) {
  for (int x = x0; x < w; ++x) {
    const int r = p[3 * x], g = p[3 * x + 1], b = p[3 * x + 2];
    const int y = (77 * r + 150 * g + 29 * b + 128) >> 8;
    const int cb = ((-43 * r - 85 * g + 128 * b + 128) >> 8) + 128;
    const int cr = ((128 * r - 107 * g - 21 * b + 128) >> 8) + 128;
    yRow[x] = static_cast<uint8_t>(y);
    cbRow[x] = static_cast<uint8_t>(cb < 0 ? 0 : (cb > 255 ? 255 : cb));
    crRow[x] = static_cast<uint8_t>(cr < 0 ? 0 : (cr > 255 ? 255 : cr));

    const int mx = r > g ? (r > b ? r : b) : (g > b ? g : b);
    const int mn = r < g ? (r < b ? r : b) : (g < b ? g : b);
    const int d = mx - mn;
    const int sat = static_cast<int>(static_cast<float>(255 * d + (mx >> 1)) / static_cast<float>(mx > 0 ? mx : 1));
    const int num = mx == r ? g - b : (mx == g ? b - r : r - g);
    const int base = mx == r ? -30 : (mx == g ? 30 : 90);
    // floorDiv(60 num + d, 2d) = floor((60 num + 61 d) / 2d) - 30, whose numerator is never negative. The
    // result lies in -30..150, so only the negative wrap can apply.
    int hue = base + static_cast<int>(static_cast<float>(60 * num + 61 * d) / static_cast<float>(2 * (d > 0 ? d : 1)));
    hue = d == 0 ? 0 : (hue < 0 ? hue + 180 : hue);
    hRow[x] = static_cast<uint8_t>(hue);
    sRow[x] = static_cast<uint8_t>(sat);
    vRow[x] = static_cast<uint8_t>(mx);
    if (kDelta) {
      const int dh = hue > phRow[x] ? hue - phRow[x] : phRow[x] - hue;
      acc.dh += static_cast<uint32_t>(dh < 180 - dh ? dh : 180 - dh);
      acc.ds += static_cast<uint32_t>(sat > psRow[x] ? sat - psRow[x] : psRow[x] - sat);
      acc.dv += static_cast<uint32_t>(mx > pvRow[x] ? mx - pvRow[x] : pvRow[x] - mx);
    }
    acc.y += static_cast<uint32_t>(y);
    acc.y2 += static_cast<uint32_t>(y * y);
    acc.rgb += static_cast<uint32_t>(r + g + b);
  }
}

#if defined(SCENESCOPE_SSE2)
// The same conversions on 16 pixels at a time with SSE2 (the x86-64 baseline). Values are kept in 16-bit
// lanes wherever they fit; the chroma sums would reach 32768, so they are shifted in two steps:
// floor((u + 128) / 256) == ((u >> 1) + 64) >> 7. The divisions go through float in 32-bit lanes, exactly
// as in the scalar code. Elsewhere (arm64) the branchless scalar loop is left to the auto-vectoriser.
inline __m128i Mul16(__m128i a, int k) { return _mm_mullo_epi16(a, _mm_set1_epi16(static_cast<int16_t>(k))); }

// floor(a / b) for 16-bit lanes 0 <= a < 2^16 (unsigned), 1 <= b < 2^15, via float; result in signed 16 bits.
inline __m128i DivTrunc16(__m128i a, __m128i b) {
  const __m128i zero = _mm_setzero_si128();
  const __m128 lo = _mm_div_ps(_mm_cvtepi32_ps(_mm_unpacklo_epi16(a, zero)), _mm_cvtepi32_ps(_mm_unpacklo_epi16(b, zero)));
  const __m128 hi = _mm_div_ps(_mm_cvtepi32_ps(_mm_unpackhi_epi16(a, zero)), _mm_cvtepi32_ps(_mm_unpackhi_epi16(b, zero)));
  return _mm_packs_epi32(_mm_cvttps_epi32(lo), _mm_cvttps_epi32(hi));
}

inline __m128i AbsDiffU8(__m128i a, __m128i b) { return _mm_or_si128(_mm_subs_epu8(a, b), _mm_subs_epu8(b, a)); }

inline uint64_t SumU64(__m128i v) {
  uint64_t lanes[2];
  _mm_storeu_si128(reinterpret_cast<__m128i*>(lanes), v);
  return lanes[0] + lanes[1];
}

// One 8-pixel half (16-bit lanes): hue and saturation.
inline void HueSat16(__m128i r, __m128i g, __m128i b, __m128i mx, __m128i d, __m128i isR, __m128i isG, __m128i* hue,
                     __m128i* sat) {
  const __m128i zero = _mm_setzero_si128();
  const __m128i one = _mm_set1_epi16(1);
  *sat = DivTrunc16(_mm_add_epi16(Mul16(d, 255), _mm_srli_epi16(mx, 1)), _mm_max_epi16(mx, one));
  // Priority as in the scalar code: V == R first, then V == G, else B.
  const __m128i selG = _mm_andnot_si128(isR, isG);
  const __m128i selB = _mm_andnot_si128(_mm_or_si128(isR, isG), _mm_set1_epi16(-1));
  const __m128i num = _mm_or_si128(_mm_or_si128(_mm_and_si128(isR, _mm_sub_epi16(g, b)), _mm_and_si128(selG, _mm_sub_epi16(b, r))),
                                   _mm_and_si128(selB, _mm_sub_epi16(r, g)));
  const __m128i base = _mm_or_si128(_mm_or_si128(_mm_and_si128(isR, _mm_set1_epi16(-30)), _mm_and_si128(selG, _mm_set1_epi16(30))),
                                    _mm_and_si128(selB, _mm_set1_epi16(90)));
  __m128i h = _mm_add_epi16(base, DivTrunc16(_mm_add_epi16(Mul16(num, 60), Mul16(d, 61)), _mm_slli_epi16(_mm_max_epi16(d, one), 1)));
  h = _mm_add_epi16(h, _mm_and_si128(_mm_cmplt_epi16(h, zero), _mm_set1_epi16(180)));
  *hue = _mm_andnot_si128(_mm_cmpeq_epi16(d, zero), h);
}

// Pixels [0, w - w % 16) from the planes R, G, B.
template <bool kDelta>
inline void ColourSse2(const uint8_t* __restrict R, const uint8_t* __restrict G, const uint8_t* __restrict B, int w,
                       uint8_t* __restrict yRow, uint8_t* __restrict cbRow, uint8_t* __restrict crRow,
                       uint8_t* __restrict hRow, uint8_t* __restrict sRow, uint8_t* __restrict vRow,
                       const uint8_t* __restrict phRow, const uint8_t* __restrict psRow,
                       const uint8_t* __restrict pvRow, RowSums& acc) {
  const __m128i zero = _mm_setzero_si128();
  const __m128i c128 = _mm_set1_epi16(128);
  const __m128i c64 = _mm_set1_epi16(64);
  __m128i sy = zero, sy2 = zero, srgb = zero, sdh = zero, sds = zero, sdv = zero;
  for (int x = 0; x + 16 <= w; x += 16) {
    const __m128i r8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(R + x));
    const __m128i g8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(G + x));
    const __m128i b8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(B + x));
    __m128i y16[2], cb16[2], cr16[2], hue16[2], sat16[2];
    const __m128i mx8 = _mm_max_epu8(r8, _mm_max_epu8(g8, b8));
    const __m128i d8 = _mm_sub_epi8(mx8, _mm_min_epu8(r8, _mm_min_epu8(g8, b8)));
    const __m128i isR8 = _mm_cmpeq_epi8(mx8, r8);
    const __m128i isG8 = _mm_cmpeq_epi8(mx8, g8);
    for (int half = 0; half < 2; ++half) {
      const __m128i r = half == 0 ? _mm_unpacklo_epi8(r8, zero) : _mm_unpackhi_epi8(r8, zero);
      const __m128i g = half == 0 ? _mm_unpacklo_epi8(g8, zero) : _mm_unpackhi_epi8(g8, zero);
      const __m128i b = half == 0 ? _mm_unpacklo_epi8(b8, zero) : _mm_unpackhi_epi8(b8, zero);
      const __m128i mx = half == 0 ? _mm_unpacklo_epi8(mx8, zero) : _mm_unpackhi_epi8(mx8, zero);
      const __m128i d = half == 0 ? _mm_unpacklo_epi8(d8, zero) : _mm_unpackhi_epi8(d8, zero);
      const __m128i isR = half == 0 ? _mm_unpacklo_epi8(isR8, isR8) : _mm_unpackhi_epi8(isR8, isR8);
      const __m128i isG = half == 0 ? _mm_unpacklo_epi8(isG8, isG8) : _mm_unpackhi_epi8(isG8, isG8);
      // Y: the weighted sum is below 2^16, so unsigned 16-bit wrap-around arithmetic is exact.
      y16[half] = _mm_srli_epi16(_mm_add_epi16(_mm_add_epi16(Mul16(r, 77), Mul16(g, 150)), _mm_add_epi16(Mul16(b, 29), c128)), 8);
      const __m128i u = _mm_sub_epi16(_mm_slli_epi16(b, 7), _mm_add_epi16(Mul16(r, 43), Mul16(g, 85)));
      const __m128i v = _mm_sub_epi16(_mm_slli_epi16(r, 7), _mm_add_epi16(Mul16(g, 107), Mul16(b, 21)));
      cb16[half] = _mm_add_epi16(_mm_srai_epi16(_mm_add_epi16(_mm_srai_epi16(u, 1), c64), 7), c128);
      cr16[half] = _mm_add_epi16(_mm_srai_epi16(_mm_add_epi16(_mm_srai_epi16(v, 1), c64), 7), c128);
      HueSat16(r, g, b, mx, d, isR, isG, &hue16[half], &sat16[half]);
      sy2 = _mm_add_epi32(sy2, _mm_madd_epi16(y16[half], y16[half]));
    }
    // packus saturates to 0..255: that is the clamp of Cb and Cr.
    const __m128i y8 = _mm_packus_epi16(y16[0], y16[1]);
    const __m128i hue8 = _mm_packus_epi16(hue16[0], hue16[1]);
    const __m128i sat8 = _mm_packus_epi16(sat16[0], sat16[1]);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(yRow + x), y8);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(cbRow + x), _mm_packus_epi16(cb16[0], cb16[1]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(crRow + x), _mm_packus_epi16(cr16[0], cr16[1]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(hRow + x), hue8);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(sRow + x), sat8);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(vRow + x), mx8);
    if (kDelta) {
      const __m128i dh = AbsDiffU8(hue8, _mm_loadu_si128(reinterpret_cast<const __m128i*>(phRow + x)));
      sdh = _mm_add_epi64(sdh, _mm_sad_epu8(_mm_min_epu8(dh, _mm_sub_epi8(_mm_set1_epi8(static_cast<char>(180)), dh)), zero));
      sds = _mm_add_epi64(sds, _mm_sad_epu8(AbsDiffU8(sat8, _mm_loadu_si128(reinterpret_cast<const __m128i*>(psRow + x))), zero));
      sdv = _mm_add_epi64(sdv, _mm_sad_epu8(AbsDiffU8(mx8, _mm_loadu_si128(reinterpret_cast<const __m128i*>(pvRow + x))), zero));
    }
    sy = _mm_add_epi64(sy, _mm_sad_epu8(y8, zero));
    srgb = _mm_add_epi64(srgb, _mm_add_epi64(_mm_sad_epu8(r8, zero), _mm_add_epi64(_mm_sad_epu8(g8, zero), _mm_sad_epu8(b8, zero))));
  }
  uint32_t sq[4];
  _mm_storeu_si128(reinterpret_cast<__m128i*>(sq), sy2);
  acc.y += static_cast<uint32_t>(SumU64(sy));
  acc.y2 += sq[0] + sq[1] + sq[2] + sq[3];
  acc.rgb += static_cast<uint32_t>(SumU64(srgb));
  acc.dh += static_cast<uint32_t>(SumU64(sdh));
  acc.ds += static_cast<uint32_t>(SumU64(sds));
  acc.dv += static_cast<uint32_t>(SumU64(sdv));
}
#endif

// One row: vector body, scalar tail. `planes` is scratch of 3 x w bytes.
template <bool kDelta>
inline void ColourRow(const uint8_t* __restrict p, int w, uint8_t* __restrict planes, uint8_t* __restrict yRow,
                      uint8_t* __restrict cbRow, uint8_t* __restrict crRow, uint8_t* __restrict hRow,
                      uint8_t* __restrict sRow, uint8_t* __restrict vRow, const uint8_t* __restrict phRow,
                      const uint8_t* __restrict psRow, const uint8_t* __restrict pvRow, RowSums& out) {
  RowSums acc;
  int x0 = 0;
#if defined(SCENESCOPE_SSE2)
  // Packed 3-byte pixels do not load into SSE2 lanes; split the row into planes first.
  x0 = w - w % 16;
  uint8_t* __restrict R = planes;
  uint8_t* __restrict G = planes + w;
  uint8_t* __restrict B = planes + 2 * w;
  for (int x = 0; x < x0; ++x) {
    R[x] = p[3 * x];
    G[x] = p[3 * x + 1];
    B[x] = p[3 * x + 2];
  }
  ColourSse2<kDelta>(R, G, B, x0, yRow, cbRow, crRow, hRow, sRow, vRow, phRow, psRow, pvRow, acc);
#else
  (void)planes;
#endif
  ColourScalar<kDelta>(p, x0, w, yRow, cbRow, crRow, hRow, sRow, vRow, phRow, psRow, pvRow, acc);
  out = acc;
}

inline uint64_t SumRange(const uint32_t* __restrict col, int a, int b) {
  uint64_t s = 0;
  for (int x = a; x < b; ++x) s += col[x];
  return s;
}

// Row y has just been added to the column sums: record it as the start or end snapshot of the cell rows
// that begin after it or end on it.
void Snapshot(Scratch& s, int y) {
  if (s.snapRows[y] & 1) {
    uint64_t cells[kGridW * 3];
    for (int cx = 0; cx < kGridW; ++cx) {
      cells[cx * 3] = SumRange(s.colY.data(), s.gx0[cx], s.gx1[cx]);
      cells[cx * 3 + 1] = SumRange(s.colCb.data(), s.gx0[cx], s.gx1[cx]);
      cells[cx * 3 + 2] = SumRange(s.colCr.data(), s.gx0[cx], s.gx1[cx]);
    }
    for (int cy = 0; cy < kGridH; ++cy) {
      if (s.gy0[cy] - 1 == y) std::memcpy(s.gridStart[cy], cells, sizeof cells);
      if (s.gy1[cy] - 1 == y) std::memcpy(s.gridEnd[cy], cells, sizeof cells);
    }
  }
  if (s.snapRows[y] & 2) {
    uint64_t cells[kHashSide];
    for (int px = 0; px < kHashSide; ++px) cells[px] = SumRange(s.colY.data(), s.px0[px], s.px1[px]);
    for (int py = 0; py < kHashSide; ++py) {
      if (s.py0[py] - 1 == y) std::memcpy(s.thumbStart[py], cells, sizeof cells);
      if (s.py1[py] - 1 == y) std::memcpy(s.thumbEnd[py], cells, sizeof cells);
    }
  }
}

inline uint32_t RoundedMean(uint64_t sum, uint64_t count) { return static_cast<uint32_t>((sum + count / 2) / count); }

void HashFromThumbnail(const int16_t* thumb, uint32_t* hash) {
  const CosineTable& table = Cosines();
  const int32_t* C = table.value;
  const int16_t* C16 = table.value16;
  // rowT[v][y] = sum_x C[v][x] * P[y][x]: |C| <= 4096 and P <= 255, so 32 terms stay below 2^25 and the
  // 16 x 16 -> 32-bit products vectorise (pmaddwd).
  int32_t rowT[kDctSide][kHashSide];
  for (int v = 0; v < kDctSide; ++v) {
    for (int y = 0; y < kHashSide; ++y) {
      int32_t s = 0;
      for (int x = 0; x < kHashSide; ++x) s += static_cast<int32_t>(C16[v * kHashSide + x]) * thumb[y * kHashSide + x];
      rowT[v][y] = s;
    }
  }
  int64_t dct[kDctSide * kDctSide];
  for (int u = 0; u < kDctSide; ++u) {
    for (int v = 0; v < kDctSide; ++v) {
      int64_t s = 0;
      for (int y = 0; y < kHashSide; ++y) s += static_cast<int64_t>(C[u * kHashSide + y]) * rowT[v][y];
      dct[u * kDctSide + v] = s;
    }
  }
  int64_t ac[kDctSide * kDctSide - 1];
  std::copy(dct + 1, dct + kDctSide * kDctSide, ac);
  std::nth_element(ac, ac + 31, ac + 63);
  const int64_t median = ac[31];
  uint32_t words[2] = {0, 0};
  for (int i = 1; i < kDctSide * kDctSide; ++i) {
    if (dct[i] > median) words[i >> 5] |= uint32_t{1} << (31 - (i & 31));
  }
  hash[0] = words[0];
  hash[1] = words[1];
}

// One frame. `scalars == nullptr` primes the previous-frame planes without producing outputs.
template <bool kDelta>
void ProcessFrame(const uint8_t* rgb, Scratch& s, double* scalars, uint32_t* hist, uint32_t* hash, uint8_t* grid) {
  const int w = s.w, h = s.h;
  const size_t n = static_cast<size_t>(w) * h;
  const bool emit = scalars != nullptr;
  uint8_t* curHsv = s.hsv[s.cur].data();
  const uint8_t* prevHsv = s.hsv[1 - s.cur].data();
  uint8_t* luma = s.luma.data();

  // Four sub-histograms so that runs of equal luma do not serialise on one counter.
  uint32_t localHist[4][kHistBins];
  std::memset(localHist, 0, sizeof localHist);
  if (emit) {
    std::fill(s.colY.begin(), s.colY.end(), 0);
    std::fill(s.colCb.begin(), s.colCb.end(), 0);
    std::fill(s.colCr.begin(), s.colCr.end(), 0);
    // Cell rows that start at row 0 have no snapshot before them: their start is zero.
    for (int cy = 0; cy < kGridH && s.gy0[cy] == 0; ++cy) std::memset(s.gridStart[cy], 0, sizeof s.gridStart[cy]);
    for (int py = 0; py < kHashSide && s.py0[py] == 0; ++py) std::memset(s.thumbStart[py], 0, sizeof s.thumbStart[py]);
  }
  uint64_t sumY = 0, sumY2 = 0, sumRGB = 0, sumDH = 0, sumDS = 0, sumDV = 0;

  // 1. Colour sweep.
  for (int y = 0; y < h; ++y) {
    const size_t off = static_cast<size_t>(y) * w;
    uint8_t* yRow = luma + off;
    RowSums rs;
    ColourRow<kDelta>(rgb + 3 * off, w, s.planes.data(), yRow, s.cbRow.data(), s.crRow.data(), curHsv + off, curHsv + n + off,
                      curHsv + 2 * n + off, prevHsv + off, prevHsv + n + off, prevHsv + 2 * n + off, rs);
    int x = 0;
    for (; x + 4 <= w; x += 4) {
      localHist[0][yRow[x] >> 2]++;
      localHist[1][yRow[x + 1] >> 2]++;
      localHist[2][yRow[x + 2] >> 2]++;
      localHist[3][yRow[x + 3] >> 2]++;
    }
    for (; x < w; ++x) localHist[0][yRow[x] >> 2]++;
    sumY += rs.y;
    sumY2 += rs.y2;
    sumRGB += rs.rgb;
    sumDH += rs.dh;
    sumDS += rs.ds;
    sumDV += rs.dv;
    if (!emit) continue;
    uint32_t* __restrict cY = s.colY.data();
    uint32_t* __restrict cCb = s.colCb.data();
    uint32_t* __restrict cCr = s.colCr.data();
    const uint8_t* __restrict rCb = s.cbRow.data();
    const uint8_t* __restrict rCr = s.crRow.data();
    for (int i = 0; i < w; ++i) {
      cY[i] += yRow[i];
      cCb[i] += rCb[i];
      cCr[i] += rCr[i];
    }
    if (s.snapRows[y] != 0) Snapshot(s, y);
  }

  // 2. Luma sweep: Sobel magnitude and Laplacian over interior pixels.
  uint64_t sumMag = 0, sumLap = 0;
  uint16_t* mag = s.mag.data();
  for (int y = 1; y < h - 1; ++y) {
    const uint8_t* __restrict a = luma + static_cast<size_t>(y - 1) * w;
    const uint8_t* __restrict b = a + w;
    const uint8_t* __restrict c = b + w;
    uint16_t* __restrict m = mag + static_cast<size_t>(y) * w;
    uint32_t rowMag = 0, rowLap = 0;
    for (int x = 1; x < w - 1; ++x) {
      const int gx = (a[x + 1] + 2 * b[x + 1] + c[x + 1]) - (a[x - 1] + 2 * b[x - 1] + c[x - 1]);
      const int gy = (c[x - 1] + 2 * c[x] + c[x + 1]) - (a[x - 1] + 2 * a[x] + a[x + 1]);
      const int mg = std::abs(gx) + std::abs(gy);
      m[x] = static_cast<uint16_t>(mg);
      rowMag += static_cast<uint32_t>(mg);
      rowLap += static_cast<uint32_t>(std::abs(4 * b[x] - a[x] - c[x] - b[x - 1] - b[x + 1]));
    }
    sumMag += rowMag;
    sumLap += rowLap;
  }
  const uint64_t ni = static_cast<uint64_t>(w - 2) * (h - 2);

  // 3. Edge sweep: threshold, dilate horizontally, then vertically while comparing with the previous mask.
  const uint16_t threshold = static_cast<uint16_t>(std::max<uint64_t>(64, 2 * sumMag / ni));
  uint64_t edgeCount = 0;
  uint8_t* __restrict e = s.edgeRow.data();
  for (int y = 0; y < h; ++y) {
    const uint16_t* __restrict m = mag + static_cast<size_t>(y) * w;
    uint8_t* __restrict hd = s.hdil.data() + static_cast<size_t>(y) * w;
    uint32_t rowEdges = 0;
    for (int x = 0; x < w; ++x) {
      e[x] = m[x] > threshold ? 1 : 0;
      rowEdges += e[x];
    }
    edgeCount += rowEdges;
    hd[0] = e[0] | e[1];
    for (int x = 1; x < w - 1; ++x) hd[x] = e[x - 1] | e[x] | e[x + 1];
    hd[w - 1] = e[w - 2] | e[w - 1];
  }
  uint8_t* dilCur = s.dil[s.cur].data();
  const uint8_t* dilPrev = s.dil[1 - s.cur].data();
  uint64_t edgeDiff = 0;
  for (int y = 0; y < h; ++y) {
    const size_t off = static_cast<size_t>(y) * w;
    const uint8_t* __restrict mid = s.hdil.data() + off;
    const uint8_t* __restrict up = y > 0 ? mid - w : mid;
    const uint8_t* __restrict down = y < h - 1 ? mid + w : mid;
    uint8_t* __restrict dc = dilCur + off;
    const uint8_t* __restrict dp = dilPrev + off;
    uint32_t rowDiff = 0;
    for (int x = 0; x < w; ++x) {
      const uint8_t v = up[x] | mid[x] | down[x];
      dc[x] = v;
      if (kDelta) rowDiff += static_cast<uint32_t>(v ^ dp[x]);
    }
    edgeDiff += rowDiff;
  }
  s.cur = 1 - s.cur;
  if (!emit) return;

  // Outputs.
  const double nd = static_cast<double>(n);
  const double mean = static_cast<double>(sumY) / nd;
  scalars[0] = kDelta ? static_cast<double>(sumDH) / nd : 0.0;
  scalars[1] = kDelta ? static_cast<double>(sumDS) / nd : 0.0;
  scalars[2] = kDelta ? static_cast<double>(sumDV) / nd : 0.0;
  scalars[3] = kDelta ? static_cast<double>(255 * edgeDiff) / nd : 0.0;
  scalars[4] = mean;
  scalars[5] = std::sqrt(std::max(0.0, static_cast<double>(sumY2) / nd - mean * mean));
  scalars[6] = static_cast<double>(sumRGB) / (3.0 * nd);
  scalars[7] = static_cast<double>(edgeCount) / nd;
  scalars[8] = static_cast<double>(sumLap) / static_cast<double>(ni);
  for (int i = 0; i < kHistBins; ++i) hist[i] = localHist[0][i] + localHist[1][i] + localHist[2][i] + localHist[3][i];

  for (int cy = 0; cy < kGridH; ++cy) {
    const uint64_t rows = static_cast<uint64_t>(s.gy1[cy] - s.gy0[cy]);
    for (int cx = 0; cx < kGridW; ++cx) {
      const uint64_t cnt = rows * static_cast<uint64_t>(s.gx1[cx] - s.gx0[cx]);
      const int idx = (cy * kGridW + cx) * 3;
      for (int c = 0; c < 3; ++c) {
        grid[idx + c] = static_cast<uint8_t>(RoundedMean(s.gridEnd[cy][cx * 3 + c] - s.gridStart[cy][cx * 3 + c], cnt));
      }
    }
  }
  int16_t thumb[kHashSide * kHashSide];
  for (int py = 0; py < kHashSide; ++py) {
    const uint64_t rows = static_cast<uint64_t>(s.py1[py] - s.py0[py]);
    for (int px = 0; px < kHashSide; ++px) {
      const uint64_t cnt = rows * static_cast<uint64_t>(s.px1[px] - s.px0[px]);
      thumb[py * kHashSide + px] = static_cast<int16_t>(RoundedMean(s.thumbEnd[py][px] - s.thumbStart[py][px], cnt));
    }
  }
  HashFromThumbnail(thumb, hash);
}

}  // namespace

void ComputeBatch(const uint8_t* frames, int width, int height, int count, bool hasPrev, const BatchOutput& out) {
  Scratch& s = tScratch;
  s.Prepare(width, height);
  const size_t frameBytes = static_cast<size_t>(width) * height * 3;
  const uint8_t* frame = frames;
  bool havePrev = false;
  if (hasPrev) {
    ProcessFrame<false>(frame, s, nullptr, nullptr, nullptr, nullptr);
    frame += frameBytes;
    havePrev = true;
  }
  for (int i = 0; i < count; ++i, frame += frameBytes) {
    double* scalars = out.scalars + static_cast<size_t>(i) * kScalarCount;
    uint32_t* hist = out.hist + static_cast<size_t>(i) * kHistBins;
    uint32_t* hash = out.hash + static_cast<size_t>(i) * kHashWords;
    uint8_t* grid = out.grid + static_cast<size_t>(i) * kGridSize;
    if (havePrev) ProcessFrame<true>(frame, s, scalars, hist, hash, grid);
    else ProcessFrame<false>(frame, s, scalars, hist, hash, grid);
    havePrev = true;
  }
}

const int32_t* CosTable() { return Cosines().value; }

}  // namespace scenescope
