// vgdec.h is the small C surface of package decode over libavcodec and
// libswscale. Every function is called from Go through cgo; nothing here
// keeps a pointer to Go memory after returning.
#ifndef VIGIL_VGDEC_H
#define VIGIL_VGDEC_H

#include <stdint.h>

typedef struct vg_dec vg_dec;

// vg_pic describes the picture produced by the last vg_decode call.
typedef struct vg_pic {
	int got;    // 1 when at least one picture came out of this call
	int width;  // of the last picture
	int height; // of the last picture
	int64_t pts; // pts of the packet that produced the last picture
	int corrupt; // the last picture was concealed: slices or references missing
	int key;     // a picture out of this call is a keyframe (libavcodec's flag: an IDR, an IRAP)
} vg_pic;

void vg_quiet(void);
vg_dec *vg_open(int hevc, int *err);
void vg_close(vg_dec *d);
int vg_decode(vg_dec *d, const uint8_t *data, int size, int64_t pts, vg_pic *out);
int vg_scale_gray(vg_dec *d, uint8_t *dst, int dst_w, int dst_h, int dst_stride);
int vg_scale_bgr(vg_dec *d, uint8_t *dst, int dst_w, int dst_h, int dst_stride);
void vg_set_skip_nonkey(vg_dec *d, int on);
void vg_set_no_deblock(vg_dec *d, int on);
void vg_flush(vg_dec *d);
// vg_drain: the pictures held back for reordering come out (the last one
// in out), then vg_flush.
int vg_drain(vg_dec *d, vg_pic *out);
void vg_forget(vg_dec *d); // vg_flush, and the last picture is released
int vg_set_sws_flags(vg_dec *d, int flags);
// vg_set_box: whole-factor shrinks of 8-bit luma averaged by vg_dec's own
// box filter (1, the default) or by swscale (0).
void vg_set_box(vg_dec *d, int on);
int vg_boxed(vg_dec *d); // pictures the box filter scaled
void vg_set_limits(vg_dec *d, int64_t max_pixels, int max_chroma, int max_depth);
void vg_trim(void); // returns freed heap memory to the system (glibc)
int vg_err_is_nomem(int err);
void vg_strerror(int err, char *buf, int size);

#endif
