#!/usr/bin/env bash
# Makes the activity gate's encoding matrix: still views of real footage
# that people or vehicles enter, encoded the ways real cameras encode.
#
#   scripts/gatematrix.sh OUTDIR
#   GATE_STILL=1165 scripts/gatematrix.sh OUTDIR   # a still view of 116.5 s
#   GATE_PAL=1 scripts/gatematrix.sh OUTDIR        # + 12 standard-definition clips
#   (a change of GATE_STILL or GATE_PAL makes OUTDIR's clips again)
#
# Sources (a still picture held, with sensor noise, then the footage plays):
#   vtest    vtest.avi (Debian opencv-doc): pedestrians, 768x576 10 fps
#   highway  testdata/footage/highway.mkv: a road from above, a car enters
#   office   testdata/footage/office.mkv: two people walk towards the camera
# Encodings (640x360 25 fps substreams, ~500 kbps, IDR every 2 s, light
# temporal noise, unless the name says otherwise):
#   cbr      x264 CBR with HRD (nal-hrd=cbr, filler data)
#   vbv      x264 VBR capped by a VBV (maxrate 625k, buffer 1000k)
#   crf      x264 CRF 23, GOP 1 s
#   gop05    vbv, GOP 0.5 s;  gop10: vbv, GOP 10 s
#   dyn      vbv, dynamic GOP: keyframes on scene change (scenecut 40),
#            at most every 10 s
#   bf       vbv with 3 B-frames (decode order differs from display order)
#   og       bf with open GOPs (x264 open-gop: one IDR, at the start, then
#            intra pictures with a recovery point SEI; the clip starts at
#            one of those)
#   x265u    x265 ultrafast VBV, no B-frames;  x265f: x265 fast, its default
#            4 B-frames
#   x265c    x265 veryfast at constant bitrate (bitrate, maxrate and buffer
#            500k, HRD signalled), no B-frames: an IP camera's H.265 CBR
#   *-n0     no noise;  *-night: dark, heavy temporal grain (noise 24)
#   main     1920x1080 15 fps 4 Mbps VBV, 4 slices (vtest only)
#   pal      720x576 25 fps 1 Mbps VBV, High profile (GATE_PAL=1 only)
#   pali     pal interlaced: 50 fields a second, MBAFF, top field first
# Every clip (NAME.h264 or NAME.h265) is 24 s: still for 16.5 s, then the
# footage plays (the entering), then holds its last picture. MANIFEST lists
# NAME CODEC FPS ENTER_SECONDS, the input of `vigil bench gate --matrix`.
#
# Deterministic: one thread in x264 (threads=1, no sliced threads), x265
# (pools=none, frame-threads=1) and the filters, fixed noise seeds, so one
# ffmpeg build makes the same bytes on any machine: OUTDIR/SHA256SUMS
# records them (scripts/gatematrix.sha256 has those of Debian 12's FFmpeg
# 5.1; a different build may differ, and is reported, not refused).
# As camclips.sh does, 2 s more are encoded at the start, with a keyframe
# forced at 2 s, and dropped: the encoder's start-up is no camera's steady
# state. Clips already present are kept (a change of MATRIX_VERSION remakes
# them all). About 2-3 minutes on 2 cores.
set -euo pipefail
out=${1:?usage: gatematrix.sh OUTDIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
footage="$here/../testdata/footage"
source "$here/vtest.sh"
MATRIX_VERSION=2
# Times in tenths of a second: entering at 16.5 s of the clip, off the
# keyframes of every GOP length. GATE_STILL (tenths) lengthens the still
# view: an engine runs for hours, and its first seconds learn the encoder's
# noise.
lead=20 still=${GATE_STILL:-165} motion=80
[ "$still" != 165 ] && MATRIX_VERSION="$MATRIX_VERSION-still$still"
# GATE_PAL=1 adds 12 clips of standard definition (720x576, 1 Mbps, the
# output of analog-camera encoders), progressive and interlaced (MBAFF,
# top field first), with light noise and night grain; not in the default
# matrix or its checksums.
[ "${GATE_PAL:-0}" = 1 ] && MATRIX_VERSION="$MATRIX_VERSION-pal"
mkdir -p "$out"
if [ "$(cat "$out/VERSION" 2>/dev/null)" != "$MATRIX_VERSION" ]; then
	rm -f "$out"/*.h264 "$out"/*.h265 "$out"/MANIFEST "$out"/SHA256SUMS
fi

# source NAME: sets src (file), sfps (its frame rate), sframe (the still
# picture; the footage plays from the next one).
source_of() {
	case $1 in
	vtest) src=$vtest sfps=10 sframe=0 ;;
	highway) src=$footage/highway.mkv sfps=30 sframe=56 ;; # the car enters at 58
	office) src=$footage/office.mkv sfps=12 sframe=0 ;;
	*) echo "gatematrix: unknown source $1" >&2; exit 1 ;;
	esac
}

# graph FPS W H NOISE: the picture stream as a filter graph: the still
# picture for lead+still seconds, the footage for up to motion seconds,
# then its last picture held, at FPS and WxH, with NOISE (n0, n6, night).
graph() {
	local fps=$1 w=$2 h=$3 noise=$4 il=${5:-}
	local n1=$(((lead + still) * sfps / 10)) nm=$((motion * sfps / 10)) look
	case $noise in
	n0) look="" ;;
	n6) look=",noise=alls=6:allf=t" ;;
	night) look=",eq=brightness=-0.18:contrast=0.55:saturation=0.2,noise=alls=24:allf=t" ;;
	esac
	echo "[0:v]trim=start_frame=$sframe:end_frame=$((sframe + 1)),loop=loop=$((n1 - 1)):size=1,setpts=N/$sfps/TB[a];" \
		"[0:v]trim=start_frame=$((sframe + 1)):end_frame=$((sframe + 1 + nm)),setpts=N/$sfps/TB[b];" \
		"[a][b]concat=n=2:v=1,tpad=stop_mode=clone:stop_duration=$((motion / 10)),trim=duration=$(((lead + still + motion) / 10))," \
		"fps=$fps,scale=$w:$h:flags=bicubic$look,format=yuv420p$il" | tr -d ' '
}

# clip SOURCE ENCODING NOISE: encodes OUTDIR/SOURCE-ENCODING[-NOISE].
clip() {
	local srcname=$1 enc=$2 noise=$3
	local name="$srcname-$enc"
	[ "$noise" != n6 ] && name="$name-$noise"
	source_of "$srcname"
	local fps=25 w=640 h=360 kbps=500 g=50 codec=h264
	local x264=(-c:v libx264 -threads 1 -preset veryfast -profile:v main -bf 0)
	local x264p="aud=1:threads=1:sliced-threads=0"
	local vbv=(-b:v 500k -maxrate 625k -bufsize 1000k)
	local args
	case $enc in
	cbr) args=("${x264[@]}" -g $g -keyint_min $g -sc_threshold 0 -b:v 500k -minrate 500k -maxrate 500k -bufsize 500k -x264-params "$x264p:nal-hrd=cbr:force-cfr=1") ;;
	vbv) args=("${x264[@]}" -g $g -keyint_min $g -sc_threshold 0 "${vbv[@]}" -x264-params "$x264p") ;;
	crf) g=25 args=("${x264[@]}" -g 25 -keyint_min 25 -sc_threshold 0 -crf 23 -x264-params "$x264p") ;;
	gop05) g=12 args=("${x264[@]}" -g 12 -keyint_min 12 -sc_threshold 0 "${vbv[@]}" -x264-params "$x264p") ;;
	gop10) g=250 args=("${x264[@]}" -g 250 -keyint_min 250 -sc_threshold 0 "${vbv[@]}" -x264-params "$x264p") ;;
	dyn) g=250 args=("${x264[@]}" -g 250 -keyint_min 25 -sc_threshold 40 "${vbv[@]}" -x264-params "$x264p") ;;
	og) args=("${x264[@]}" -bf 3 -g $g -keyint_min $g -sc_threshold 0 "${vbv[@]}" -x264-params "$x264p:open-gop=1") ;;
	bf) args=("${x264[@]}" -bf 3 -g $g -keyint_min $g -sc_threshold 0 "${vbv[@]}" -x264-params "$x264p") ;;
	pal | pali)
		# Standard definition at 1 Mbps; pali codes 50 fields a second as
		# 25 interlaced pictures (x264's MBAFF, top field first).
		w=720 h=576 args=(-c:v libx264 -threads 1 -preset veryfast -profile:v high -bf 0 -g $g -keyint_min $g -sc_threshold 0 -b:v 1000k -maxrate 1250k -bufsize 2000k -x264-params "$x264p")
		[ "$enc" = pali ] && args+=(-flags +ilme+ildct -top 1)
		;;
	main) fps=15 w=1920 h=1080 g=30 args=(-c:v libx264 -threads 1 -preset veryfast -profile:v main -bf 0 -g 30 -keyint_min 30 -sc_threshold 0 -b:v 4000k -maxrate 5000k -bufsize 8000k -x264-params "$x264p:slices=4") ;;
	x265u | x265f | x265c)
		codec=h265
		local preset=ultrafast bf=":bframes=0" rc=("${vbv[@]}")
		[ "$enc" = x265f ] && preset=fast bf=""
		[ "$enc" = x265c ] && preset=veryfast bf=":bframes=0:hrd=1" rc=(-b:v 500k -maxrate 500k -bufsize 500k)
		args=(-c:v libx265 -threads 1 -preset $preset "${rc[@]}" -forced-idr 1 -x265-params "log-level=error:pools=none:frame-threads=1:keyint=$g:min-keyint=$g:scenecut=0:repeat-headers=1$bf")
		;;
	*) echo "gatematrix: unknown encoding $enc" >&2; exit 1 ;;
	esac
	local f="$out/$name.$codec"
	if [ ! -s "$f" ]; then
		local fmt=h264
		[ "$codec" = h265 ] && fmt=hevc
		local gr
		if [ "$enc" = pali ]; then
			gr=$(graph 50 $w $h "$noise" ",tinterlace=mode=interleave_top,setfield=tff")
		else
			gr=$(graph $fps $w $h "$noise")
		fi
		ffmpeg -nostdin -loglevel error -y -filter_complex_threads 1 -i "$src" -filter_complex "$gr" \
			-force_key_frames "$((lead / 10))" "${args[@]}" -f $fmt "$f.tmp"
		# Drop the lead: the units before the keyframe forced at 2 s (in
		# decode order: an open GOP's keyframe comes before the B-frames
		# shown just before it).
		local cut=$((lead * fps / 10))
		if [ "$enc" = og ]; then
			# awk reads to the end: leaving early would kill ffprobe
			# with SIGPIPE on a long clip, and pipefail the script.
			cut=$(ffprobe -v error -f $fmt -i "$f.tmp" -show_packets -show_entries packet=flags -of csv=p=0 |
				awk -v from=$((cut - 8)) 'NR > from && /K/ && !found { print NR - 1; found = 1 }')
			[ -n "$cut" ] || { echo "gatematrix: $name: no keyframe after ${lead}00 ms in $f.tmp" >&2; exit 1; }
		fi
		ffmpeg -nostdin -loglevel error -y -i "$f.tmp" -c copy -bsf:v "noise=drop=lt(n\\,$cut)" -f $fmt "$f.cut"
		rm -f "$f.tmp"
		mv "$f.cut" "$f"
	fi
	echo "$name $codec $fps $((still / 10)).$((still % 10))" >>"$out/MANIFEST.tmp"
}

rm -f "$out/MANIFEST.tmp"
for s in vtest highway office; do
	for e in cbr vbv crf gop05 gop10 dyn bf og x265u x265f x265c; do
		clip $s $e n6
	done
	for e in cbr vbv; do
		clip $s $e n0
		clip $s $e night
	done
	clip $s x265c night
done
clip vtest main n6
if [ "${GATE_PAL:-0}" = 1 ]; then
	for s in vtest highway office; do
		for e in pal pali; do
			clip $s $e n6
			clip $s $e night
		done
	done
fi
mv "$out/MANIFEST.tmp" "$out/MANIFEST"
(cd "$out" && sha256sum -- *.h264 *.h265 >SHA256SUMS)
if [ "$still" = 165 ] && [ "${GATE_PAL:-0}" != 1 ] && ! cmp -s "$out/SHA256SUMS" "$here/gatematrix.sha256"; then
	echo "gatematrix: these encodings differ from scripts/gatematrix.sha256 (another FFmpeg, x264 or x265 build?): the tests hold on any encoding, the figures were measured on those" >&2
fi
echo "$MATRIX_VERSION" >"$out/VERSION"
