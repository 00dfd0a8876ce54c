// vgdemux.h: reading H.264/H.265 video out of a container file (MP4, MKV,
// MPEG-TS, AVI, ...) with libavformat, as Annex-B access units.
#ifndef VIGIL_VGDEMUX_H
#define VIGIL_VGDEMUX_H

#include <stdint.h>

typedef struct vg_demux vg_demux;

// vg_demux_open opens path; *err is a negative AVERROR on failure, or
// VG_DEMUX_ENOVIDEO / VG_DEMUX_ECODEC (*codec_name then names the codec).
vg_demux *vg_demux_open(const char *path, int *err, int *hevc, double *fps, const char **codec_name);
// vg_demux_next returns the next access unit (Annex-B) in *data/*size,
// valid until the next call, with *key set for a keyframe; 0 on success,
// 1 at the end of the file, a negative AVERROR otherwise.
int vg_demux_next(vg_demux *d, const uint8_t **data, int *size, int *key);
void vg_demux_close(vg_demux *d);

#define VG_DEMUX_ENOVIDEO 1
#define VG_DEMUX_ECODEC 2

#endif
