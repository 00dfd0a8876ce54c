#!/usr/bin/env bash
# gen.sh regenerates the camera-like test clips embedded by package sim.
#
# All clips: 640x360, 25 fps, 10 s (250 frames), yuv420p, no B-frames, an IDR
# every 2 s exactly (every 50 frames, no scene-cut keyframes), SPS/PPS (and VPS
# for H.265) repeated before every IDR, raw Annex-B elementary streams.
#
# Scene: a static textured background (gray gradient + grid) with temporal
# sensor noise, so the streams are not trivially compressible.
#
# motion.h264 / motion.h265: a solid 80x80 white box enters from the left edge
#   at t=3.0 s (MotionStart), crosses horizontally and is fully out of the frame
#   at t=7.0 s (MotionEnd). Nothing moves outside [3 s, 7 s): the box is
#   partly visible from frame 76 (t=3.04 s) to frame 174 (t=6.96 s).
# static.h264: the same background and noise, nothing moves.
#
# Keep MotionStart/MotionEnd/ClipLength in clip.go in sync with these times.
# The outputs are committed (and embedded); another ffmpeg/x264/x265 version
# produces different bytes with the same properties.
set -euo pipefail
cd "$(dirname "$0")"

W=640
H=360
FPS=25
DUR=10
# Box x position: -80 at t=3 (just outside on the left), 640 at t=7 (just
# outside on the right): x = -80 + 180*(t-3); only drawn for 3 <= t < 7.
BOX_X='-80+180*(t-3)'
BOX_Y=140

background="color=c=0x505050:s=${W}x${H}:r=${FPS}:d=${DUR},format=yuv420p,geq=lum='60+X/8+Y/8':cb=128:cr=128,drawgrid=w=40:h=40:t=2:c=0xc0c0c0@0.6"
noise="noise=alls=3:allf=t"

static_graph="${background},${noise}[out]"
motion_graph="${background}[bg];color=c=white:s=80x80:r=${FPS}:d=${DUR}[box];[bg][box]overlay=x='${BOX_X}':y=${BOX_Y}:enable='between(t,3,7-0.001)':eof_action=pass,${noise}[out]"

common=(-hide_banner -loglevel error -y)

x264=(-c:v libx264 -preset medium -qp 26 -pix_fmt yuv420p -r "${FPS}"
	-g 50 -keyint_min 50 -sc_threshold 0 -bf 0
	-x264-params repeat-headers=1 -f h264)

x265=(-c:v libx265 -preset medium -crf 32 -pix_fmt yuv420p -r "${FPS}"
	-g 50 -keyint_min 50 -bf 0
	-x265-params "log-level=error:repeat-headers=1:scenecut=0:open-gop=0:bframes=0:keyint=50:min-keyint=50" -f hevc)

ffmpeg "${common[@]}" -filter_complex "${static_graph}" -map '[out]' -frames:v 250 "${x264[@]}" static.h264
ffmpeg "${common[@]}" -filter_complex "${motion_graph}" -map '[out]' -frames:v 250 "${x264[@]}" motion.h264
ffmpeg "${common[@]}" -filter_complex "${motion_graph}" -map '[out]' -frames:v 250 "${x265[@]}" motion.h265

ls -l static.h264 motion.h264 motion.h265
