#include "vgdec.h"

#include <errno.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

// VG_MAX_PIXELS bounds the picture size a (possibly corrupt) parameter set
// can make the decoder allocate: a little over 8K UHD. vg_set_limits
// lowers it per decoder (the camera's limits).
#define VG_MAX_PIXELS (8192 * 4352)

#ifdef __GLIBC__
#include <malloc.h>
#endif

struct vg_dec {
	AVCodecContext *ctx;
	AVPacket *pkt;
	AVFrame *frame; // receive target
	AVFrame *last;  // last picture, a reference held until replaced or closed

	AVBufferPool *pool; // padded input buffers, reused once libavcodec lets go
	int pool_size;

	struct SwsContext *sws;
	struct SwsContext *sws_bgr; // snapshots in color, cached by sws_getCachedContext
	int sws_flags;
	int src_w, src_h, src_fmt; // last picture geometry the context was built for
	int dst_w, dst_h;
	int y_only; // scale the Y plane alone, as gray of the same depth
	int sws_src_fmt;
	int box;   // whole-factor shrinks of 8-bit luma by box_shrink, not swscale
	int boxed; // pictures box_shrink scaled (tests)
	uint16_t *box_rows; // box_shrink's sums, 2 rows of box_cap, kept between pictures
	int box_cap;

	// vg_set_limits: pictures of a richer chroma or a deeper sample are
	// refused by get_format, before libavcodec allocates them.
	int max_chroma; // chroma_format_idc: 1 4:2:0, 2 4:2:2, 3 4:4:4
	int max_depth;  // bits per sample
};

void vg_quiet(void) { av_log_set_level(AV_LOG_QUIET); }

int vg_err_is_nomem(int err) { return err == AVERROR(ENOMEM); }

void vg_strerror(int err, char *buf, int size) { av_strerror(err, buf, (size_t)size); }

void vg_close(vg_dec *d) {
	if (!d)
		return;
	avcodec_free_context(&d->ctx);
	av_packet_free(&d->pkt);
	av_frame_free(&d->frame);
	av_frame_free(&d->last);
	av_buffer_pool_uninit(&d->pool);
	sws_freeContext(d->sws);
	sws_freeContext(d->sws_bgr);
	av_free(d->box_rows);
	av_free(d);
}

// limited_format is the AVCodecContext's get_format: it takes the first
// software format within the decoder's limits, or refuses them all (the
// decoder then fails the frame without allocating it).
static enum AVPixelFormat limited_format(AVCodecContext *ctx, const enum AVPixelFormat *fmts) {
	vg_dec *d = ctx->opaque;
	for (const enum AVPixelFormat *p = fmts; *p != AV_PIX_FMT_NONE; p++) {
		const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(*p);
		if (!desc || (desc->flags & AV_PIX_FMT_FLAG_HWACCEL))
			continue;
		int chroma = 3;
		if (desc->nb_components < 3)
			chroma = 0;
		else if (desc->log2_chroma_w == 1 && desc->log2_chroma_h == 1)
			chroma = 1;
		else if (desc->log2_chroma_w == 1 && desc->log2_chroma_h == 0)
			chroma = 2;
		if (d && ((d->max_chroma > 0 && chroma > d->max_chroma) || (d->max_depth > 0 && desc->comp[0].depth > d->max_depth)))
			continue;
		return *p;
	}
	return AV_PIX_FMT_NONE;
}

void vg_set_limits(vg_dec *d, int64_t max_pixels, int max_chroma, int max_depth) {
	d->ctx->max_pixels = max_pixels > 0 && max_pixels < VG_MAX_PIXELS ? max_pixels : VG_MAX_PIXELS;
	d->max_chroma = max_chroma;
	d->max_depth = max_depth;
}

void vg_trim(void) {
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

vg_dec *vg_open(int hevc, int *err) {
	const AVCodec *codec = avcodec_find_decoder(hevc ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264);
	if (!codec) {
		*err = AVERROR_DECODER_NOT_FOUND;
		return NULL;
	}
	vg_dec *d = av_mallocz(sizeof(*d));
	if (!d) {
		*err = AVERROR(ENOMEM);
		return NULL;
	}
	// SWS_AREA averages every source pixel (no aliasing of noise or fine
	// texture); measured at 720p -> 320x180 it costs ~120 us against ~70 us
	// for SWS_FAST_BILINEAR, about 2% of the decode time of a frame. A
	// shrink by a whole factor (720p, 1080p, 360p to 320 wide) takes
	// box_shrink instead: the same means, 53 against 98 us at 720p.
	d->sws_flags = SWS_AREA;
	d->box = 1;
	d->ctx = avcodec_alloc_context3(codec);
	d->pkt = av_packet_alloc();
	d->frame = av_frame_alloc();
	d->last = av_frame_alloc();
	if (!d->ctx || !d->pkt || !d->frame || !d->last) {
		vg_close(d);
		*err = AVERROR(ENOMEM);
		return NULL;
	}
	d->ctx->thread_count = 1;
	d->ctx->flags |= AV_CODEC_FLAG_LOW_DELAY;
	d->ctx->max_pixels = VG_MAX_PIXELS;
	d->ctx->opaque = d;
	d->ctx->get_format = limited_format;
	int ret = avcodec_open2(d->ctx, codec, NULL);
	if (ret < 0) {
		vg_close(d);
		*err = ret;
		return NULL;
	}
	*err = 0;
	return d;
}

// drain moves every ready frame out of the decoder, keeping the last one.
static int drain(vg_dec *d, vg_pic *out) {
	for (;;) {
		int ret = avcodec_receive_frame(d->ctx, d->frame);
		if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
			return 0;
		if (ret < 0)
			return ret;
		av_frame_unref(d->last);
		av_frame_move_ref(d->last, d->frame);
		out->got = 1;
		out->width = d->last->width;
		out->height = d->last->height;
		out->pts = d->last->pts;
		out->corrupt = d->last->decode_error_flags != 0 || (d->last->flags & AV_FRAME_FLAG_CORRUPT) != 0;
#ifdef AV_FRAME_FLAG_KEY
		out->key |= (d->last->flags & AV_FRAME_FLAG_KEY) != 0;
#else
		out->key |= d->last->key_frame != 0;
#endif
	}
}

int vg_decode(vg_dec *d, const uint8_t *data, int size, int64_t pts, vg_pic *out) {
	out->got = 0;
	out->corrupt = 0;
	out->key = 0;
	if (size <= 0)
		return 0;
	int need = size + AV_INPUT_BUFFER_PADDING_SIZE;
	if (!d->pool || need > d->pool_size) {
		// Outstanding buffers of the old pool are freed when returned.
		av_buffer_pool_uninit(&d->pool);
		int psize = need < (1 << 29) ? need + need / 2 : need;
		d->pool = av_buffer_pool_init(psize, NULL);
		if (!d->pool)
			return AVERROR(ENOMEM);
		d->pool_size = psize;
	}
	AVBufferRef *buf = av_buffer_pool_get(d->pool);
	if (!buf)
		return AVERROR(ENOMEM);
	memcpy(buf->data, data, size);
	memset(buf->data + size, 0, AV_INPUT_BUFFER_PADDING_SIZE);
	d->pkt->buf = buf;
	d->pkt->data = buf->data;
	d->pkt->size = size;
	d->pkt->pts = pts;
	d->pkt->dts = AV_NOPTS_VALUE;

	int ret = avcodec_send_packet(d->ctx, d->pkt);
	if (ret == AVERROR(EAGAIN)) {
		// Not expected with low delay and one thread: make room and retry.
		int dret = drain(d, out);
		if (dret < 0) {
			av_packet_unref(d->pkt);
			return dret;
		}
		ret = avcodec_send_packet(d->ctx, d->pkt);
	}
	av_packet_unref(d->pkt);
	// A decoding error still consumed the packet; collect what came out.
	int dret = drain(d, out);
	if (ret < 0 && ret != AVERROR(EAGAIN))
		return ret;
	return dret;
}

void vg_set_skip_nonkey(vg_dec *d, int on) { d->ctx->skip_frame = on ? AVDISCARD_NONKEY : AVDISCARD_DEFAULT; }

// vg_set_no_deblock skips the in-loop filters (H.264's deblocking, and
// H.265's deblocking and SAO): the picture is not the encoder's, so no
// picture decoded after it may refer to it.
void vg_set_no_deblock(vg_dec *d, int on) { d->ctx->skip_loop_filter = on ? AVDISCARD_ALL : AVDISCARD_DEFAULT; }

void vg_flush(vg_dec *d) { avcodec_flush_buffers(d->ctx); }

int vg_drain(vg_dec *d, vg_pic *out) {
	out->got = 0;
	out->corrupt = 0;
	out->key = 0;
	int ret = avcodec_send_packet(d->ctx, NULL);
	int dret = drain(d, out);
	avcodec_flush_buffers(d->ctx); // leaves the end-of-stream state
	if (ret < 0 && ret != AVERROR_EOF)
		return ret;
	return dret;
}

void vg_forget(vg_dec *d) {
	avcodec_flush_buffers(d->ctx);
	av_frame_unref(d->last);
}

int vg_set_sws_flags(vg_dec *d, int flags) {
	int old = d->sws_flags;
	if (flags != old) {
		d->sws_flags = flags;
		sws_freeContext(d->sws);
		d->sws = NULL;
	}
	return old;
}

// gray_source picks how a picture format is read: the Y plane alone as a
// gray format of the same depth (no chroma work, same range as Y), or the
// whole picture converted by swscale.
static int gray_source(int fmt, int *y_only) {
	const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(fmt);
	*y_only = 0;
	if (!desc)
		return fmt;
	if (desc->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BITSTREAM |
	                   AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_FLOAT | AV_PIX_FMT_FLAG_BE))
		return fmt;
	const AVComponentDescriptor *y = &desc->comp[0];
	if (desc->nb_components < 1 || y->plane != 0 || y->offset != 0)
		return fmt;
	int gray = AV_PIX_FMT_NONE;
	if (y->step == 1 && y->depth == 8 && y->shift == 0)
		gray = AV_PIX_FMT_GRAY8;
	else if (y->step == 2 && y->shift == 0) {
		switch (y->depth) {
		case 9: gray = AV_PIX_FMT_GRAY9LE; break;
		case 10: gray = AV_PIX_FMT_GRAY10LE; break;
		case 12: gray = AV_PIX_FMT_GRAY12LE; break;
		case 14: gray = AV_PIX_FMT_GRAY14LE; break;
		case 16: gray = AV_PIX_FMT_GRAY16LE; break;
		}
	} else if (y->step == 2 && y->depth + y->shift == 16)
		gray = AV_PIX_FMT_GRAY16LE; // MSB-aligned, e.g. P010
	if (gray == AV_PIX_FMT_NONE)
		return fmt;
	*y_only = 1;
	return gray;
}

// The loops of box_shrink are built for the machine's widest vector unit
// at load time (AVX2 where there is one; glibc picks the build, by
// ifunc); plain loops elsewhere.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__GLIBC__)
#define VG_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define VG_CLONES
#endif

VG_CLONES static void box_rows(const uint8_t *restrict row, uint16_t *restrict acc, int w) {
	for (int x = 0; x < w; x++)
		acc[x] += row[x];
}

VG_CLONES static void box_pairs(const uint16_t *restrict in, uint16_t *restrict out, int w) {
	for (int x = 0; x < w; x++)
		out[x] = in[2 * x] + in[2 * x + 1];
}

static void box_groups(const uint16_t *in, uint16_t *out, int w, int k) {
	for (int x = 0; x < w; x++) {
		uint16_t s = 0;
		for (int i = 0; i < k; i++)
			s += in[x * k + i];
		out[x] = s;
	}
}

VG_CLONES static void box_mean(const uint16_t *restrict sum, uint8_t *restrict dst, int w, uint32_t half, uint64_t m) {
	for (int x = 0; x < w; x++)
		dst[x] = (uint8_t)(((uint64_t)(sum[x] + half) * m) >> 32);
}

// box_shrink shrinks the sw x sh 8-bit plane src to dw x dh when both
// sides shrink by a whole factor (up to 16): each output pixel the
// rounded mean of its kx x ky source pixels, which is what SWS_AREA
// computes there, within one level (TestBoxMatchesSwscale), in about half
// its time at 720p (vertical sums, then halvings, in vector lanes). It
// returns -1, doing nothing, for any other shrink or when out of memory.
static int box_shrink(vg_dec *d, const uint8_t *src, int sls, int sw, int sh, uint8_t *dst, int dls, int dw, int dh) {
	if (dw <= 0 || dh <= 0 || sw % dw || sh % dh)
		return -1;
	int kx = sw / dw, ky = sh / dh;
	if (kx > 16 || ky > 16 || kx * ky < 2)
		return -1;
	if (d->box_cap < sw) {
		uint16_t *rows = av_malloc(sizeof(uint16_t) * 2 * (size_t)sw);
		if (!rows)
			return -1;
		av_free(d->box_rows);
		d->box_rows = rows;
		d->box_cap = sw;
	}
	uint16_t *acc = d->box_rows, *tmp = acc + sw;
	const uint32_t n = (uint32_t)(kx * ky);
	// (x * m) >> 32 is x / n for every sum x < 2^16: m exceeds 2^32/n by
	// less than 1, so the error stays under x/2^32 < 1/n.
	const uint64_t m = 0xFFFFFFFFu / n + 1;
	for (int dy = 0; dy < dh; dy++) {
		memset(acc, 0, sizeof(uint16_t) * (size_t)sw);
		for (int j = 0; j < ky; j++)
			box_rows(src + (size_t)(dy * ky + j) * sls, acc, sw);
		uint16_t *in = acc, *out = tmp;
		int w = sw, k = kx;
		while (k % 2 == 0) {
			w /= 2;
			k /= 2;
			box_pairs(in, out, w);
			uint16_t *t = in;
			in = out;
			out = t;
		}
		if (k > 1) {
			box_groups(in, out, dw, k);
			in = out;
		}
		box_mean(in, dst + (size_t)dy * dls, dw, n / 2, m);
	}
	return 0;
}

void vg_set_box(vg_dec *d, int on) { d->box = on; }

int vg_boxed(vg_dec *d) { return d->boxed; }

int vg_scale_gray(vg_dec *d, uint8_t *dst, int dst_w, int dst_h, int dst_stride) {
	AVFrame *f = d->last;
	if (!f->buf[0] || f->width <= 0 || f->height <= 0)
		return AVERROR(EINVAL);
	if (!d->sws || f->width != d->src_w || f->height != d->src_h || f->format != d->src_fmt ||
	    dst_w != d->dst_w || dst_h != d->dst_h) {
		sws_freeContext(d->sws);
		d->sws_src_fmt = gray_source(f->format, &d->y_only);
		d->sws = sws_getContext(f->width, f->height, d->sws_src_fmt, dst_w, dst_h, AV_PIX_FMT_GRAY8,
		                        d->sws_flags, NULL, NULL, NULL);
		if (!d->sws)
			return AVERROR(EINVAL);
		d->src_w = f->width;
		d->src_h = f->height;
		d->src_fmt = f->format;
		d->dst_w = dst_w;
		d->dst_h = dst_h;
	}
	if (d->box && d->y_only && d->sws_src_fmt == AV_PIX_FMT_GRAY8 && d->sws_flags == SWS_AREA &&
	    box_shrink(d, f->data[0], f->linesize[0], f->width, f->height, dst, dst_stride, dst_w, dst_h) == 0) {
		d->boxed++;
		return 0;
	}
	const uint8_t *src[4] = {f->data[0], f->data[1], f->data[2], f->data[3]};
	int src_ls[4] = {f->linesize[0], f->linesize[1], f->linesize[2], f->linesize[3]};
	if (d->y_only) {
		src[1] = src[2] = src[3] = NULL;
		src_ls[1] = src_ls[2] = src_ls[3] = 0;
	}
	uint8_t *dsts[4] = {dst, NULL, NULL, NULL};
	int dst_ls[4] = {dst_stride, 0, 0, 0};
	int ret = sws_scale(d->sws, src, src_ls, 0, f->height, dsts, dst_ls);
	if (ret < 0)
		return ret;
	if (ret != dst_h)
		return AVERROR_EXTERNAL;
	return 0;
}

int vg_scale_bgr(vg_dec *d, uint8_t *dst, int dst_w, int dst_h, int dst_stride) {
	AVFrame *f = d->last;
	if (!f->buf[0] || f->width <= 0 || f->height <= 0)
		return AVERROR(EINVAL);
	d->sws_bgr = sws_getCachedContext(d->sws_bgr, f->width, f->height, f->format, dst_w, dst_h,
	                                  AV_PIX_FMT_BGR24, SWS_AREA, NULL, NULL, NULL);
	if (!d->sws_bgr)
		return AVERROR(EINVAL);
	uint8_t *dsts[4] = {dst, NULL, NULL, NULL};
	int dst_ls[4] = {dst_stride, 0, 0, 0};
	int ret = sws_scale(d->sws_bgr, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dsts, dst_ls);
	if (ret < 0)
		return ret;
	if (ret != dst_h)
		return AVERROR_EXTERNAL;
	return 0;
}
