// Package bench measures vigil on recorded streams.
//
//	vigil bench offline --clip FILE        decode + analyze a file as fast as possible, beside
//	                                       `ffmpeg -threads 1 -i FILE -f null -`, with the ratio
//	vigil bench live --cameras N           `vigil sim` and `vigil run` as separate processes;
//	                                       the engine measured from outside (/proc, /metrics, stdout)
//	vigil bench live --ramp                the largest N sustained in real time
//	vigil bench live --server gst          the cameras served by GStreamer's RTSP server instead
//	                                       (an independent server; --ffmpeg reads through it too;
//	                                       baseline and compare take --server too)
//	vigil bench baseline --cameras N       the same cameras consumed by one ffmpeg process per
//	                                       camera and by one OpenCV VideoCapture per camera
//	vigil bench compare --steps 5,10,20    the engine and both baselines at each N, side by side,
//	                                       with --chart FILE.svg (CPU against cameras)
//	vigil bench gate --matrix DIR          mode auto's activity gate offline on each clip of an
//	                                       encoding matrix (scripts/gatematrix.sh): still-view
//	                                       decoding, wake latency, incident delay, idle cost
//
// # JSON output (--json, --out FILE)
//
// live prints a LiveResult; live --ramp a RampResult {steps: [LiveResult],
// max_sustained_cameras}; baseline and compare a CompareResult
// {machine: {cores}, steps: [{cameras, engine: LiveResult, baselines:
// [BaselineResult], ratio_to_engine: {approach: ratio},
// ratio_to_engine_without_network: {approach: ratio}}], chart: [{name,
// points: [[cameras, cores]]}]} (a BaselineResult's server says what
// served its cameras, as a LiveResult's does); offline an OfflineResult;
// gate a list of GateClip. Units are in the
// field names or their comments: seconds, bytes, cores (CPU seconds per
// wall second), milliseconds for latency_ms.
//
// A LiveResult's process figures (engine, simulator: cpu_seconds, cores,
// cores_per_camera, rss_max_bytes, rss_avg_bytes) come from /proc over the
// measurement window; frames_* are deltas of the engine's own counters over
// the window; drop_ratio is frames dropped by overload over frames meant for
// decoding; lag_{mid,end}_seconds the largest receipt-to-processing lag over
// cameras at the middle and end of the window; latency_ms the percentiles
// (n, p50, p90, p99, max) of (time an incident start event was read from the
// engine's stdout - its data.frame_time), where frame_time is the
// simulator's send time of the triggering frame from its RTCP sender
// reports. sustained is true when drop_ratio is under --drop-threshold, the
// lag is not growing and every camera is up; verdict says why not.
// person_delay_ms (with --person, person detection on in every camera) has
// the same percentiles of (a camera's first person incident start's
// frame_time - the started_at of the motion incident before it), one per
// motion incident started in the window; person_missed counts those
// followed by no person incident, of which person_waiting_at_end were
// still waiting when the window ended (person_waited_max_ms the longest
// wait: a walk begun in the window's last second is one); person_cameras counts the cameras with a
// person incident open at some time in the window. machine_load is the
// share of the machine's CPU busy over the window (/proc/stat, every
// process); inferences the object network's inferences over it;
// budget_mid and budget_end its vigil_objects_budget_per_second at the
// middle and end; network_cores its time per second
// (vigil_objects_inference_duration_seconds: one thread per inference, so
// its CPU, or more on a saturated machine), engine_cores_without_network
// the engine's cores less it, objects the --objects option (off, or a
// fixed budget in inferences per second; absent: the default, following
// the machine). steps_mid and steps_end count the cameras of each clip
// on each rung of the overload ladder (vigil_camera_overload_step) at the
// middle and end; idle_floor_mid and idle_floor_end are the engine's
// vigil_overload_idle_floor then (0 full to 3 sparse); wakeups and
// wakeups_rejected are mode auto's wake-ups over the window per clip, and
// those the pixels rejected. server is what served the cameras: "sim"
// (vigil sim) or "gst" (--server gst: GStreamer's RTSP server,
// scripts/gst-rtsp-server.py, from copies of the clips looped to last the
// run; simulator then measures that server). With --ffmpeg,
// ffmpeg_cores_per_camera is ffmpeg -threads 1 -f null's CPU per camera in
// real time, read from ffmpeg_source: "file" (the clips) or, with --server
// gst, "rtsp" (one ffmpeg per camera through the same server, after the
// engine, ffmpeg_fps the frames a second each decoded);
// cpu_ratio_to_ffmpeg is the engine's cores per camera over it and
// cpu_ratio_to_ffmpeg_without_network the same less network_cores;
// ffmpeg_file_cores_per_camera is the file figure in every run with
// --ffmpeg, and with --server gst cpu_ratio_to_ffmpeg_file the engine's
// cores per camera less the network's over it.
package bench
