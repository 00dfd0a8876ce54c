#ifndef VIGIL_ANALYZE_MOTION_H
#define VIGIL_ANALYZE_MOTION_H
#include <stdint.h>
// vg_blur5 writes to dst the w x h 8-bit picture src blurred as OpenCV's
// cv::GaussianBlur does with a 5x5 kernel, sigma 0 and BORDER_REFLECT_101
// (the binomial kernel 1 4 6 4 1, fixed point, rounded once: bit-exact).
// rows is its scratch: vg_blur5_rows(w) 16-bit values.
static inline int vg_blur5_rows(int w) { return 5 * w + (w + 5) / 2; }
void vg_blur5(const uint8_t *src, int sstride, uint8_t *dst, int dstride, int w, int h, uint16_t *rows);
// vg_diff_step runs the diff background's step over n pixels: the average
// avg (16-bit, 8 fractional bits) rounded to a gray level is compared with
// blurred; mask is 255 where they differ by more than thresh (0..255; and
// keep, when not NULL, is not 0), 0 elsewhere; then the average moves
// toward blurred by weight (0..1), rounded to a 256th of a gray level.
// mask is not written when it is NULL. It returns the number of mask
// pixels set. It does what OpenCV's ConvertTo, AbsDiff, Threshold,
// BitwiseAnd, AccumulatedWeighted and ConvertTo did, in integers: the
// average is theirs within a 256th of a gray level.
int vg_diff_step(const uint8_t *blurred, uint16_t *avg, uint8_t *mask, const uint8_t *keep, int n, int thresh, double weight);
// vg_area shrinks the sw x sh 8-bit picture src to dw x dh (dw <= sw,
// dh <= sh) as OpenCV's cv::resize with INTER_AREA does: each output
// pixel is the mean of the source area it covers, partial pixels weighed
// by their share. The weights are integers (the overlaps in units of
// 1/dw and 1/dh of a source pixel, divided by gcd(sw, dw) and
// gcd(sh, dh)) and the exact mean is rounded once, a half up (OpenCV
// rounds it to even: within one gray level). The product of the two
// weight sums (sw/gcd(sw, dw) times sh/gcd(sh, dh)) must be at most
// 1<<24, and each factor (sw/dw, sh/dh) at most VG_AREA_MAX; src and dst
// must not overlap. scratch holds vg_area_scratch(sw, dw) 32-bit values.
#define VG_AREA_MAX 32
static inline int vg_area_scratch(int sw, int dw) { return sw + 2 * dw + dw * (sw / dw + 2); }
void vg_area(const uint8_t *src, int sstride, int sw, int sh, uint8_t *dst, int dstride, int dw, int dh, uint32_t *scratch);
// vg_median7 sets out[i] to the median of r[0][i] .. r[6][i], i < n, by
// a compare-exchange network (13 exchanges, after N. Devillard's
// opt_med7): branch-free, vectorized.
void vg_median7(const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, const uint8_t *r3, const uint8_t *r4,
	const uint8_t *r5, const uint8_t *r6, uint8_t *out, int n);
#endif
