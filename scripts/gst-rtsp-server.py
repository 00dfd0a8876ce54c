#!/usr/bin/python3
"""An independent RTSP server for vigil's tests: GStreamer's gst-rtsp-server
(Debian: gir1.2-gst-rtsp-server-1.0, python3-gi, gstreamer1.0-plugins-*),
serving Matroska clips as live cameras. No one on the project wrote it,
which is the point.

    /usr/bin/python3 scripts/gst-rtsp-server.py --port 8554 \
        --clip cam1=clip.h264.mkv --clip cam2=clip.h265.mkv [--protocols tcp,udp]

Each --clip is PATH=FILE; the codec follows the name (NAME.h264.mkv or
NAME.h265.mkv). Every client gets its own pipeline, starting the clip at
its PLAY; the stream ends with the clip. Parameter sets travel in
the SDP (sprop-parameter-sets) and in band, as rtph264pay/rtph265pay do by
default with config-interval=-1. Prints "ready <port>" once serving.
Run it with Debian's /usr/bin/python3: a pyenv Python has no gi.
"""
import argparse
import os
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def launch_line(path):
    base, ext = os.path.splitext(path)
    if ext.lower() != ".mkv":
        sys.exit(f"gst-rtsp-server: {path}: want a Matroska file (NAME.h264.mkv or NAME.h265.mkv)")
    inner = os.path.splitext(base)[1].lower()
    if inner in (".h265", ".265", ".hevc"):
        parse, pay = "h265parse", "rtph265pay"
    elif inner in (".h264", ".264"):
        parse, pay = "h264parse", "rtph264pay"
    else:
        sys.exit(f"gst-rtsp-server: {path}: name the codec: NAME.h264.mkv or NAME.h265.mkv")
    # The container gives every access unit its timestamp (a raw Annex-B
    # file through h264parse gives only the first one); the media's clock
    # paces the stream like a live camera.
    return (
        f"( filesrc location=\"{path}\" ! matroskademux ! {parse} "
        f"! {pay} name=pay0 pt=96 config-interval=-1 mtu=1400 )"
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8554)
    ap.add_argument("--clip", action="append", required=True)
    ap.add_argument("--protocols", default="tcp,udp")
    args = ap.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    protos = GstRtsp.RTSPLowerTrans(0)
    for p in args.protocols.split(","):
        protos |= {
            "tcp": GstRtsp.RTSPLowerTrans.TCP,
            "udp": GstRtsp.RTSPLowerTrans.UDP,
        }[p.strip()]
    for spec in args.clip:
        name, _, path = spec.partition("=")
        if not os.path.isfile(path):
            sys.exit(f"gst-rtsp-server: clip {path!r} not found")
        f = GstRtspServer.RTSPMediaFactory()
        f.set_launch(launch_line(os.path.abspath(path)))
        # Every client gets its own pipeline: the clip starts at its PLAY.
        f.set_shared(False)
        f.set_protocols(protos)
        mounts.add_factory("/" + name, f)
    if server.attach(None) == 0:
        sys.exit(f"gst-rtsp-server: cannot listen on port {args.port}")
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    print(f"ready {server.get_bound_port()}", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
