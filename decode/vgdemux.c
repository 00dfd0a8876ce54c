#include "vgdemux.h"

#include <libavcodec/avcodec.h>
#include <libavcodec/bsf.h>
#include <libavformat/avformat.h>

struct vg_demux {
	AVFormatContext *fmt;
	AVBSFContext *bsf;
	AVPacket *in;
	AVPacket *out;
	int stream;
	int eof;
};

void vg_demux_close(vg_demux *d) {
	if (!d) return;
	av_packet_free(&d->in);
	av_packet_free(&d->out);
	av_bsf_free(&d->bsf);
	avformat_close_input(&d->fmt);
	av_free(d);
}

vg_demux *vg_demux_open(const char *path, int *err, int *hevc, double *fps, const char **codec_name) {
	vg_demux *d = av_mallocz(sizeof(*d));
	if (!d) { *err = AVERROR(ENOMEM); return NULL; }
	int r = avformat_open_input(&d->fmt, path, NULL, NULL);
	if (r < 0) { *err = r; av_free(d); return NULL; }
	if ((r = avformat_find_stream_info(d->fmt, NULL)) < 0) { *err = r; vg_demux_close(d); return NULL; }
	d->stream = av_find_best_stream(d->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
	if (d->stream < 0) { *err = VG_DEMUX_ENOVIDEO; vg_demux_close(d); return NULL; }
	AVStream *st = d->fmt->streams[d->stream];
	enum AVCodecID id = st->codecpar->codec_id;
	*codec_name = avcodec_get_name(id);
	const char *filter;
	if (id == AV_CODEC_ID_H264) { *hevc = 0; filter = "h264_mp4toannexb"; }
	else if (id == AV_CODEC_ID_HEVC) { *hevc = 1; filter = "hevc_mp4toannexb"; }
	else { *err = VG_DEMUX_ECODEC; vg_demux_close(d); return NULL; }
	// The base frame rate, unless it is a clock rate (some MP4 exports);
	// then the average.
	double base = st->r_frame_rate.den > 0 ? av_q2d(st->r_frame_rate) : 0;
	double avg = st->avg_frame_rate.den > 0 ? av_q2d(st->avg_frame_rate) : 0;
	*fps = (base >= 1 && base <= 120) ? base : (avg >= 1 && avg <= 120) ? avg : 0;
	const AVBitStreamFilter *f = av_bsf_get_by_name(filter);
	if (!f) { *err = AVERROR_BSF_NOT_FOUND; vg_demux_close(d); return NULL; }
	if ((r = av_bsf_alloc(f, &d->bsf)) < 0 ||
	    (r = avcodec_parameters_copy(d->bsf->par_in, st->codecpar)) < 0) {
		*err = r; vg_demux_close(d); return NULL;
	}
	d->bsf->time_base_in = st->time_base;
	if ((r = av_bsf_init(d->bsf)) < 0) { *err = r; vg_demux_close(d); return NULL; }
	d->in = av_packet_alloc();
	d->out = av_packet_alloc();
	if (!d->in || !d->out) { *err = AVERROR(ENOMEM); vg_demux_close(d); return NULL; }
	return d;
}

int vg_demux_next(vg_demux *d, const uint8_t **data, int *size, int *key) {
	av_packet_unref(d->out);
	for (;;) {
		int r = av_bsf_receive_packet(d->bsf, d->out);
		if (r == 0) {
			*data = d->out->data;
			*size = d->out->size;
			*key = (d->out->flags & AV_PKT_FLAG_KEY) != 0;
			return 0;
		}
		if (r == AVERROR_EOF) return 1;
		if (r != AVERROR(EAGAIN)) return r;
		if (d->eof) return 1;
		// Feed the filter the next packet of the video stream.
		for (;;) {
			av_packet_unref(d->in);
			r = av_read_frame(d->fmt, d->in);
			if (r == AVERROR_EOF) {
				d->eof = 1;
				if ((r = av_bsf_send_packet(d->bsf, NULL)) < 0) return r;
				break;
			}
			if (r < 0) return r;
			if (d->in->stream_index != d->stream) continue;
			if ((r = av_bsf_send_packet(d->bsf, d->in)) < 0) return r;
			break;
		}
	}
}
