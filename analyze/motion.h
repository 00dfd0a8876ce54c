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
#endif
