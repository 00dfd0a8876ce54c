# Sourced by the clip scripts: sets vtest to the path of vtest.avi (Debian's
# opencv-doc: 768x576, 10 fps, pedestrians filmed by a fixed camera),
# fetching only the package's clip when it is not installed.
vtest=/usr/share/doc/opencv-doc/examples/data/vtest.avi
if [ ! -f "$vtest" ]; then
	# Only the clip is needed, not the package's 100 MB of documentation.
	vtest_tmp=$(mktemp -d)
	trap 'rm -rf "$vtest_tmp"' EXIT
	(cd "$vtest_tmp" && apt-get download -qq opencv-doc >/dev/null && dpkg -x opencv-doc_*.deb x)
	vtest="$vtest_tmp/x/usr/share/doc/opencv-doc/examples/data/vtest.avi"
	[ -f "$vtest" ] || { echo "vtest.avi not found in opencv-doc" >&2; exit 1; }
fi
