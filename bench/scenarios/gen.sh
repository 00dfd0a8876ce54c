#!/usr/bin/env bash
# gen.sh regenerates the scored replay scenarios (vigil bench accuracy
# --scenarios bench/scenarios). Ground truth is by construction: each
# <name>.yaml states when this script makes things happen.
#
# Every clip: 640x360, 15 fps, 24 s (360 frames), H.264 Annex-B, no
# B-frames, an IDR every 2 s (30 frames, no scene-cut keyframes), SPS/PPS
# before every IDR, temporal sensor noise (alls=3). The scene is a still
# 1280x720 picture with structure at several scales (a city-like block
# pattern); clips show its top-left 640x360 unless they move the camera.
#
# static     nothing happens
# crossing   a 60x40 dark object crosses left to right, t=10 s..14 s
# intrusion  a 30x80 figure walks left to right, t=10 s..16 s, entering the
#            restricted zone (right half) at t=12.46 s
# lights     lights dim at t=9 s, come back at t=14 s; from t=18 s an
#            IR-like switch (lower contrast, brighter)
# covered    the lens is covered (92% black) from t=12 s to t=18 s
# defocus    focus is lost (Gaussian blur sigma 5) from t=12 s to t=18 s
# moved      the camera points elsewhere (another part of the scene) from
#            t=12 s on
# frozen     the picture freezes at t=12 s (the encoder keeps sending)
# loitering  a 30x80 figure walks in at t=4 s; its feet enter the "door"
#            zone (x 0.25..0.8 of the width) at t=5.75 s; it wanders inside
#            until t=17 s, then walks out (feet leave the zone at t=18.78 s)
#
# longgop/covered-gop5s: the lens is covered (92% black) from t=12 s to
# t=30 s, 36 s, an IDR every 5 s (75 frames), one x264 thread (the same
# bytes on every machine). An idle camera in mode auto sees the cover
# first on the keyframe at 15 s (TestTamperOnLongGOP).
set -euo pipefail
cd "$(dirname "$0")"

FPS=15
N=360
common=(-hide_banner -loglevel error -y)
x264=(-c:v libx264 -preset medium -qp 28 -pix_fmt yuv420p -r "${FPS}"
	-g 30 -keyint_min 30 -sc_threshold 0 -bf 0
	-x264-params repeat-headers=1 -f h264)
noise="noise=alls=3:allf=t"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The still scene: blocks of different gray, a slow wave, a gradient,
# and "windows" (a fine grid) on some blocks.
ffmpeg "${common[@]}" -f lavfi -i "color=c=gray:s=1280x720:d=1,format=gray" -frames:v 1 \
	-vf "geq=lum='clip(60 + 40*mod(floor(X/97)*7+floor(Y/61)*3\,5)/4 + 25*sin(X/41)*cos(Y/29) + X/32 + 30*lt(mod(X\,24)\,3)*lt(mod(Y\,18)\,3)*gt(mod(floor(X/97)\,3)\,0)\,16\,235)'" \
	"$tmp/scene.png"

bg() { # bg <crop-x-expr> <crop-y-expr>
	echo "movie=$tmp/scene.png,loop=loop=-1:size=1,setpts=N/${FPS}/TB,fps=${FPS},crop=640:360:x='$1':y='$2',format=yuv420p"
}
enc() { # enc <name> <graph>
	ffmpeg "${common[@]}" -filter_complex "$2" -map '[out]' -frames:v "$N" "${x264[@]}" "$1.h264"
}

enc static "$(bg 0 0),${noise}[out]"
enc crossing "$(bg 0 0)[bg];color=c=0x202020:s=60x40:r=${FPS}[o];[bg][o]overlay=x='-60+190*(t-10)':y=250:enable='between(t,10,14)',${noise}[out]"
enc intrusion "$(bg 0 0)[bg];color=c=0x181818:s=30x80:r=${FPS}[o];[bg][o]overlay=x='100+(500/6)*(t-10)':y=200:enable='between(t,10,16)',${noise}[out]"
enc lights "$(bg 0 0),eq=brightness=-0.22:enable='between(t,9,14)',eq=contrast=0.7:brightness=0.1:enable='gte(t,18)',${noise}[out]"
enc covered "$(bg 0 0),drawbox=x=0:y=0:w=iw:h=ih:color=black@0.92:t=fill:enable='between(t,12,18)',${noise}[out]"
enc defocus "$(bg 0 0),gblur=sigma=5:enable='between(t,12,18)',${noise}[out]"
enc moved "$(bg "if(gte(t,12),520,0)" "if(gte(t,12),300,0)"),${noise}[out]"
enc frozen "$(bg 0 0),${noise},loop=loop=$((N - 180)):size=1:start=180[out]"
# Figure x (left edge; feet at x+15): walks in from -30 at t=4 at 100 px/s
# (x=170 at t=6), wanders 170..410 (x = 290-120*cos(2*pi*(t-6)/6)) until
# t=17 (x=230), then walks out right at 150 px/s.
LX="if(lt(t,6),-30+100*(t-4),if(lt(t,17),290-120*cos(2*PI*(t-6)/6),230+150*(t-17)))"
enc loitering "$(bg 0 0)[bg];color=c=0x181818:s=30x80:r=${FPS}[o];[bg][o]overlay=x='${LX}':y=200:enable='between(t,4,21)',${noise}[out]"

mkdir -p longgop
ffmpeg "${common[@]}" -filter_complex "$(bg 0 0),drawbox=x=0:y=0:w=iw:h=ih:color=black@0.92:t=fill:enable='between(t,12,30)',${noise}[out]" \
	-map '[out]' -frames:v 540 "${x264[@]}" -g 75 -keyint_min 75 -threads 1 longgop/covered-gop5s.h264

ls -l ./*.h264 longgop/*.h264
