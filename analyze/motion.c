#include <string.h>
#include "motion.h"

// The loops are built for the machine's widest vector unit at load time
// (AVX2 where there is one; glibc picks the build, by ifunc); plain
// loops elsewhere (other compilers, C libraries and processors).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__GLIBC__)
#define VG_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define VG_CLONES
#endif

// reflect101 is OpenCV's BORDER_REFLECT_101 index of p in [0, len).
static int reflect101(int p, int len) {
	if (len == 1)
		return 0;
	while (p < 0 || p >= len) {
		if (p < 0)
			p = -p;
		else
			p = 2 * (len - 1) - p;
	}
	return p;
}

// hrow writes the horizontal 1 4 6 4 1 sums of one row (at most
// 16 x 255: 16 bits) to out; ext is a w+4 scratch row.
VG_CLONES static void hrow(const uint8_t *src, int w, uint8_t *ext, uint16_t *out) {
	ext[0] = src[reflect101(-2, w)];
	ext[1] = src[reflect101(-1, w)];
	memcpy(ext + 2, src, (size_t)w);
	ext[w + 2] = src[reflect101(w, w)];
	ext[w + 3] = src[reflect101(w + 1, w)];
	for (int x = 0; x < w; x++)
		out[x] = (uint16_t)(ext[x] + ext[x + 4] + 4 * (ext[x + 1] + ext[x + 3]) + 6 * ext[x + 2]);
}

// vcol writes the vertical 1 4 6 4 1 sums of five rows of horizontal
// sums, rounded and divided by 256, to dst.
VG_CLONES static void vcol(const uint16_t *r0, const uint16_t *r1, const uint16_t *r2, const uint16_t *r3,
	const uint16_t *r4, int w, uint8_t *dst) {
	for (int x = 0; x < w; x++) {
		uint32_t s = (uint32_t)r0[x] + r4[x] + 4u * ((uint32_t)r1[x] + r3[x]) + 6u * r2[x];
		dst[x] = (uint8_t)((s + 128) >> 8);
	}
}

void vg_blur5(const uint8_t *src, int sstride, uint8_t *dst, int dstride, int w, int h, uint16_t *rows) {
	// Five rows of horizontal sums, a ring indexed by source row mod 5,
	// and the bordered scratch row.
	uint8_t *ext = (uint8_t *)(rows + 5 * (size_t)w);
	int have[5] = {-1, -1, -1, -1, -1}; // the source row each slot holds
	for (int y = 0; y < h; y++) {
		const uint16_t *r[5];
		for (int k = 0; k < 5; k++) {
			int sy = reflect101(y + k - 2, h);
			int slot = sy % 5;
			if (have[slot] != sy) {
				hrow(src + (size_t)sy * sstride, w, ext, rows + (size_t)slot * w);
				have[slot] = sy;
			}
			r[k] = rows + (size_t)slot * w;
		}
		vcol(r[0], r[1], r[2], r[3], r[4], w, dst + (size_t)y * dstride);
	}
}

// compare writes one block's mask and returns how many pixels it set;
// keep is NULL or the pixels analyzed. Narrow types keep the loop in
// 8- and 16-bit vector lanes.
static inline int compare(const uint8_t *restrict blurred, const uint16_t *restrict avg, uint8_t *restrict mask,
	const uint8_t *restrict keep, int n, uint8_t thresh) {
	uint16_t count = 0; // n <= block: no overflow
	for (int i = 0; i < n; i++) {
		uint16_t v = avg[i];
		// The average's gray level, rounded half to even as OpenCV's
		// conversions do (v <= 255 * 256: no overflow).
		uint8_t a8 = (uint8_t)((uint16_t)(v + 127 + ((v >> 8) & 1)) >> 8);
		uint8_t b = blurred[i];
		uint8_t d = b > a8 ? b - a8 : a8 - b;
		uint8_t m = d > thresh ? 255 : 0;
		if (keep)
			m &= keep[i] ? 255 : 0;
		mask[i] = m;
		count += m & 1;
	}
	return count;
}

// update moves one block of the average toward blurred by wq (weight,
// 15 fractional bits), rounded to the nearest 256th of a gray level:
// |blurred*256 - avg| * wq < 2^31.
static inline void update(const uint8_t *restrict blurred, uint16_t *restrict avg, int n, int32_t wq) {
	for (int i = 0; i < n; i++) {
		int32_t v = avg[i];
		int32_t t = ((int32_t)blurred[i] << 8) - v;
		avg[i] = (uint16_t)(v + ((t * wq + (1 << 14)) >> 15));
	}
}

VG_CLONES int vg_diff_step(const uint8_t *blurred, uint16_t *avg, uint8_t *mask, const uint8_t *keep, int n, int thresh,
	double weight) {
	enum { block = 4096 }; // in the first-level cache: compared, then updated
	if (weight < 0)
		weight = 0;
	if (weight > 1)
		weight = 1;
	const int32_t wq = (int32_t)(weight * 32768 + 0.5);
	// thresh >= 255: no difference is over it.
	const uint8_t th = thresh < 0 ? 0 : thresh > 255 ? 255 : (uint8_t)thresh;
	int count = 0;
	for (int i = 0; i < n; i += block) {
		int k = n - i < block ? n - i : block;
		if (mask && keep) {
			count += compare(blurred + i, avg + i, mask + i, keep + i, k, th);
		} else if (mask) {
			count += compare(blurred + i, avg + i, mask + i, NULL, k, th);
		}
		update(blurred + i, avg + i, k, wq);
	}
	return count;
}

static int gcd(int a, int b) {
	while (b) {
		int t = a % b;
		a = b;
		b = t;
	}
	return a;
}

// area_taps gives output position o, of dn over a source of sn, its
// first source position and the integer weights of the source positions
// it covers (overlaps in units of 1/dn, divided by g); it returns their
// number.
static int area_taps(int o, int sn, int dn, int g, int *first, uint32_t *w) {
	long lo = (long)o * sn, hi = (long)(o + 1) * sn; // in units of 1/dn
	int i0 = (int)(lo / dn), n = 0;
	*first = i0;
	for (int i = i0; (long)i * dn < hi && i < sn; i++) {
		long a = (long)i * dn > lo ? (long)i * dn : lo;
		long b = (long)(i + 1) * dn < hi ? (long)(i + 1) * dn : hi;
		w[n++] = (uint32_t)((b - a) / g);
	}
	return n;
}

// vacc adds weight v times the source row to acc (the first row sets it).
VG_CLONES static void vacc(const uint8_t *row, uint32_t *acc, int n, uint32_t v, int first) {
	if (first) {
		for (int i = 0; i < n; i++)
			acc[i] = v * row[i];
	} else {
		for (int i = 0; i < n; i++)
			acc[i] += v * row[i];
	}
}

// hout writes one output row from the column sums acc: output x sums its
// taps' weighted column sums (zero weights pad the outputs with fewer)
// and divides by the total, rounded: (s * mul + add) >> 32, exact for
// sums up to 255 times a total under 4096 (vg_area divides beyond). Whole factors sum f columns unweighted; the fixed tap
// counts of the common factors let the compiler unroll and vectorize.
#define HOUT_WHOLE(F)                                                                                \
	for (int x = 0; x < dw; x++) {                                                                   \
		uint32_t s = 0;                                                                              \
		for (int k = 0; k < (F); k++)                                                                \
			s += acc[x * (F) + k];                                                                   \
		out[x] = (uint8_t)(((uint64_t)s * mul + add) >> 32);                                         \
	}
#define HOUT(N)                                                                                      \
	for (int x = 0; x < dw; x++) {                                                                   \
		const uint32_t *a = acc + first[x], *w = weights + (size_t)x * maxTaps;                      \
		uint32_t s = 0;                                                                              \
		for (int k = 0; k < (N); k++)                                                                \
			s += w[k] * a[k];                                                                        \
		out[x] = (uint8_t)(((uint64_t)s * mul + add) >> 32);                                         \
	}

VG_CLONES static void hout(const uint32_t *acc, uint8_t *out, int dw, int whole, int taps, const int *first,
	const uint32_t *weights, int maxTaps, uint64_t mul, uint64_t add) {
	switch (whole) {
	case 2:
		HOUT_WHOLE(2);
		return;
	case 4:
		HOUT_WHOLE(4);
		return;
	case 5:
		HOUT_WHOLE(5);
		return;
	}
	switch (taps) {
	case 2:
		HOUT(2);
		break;
	case 3:
		HOUT(3);
		break;
	case 4:
		HOUT(4);
		break;
	default:
		HOUT(taps);
	}
}

// hout_div is hout with an integer division (a total of 4096 or more,
// where the fixed-point inverse is not exact): s + total/2 stays under
// 2^32 (s <= 255 * 2^24).
static void hout_div(const uint32_t *acc, uint8_t *out, int dw, int taps, const int *first, const uint32_t *weights,
	int maxTaps, uint32_t total) {
	for (int x = 0; x < dw; x++) {
		const uint32_t *a = acc + first[x], *w = weights + (size_t)x * maxTaps;
		uint32_t s = 0;
		for (int k = 0; k < taps; k++)
			s += w[k] * a[k];
		out[x] = (uint8_t)((s + total / 2) / total);
	}
}

void vg_area(const uint8_t *src, int sstride, int sw, int sh, uint8_t *dst, int dstride, int dw, int dh, uint32_t *scratch) {
	if (dw < 1 || dh < 1 || dw > sw || dh > sh || sw / dw > VG_AREA_MAX || sh / dh > VG_AREA_MAX)
		return; // outside the contract: the caller checks it
	int gx = gcd(sw, dw), gy = gcd(sh, dh);
	int maxTaps = sw / dw + 2;
	uint32_t *acc = scratch;                    // sw column sums
	int *first = (int *)(scratch + sw);         // dw first source columns
	int *count = first + dw;                    // dw tap counts
	uint32_t *weights = (uint32_t *)(count + dw); // dw x maxTaps
	for (int x = 0; x < dw; x++) {
		uint32_t *w = weights + (size_t)x * maxTaps;
		count[x] = area_taps(x, sw, dw, gx, &first[x], w);
		for (int k = count[x]; k < maxTaps; k++)
			w[k] = 0;
	}
	// Every output pixel's weights sum to (sw/gx) * (sh/gy): the
	// division by it is a multiplication by its inverse in 32-bit fixed
	// point, or a division.
	uint32_t total = (uint32_t)(sw / gx) * (uint32_t)(sh / gy);
	int exact = total < 4096;
	uint64_t mul = ((uint64_t)1 << 32) / total + 1, add = (uint64_t)(total / 2) * mul;
	// Outputs with fewer taps than the most are padded with zero weights
	// (their reads past the last column stay inside the scratch: its
	// tables follow the column sums).
	int taps = 0;
	for (int x = 0; x < dw; x++)
		taps = count[x] > taps ? count[x] : taps;
	int whole = sw % dw == 0 ? sw / dw : 0;
	uint32_t vw[VG_AREA_MAX + 2];
	for (int y = 0; y < dh; y++) {
		int fy;
		int ny = area_taps(y, sh, dh, gy, &fy, vw);
		for (int k = 0; k < ny; k++)
			vacc(src + (size_t)(fy + k) * sstride, acc, sw, vw[k], k == 0);
		uint8_t *out = dst + (size_t)y * dstride;
		if (exact)
			hout(acc, out, dw, whole, taps, first, weights, maxTaps, mul, add);
		else
			hout_div(acc, out, dw, taps, first, weights, maxTaps, total);
	}
}

#define VG_MIN(a, b) ((a) < (b) ? (a) : (b))
#define VG_MAX(a, b) ((a) > (b) ? (a) : (b))
#define VG_SORT(a, b)                                                                                \
	do {                                                                                             \
		uint8_t lo = VG_MIN(a, b), hi = VG_MAX(a, b);                                                \
		a = lo;                                                                                      \
		b = hi;                                                                                      \
	} while (0)

VG_CLONES void vg_median7(const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, const uint8_t *r3, const uint8_t *r4,
	const uint8_t *r5, const uint8_t *r6, uint8_t *out, int n) {
	for (int i = 0; i < n; i++) {
		uint8_t p0 = r0[i], p1 = r1[i], p2 = r2[i], p3 = r3[i], p4 = r4[i], p5 = r5[i], p6 = r6[i];
		VG_SORT(p0, p5);
		VG_SORT(p0, p3);
		VG_SORT(p1, p6);
		VG_SORT(p2, p4);
		p1 = VG_MAX(p0, p1);
		VG_SORT(p3, p5);
		VG_SORT(p2, p6);
		p3 = VG_MAX(p2, p3);
		p3 = VG_MIN(p3, p6);
		p4 = VG_MIN(p4, p5);
		VG_SORT(p1, p4);
		p3 = VG_MAX(p1, p3);
		p3 = VG_MIN(p3, p4);
		out[i] = p3;
	}
}
