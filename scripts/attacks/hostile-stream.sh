# Sourced by hostile.sh and budget.sh: the binary ($V), the work directory
# ($D), an 8K (7680x4320) 4:4:4 10-bit H.264 clip made once, and a
# simulator serving it as two cameras (pid in $SIM).
D=${D:-/tmp/vigil-attacks}; mkdir -p $D
V=${V:-$D/vigil}  # go build -o $D/vigil ./cmd/vigil
[ -f $D/hostile.h264 ] || ffmpeg -hide_banner -loglevel error -f lavfi -i "testsrc2=s=7680x4320:r=10" -t 2 \
  -c:v libx264 -preset ultrafast -pix_fmt yuv444p10le -g 10 -bf 0 -f h264 $D/hostile.h264
$V sim --addr 127.0.0.1:18554 --cameras 2 --clips $D/hostile.h264 --fps 10 > $D/sim.out 2> $D/sim.err &
SIM=$!
