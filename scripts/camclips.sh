#!/usr/bin/env bash
# Makes camera-realistic clips from real footage: vtest.avi from Debian's
# opencv-doc (768x576, 10 fps, pedestrians filmed by a fixed camera).
#
#   scripts/camclips.sh OUTDIR
#
# Every clip has sensor noise (so P-frames are the size a real camera
# sends, not 40 bytes), no B-frames, an IDR every 2 s, and a still view
# for its first 6 s:
#   sub-motion.{h264,h265}   640x360 25 fps ~500 kbps: still 6 s, people
#                            walking 6-16 s, still again 16-22 s
#   sub-static.{h264,h265}   640x360 25 fps ~500 kbps: the still view, 22 s
#   main-motion.{h264,h265}  1920x1080 15 fps ~4 Mbps, same timeline,
#                            4 slices per picture (H.264)
#   main-static.{h264,h265}  1920x1080 15 fps ~4 Mbps, still
#   mid-motion, mid-static   1280x720 25 fps ~2 Mbps, the same two
#                            timelines; made only with CAMCLIPS_MID=1
#   sub-tamper.h264          640x360: still, covered 8-13 s, defocused 21-26 s
#   sub-frozen.h264          640x360: still, the source frozen from 10 s
#                            (CRF 23, an IDR every 2 s), 30 s
#   sub-quiet.h264           640x360: still and live, low noise at CRF 35
#                            (22 kbps, an IDR every 4 s): runs of identical
#                            pictures longer than frozen_time, 30 s
#   sub-enter.h264           640x360 25 fps ~500 kbps: the square empty
#                            (a median of vtest's pictures) 6 s, people wiped in
#                            over 1 s, walking to 16 s, wiped out over 1 s,
#                            empty again to 22 s: each loop, people appear
#                            in a view that holds no one (bench live
#                            --stagger times the first inference on it)
# Every encoding is deterministic (one thread in x264, x265 and the filters:
# x264's and x265's threads make each encoding a little different, and a
# still view that did not wake the gate on one woke it on another), so the
# same ffmpeg makes the same bytes on any machine: SHA256SUMS in OUTDIR.
# H.264 carries AUD and SEI NAL units. Each clip also comes remuxed as
# NAME.CODEC.mkv (timestamps in the container, for GStreamer's RTSP
# server and the container inputs of bench). Clips already present are kept
# (delete OUTDIR to remake them; a change of this recipe, CLIPS_VERSION,
# remakes them). Takes about a minute on 2 cores.
#
# The encoder's first GOP is not realistic (x264 starts a rate-controlled
# stream with P-frames of 20 bytes, under the sensor noise): every clip is
# encoded with 2 s more at its start and that first GOP is dropped, so a
# clip starts with the encoder in its steady state and a looping simulator
# camera shows no start-up transient at each loop, as a real camera never
# restarts its encoder mid-stream.
set -euo pipefail
out=${1:?usage: camclips.sh OUTDIR}
source "$(dirname "${BASH_SOURCE[0]}")/vtest.sh"
src=$vtest
CLIPS_VERSION=3
mkdir -p "$out"
if [ "$(cat "$out/VERSION" 2>/dev/null)" != "$CLIPS_VERSION" ]; then
	rm -f "$out"/*.h264 "$out"/*.h265 "$out"/*.mkv
fi

# timeline FPS W H MOTION: the composite picture stream, as a filter graph.
timeline() {
	local fps=$1 w=$2 h=$3 motion=$4
	local still="[0:v]trim=start_frame=0:end_frame=1,loop=loop=79:size=1,setpts=N/10/TB"
	if [ "$motion" = 1 ]; then
		echo "$still[a];[0:v]trim=start_frame=1:end_frame=101,setpts=PTS-STARTPTS[b];[0:v]trim=start_frame=100:end_frame=101,loop=loop=59:size=1,setpts=N/10/TB[c];[a][b][c]concat=n=3:v=1,fps=$fps,scale=$w:$h,noise=alls=6:allf=t,format=yuv420p"
	else
		echo "[0:v]trim=start_frame=0:end_frame=1,loop=loop=239:size=1,setpts=N/10/TB,fps=$fps,scale=$w:$h,noise=alls=6:allf=t,format=yuv420p"
	fi
}

# cut FILE FORMAT GOP: FILE is FILE.tmp without its first GOP (GOP access
# units); every keyframe carries its parameter sets.
cut() {
	ffmpeg -nostdin -loglevel error -y -i "$1.tmp" -c copy -bsf:v "noise=drop=lt(n\\,$3)" -f "$2" "$1.cut"
	rm -f "$1.tmp"
	mv "$1.cut" "$1"
}

# make NAME FPS W H MOTION KBPS
make() {
	local name=$1 fps=$2 w=$3 h=$4 motion=$5 kbps=$6
	local g=$((fps * 2))
	local f264="$out/$name.h264" f265="$out/$name.h265"
	local slices=1
	[ "$w" -ge 1920 ] && slices=4
	if [ ! -s "$f264" ]; then
		ffmpeg -nostdin -loglevel error -y -filter_complex_threads 1 -i "$src" -filter_complex "$(timeline "$fps" "$w" "$h" "$motion")" \
			-c:v libx264 -threads 1 -preset veryfast -profile:v main -bf 0 -g "$g" -keyint_min "$g" -sc_threshold 0 \
			-b:v "${kbps}k" -maxrate "$((kbps * 5 / 4))k" -bufsize "$((kbps * 2))k" \
			-x264-params "aud=1:slices=$slices:threads=1:sliced-threads=0" -f h264 "$f264.tmp"
		cut "$f264" h264 "$g"
	fi
	if [ ! -s "$f265" ]; then
		ffmpeg -nostdin -loglevel error -y -filter_complex_threads 1 -i "$src" -filter_complex "$(timeline "$fps" "$w" "$h" "$motion")" \
			-c:v libx265 -preset ultrafast -threads 1 -b:v "${kbps}k" \
			-x265-params "log-level=error:pools=none:frame-threads=1:keyint=$g:min-keyint=$g:scenecut=0:bframes=0:repeat-headers=1:vbv-maxrate=$((kbps * 5 / 4)):vbv-bufsize=$((kbps * 2))" \
			-f hevc "$f265.tmp"
		cut "$f265" hevc "$g"
	fi
	for f in "$f264" "$f265"; do
		if [ ! -s "$f.mkv" ]; then
			ffmpeg -nostdin -loglevel error -y -framerate "$fps" -i "$f" -c copy -f matroska "$f.mkv.tmp"
			mv "$f.mkv.tmp" "$f.mkv"
		fi
	done
}

# sub-tamper.h264: the still view (32 s), covered (black) from 8 s to 13 s
# and out of focus from 21 s to 26 s: tamper on real footage.
tamper() {
	local f="$out/sub-tamper.h264"
	[ -s "$f" ] && return
	ffmpeg -nostdin -loglevel error -y -filter_complex_threads 1 -i "$src" -filter_complex \
		"[0:v]trim=start_frame=0:end_frame=1,loop=loop=339:size=1,setpts=N/10/TB,fps=25,scale=640:360,gblur=sigma=12:enable='between(t,23,28)',drawbox=color=black@0.97:t=fill:enable='between(t,10,15)',noise=alls=6:allf=t,format=yuv420p" \
		-c:v libx264 -threads 1 -preset veryfast -profile:v main -bf 0 -g 50 -keyint_min 50 -sc_threshold 0 \
		-b:v 500k -maxrate 625k -bufsize 1000k -x264-params aud=1:threads=1:sliced-threads=0 -f h264 "$f.tmp"
	cut "$f" h264 50
}

# frozen NAME FILTER RATECONTROL GOP: the still view (30 s) with FILTER
# after its noise; frozen is a source that stops on picture 250 (10 s), its
# noise with it; quiet a live view whose encoder quantizes its faint noise
# away between keyframes (a smart-codec camera on a still scene): no
# tamper at all.
frozen() {
	local f="$out/$1.h264"
	[ -s "$f" ] && return
	# shellcheck disable=SC2086 # $3 is several options
	ffmpeg -nostdin -loglevel error -y -filter_complex_threads 1 -i "$src" -filter_complex \
		"[0:v]trim=start_frame=0:end_frame=1,loop=loop=299:size=1,setpts=N/10/TB,fps=25,scale=640:360,$2" \
		-c:v libx264 -threads 1 -preset veryfast -profile:v main -bf 0 -g "$4" -keyint_min "$4" -sc_threshold 0 \
		$3 -x264-params aud=1:threads=1:sliced-threads=0 -f h264 "$f.tmp"
	mv "$f.tmp" "$f"
}

# sub-enter.h264: people walk into an empty view and leave it. The empty
# view is the per-pixel median of 25 of vtest's pictures 1.6 s apart
# (everyone walks on).
enter() {
	local f="$out/sub-enter.h264" bg="$out/.empty.png"
	[ -s "$f" ] && return
	ffmpeg -nostdin -loglevel error -y -threads 1 -filter_threads 1 -i "$src" \
		-vf "select=not(mod(n\\,16)),tmedian=radius=12,trim=start_frame=25:end_frame=26" -frames:v 1 -update 1 "$bg"
	local norm="scale=640:360,format=yuv420p,setsar=1,settb=1/10"
	# 2 s more at the start, dropped by cut as in make.
	ffmpeg -nostdin -loglevel error -y -filter_complex_threads 1 -threads 1 \
		-loop 1 -framerate 10 -t 9 -i "$bg" -i "$src" -loop 1 -framerate 10 -t 6 -i "$bg" -filter_complex \
		"[0:v]$norm[a];[1:v]trim=start_frame=1:end_frame=111,setpts=PTS-STARTPTS,$norm[b];[2:v]$norm[c];[a][b]xfade=transition=wipeleft:duration=1:offset=8[ab];[ab][c]xfade=transition=wiperight:duration=1:offset=18,fps=25,noise=alls=6:allf=t,format=yuv420p" \
		-c:v libx264 -threads 1 -preset veryfast -profile:v main -bf 0 -g 50 -keyint_min 50 -sc_threshold 0 \
		-b:v 500k -maxrate 625k -bufsize 1000k -x264-params aud=1:threads=1:sliced-threads=0 -f h264 "$f.tmp"
	rm -f "$bg"
	cut "$f" h264 50
}

tamper
enter
frozen sub-frozen "noise=alls=6:allf=t,format=yuv420p,split[a][b];[a][b]freezeframes=first=250:last=749:replace=250" "-crf 23" 50
frozen sub-quiet "noise=alls=3:allf=t,format=yuv420p" "-crf 35" 100
make sub-motion 25 640 360 1 500
make sub-static 25 640 360 0 500
make main-motion 15 1920 1080 1 4000
make main-static 15 1920 1080 0 4000
# 720p, on demand (bench live --profile mid): CAMCLIPS_MID=1.
if [ -n "${CAMCLIPS_MID:-}" ]; then
	make mid-motion 25 1280 720 1 2000
	make mid-static 25 1280 720 0 2000
fi
(cd "$out" && sha256sum -- *.h264 *.h265 >SHA256SUMS)
echo "$CLIPS_VERSION" >"$out/VERSION"
