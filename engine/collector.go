package engine

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/gate"
	"github.com/vigil-video/vigil/ingest"
)

var (
	discontinuitiesDesc = prometheus.NewDesc("vigil_camera_rtp_timestamp_discontinuities_total",
		"RTP timestamp jumps of more than 10 s either way (a camera restarting its clock).", []string{"camera"}, nil)
	clockAheadDesc = prometheus.NewDesc("vigil_camera_rtp_clock_ahead_total",
		"Access units whose RTP timestamp step ran more than 1 s ahead of their arrival (a camera clock running fast); their frame time follows arrival.", []string{"camera"}, nil)
	sourceChangesDesc = prometheus.NewDesc("vigil_camera_rtp_source_changes_total",
		"Switches of the stream to a new RTP source (SSRC) within an RTSP connection over TCP, followed as one stream (a restreamer whose camera reconnected, a camera changing source at each GOP).", []string{"camera"}, nil)
	rtpErrorsDesc = prometheus.NewDesc("vigil_camera_rtp_decode_errors_total",
		"RTP/RTCP packets that could not be decoded or depacketized (broken fragments, malformed payloads).", []string{"camera"}, nil)
	packetsLostDesc = prometheus.NewDesc("vigil_camera_rtp_packets_lost_total",
		"RTP packets lost, from sequence number gaps.", []string{"camera"}, nil)
	jitterDesc = prometheus.NewDesc("vigil_camera_rtp_jitter_seconds",
		"RFC 3550 interarrival jitter of the current stream.", []string{"camera"}, nil)
	bitrateDesc = prometheus.NewDesc("vigil_camera_video_bytes_per_second",
		"Video payload rate (bitrate / 8) over the last full second.", []string{"camera"}, nil)
	decodeModeDesc = prometheus.NewDesc("vigil_camera_decode_mode",
		"1 for the camera's configured decode mode.", []string{"camera", "mode"}, nil)
	awakeDesc = prometheus.NewDesc("vigil_camera_decoding_all_frames",
		"1 while the camera decodes every frame (mode all, or auto while awake), 0 on keyframes only.", []string{"camera"}, nil)
	wakeupsDesc = prometheus.NewDesc("vigil_camera_wakeups_total",
		"Times mode auto woke full decoding.", []string{"camera"}, nil)
	rejectedDesc = prometheus.NewDesc("vigil_camera_wakeups_rejected_total",
		"Wake-ups of mode auto the decoded pictures did not confirm: the camera slept again at once and its activity thresholds rose.", []string{"camera"}, nil)
	raiseDesc = prometheus.NewDesc("vigil_camera_activity_raise",
		"Factor the activity signal's thresholds stand at in mode auto: 1 as configured, 1.5 and 2.25 after one and two rejected wake-ups, a step given back per 10 minutes of stream without one; 0 in the other modes.", []string{"camera"}, nil)
	deferredDesc = prometheus.NewDesc("vigil_camera_wakeups_deferred_total",
		"Wakes of mode auto the activity signal wanted while as many cameras verified theirs as allowed (vigil_wake_verifications_max): the camera waited, its GOP kept, and decoded its next keyframe.", []string{"camera"}, nil)
	keysAloneDesc = prometheus.NewDesc("vigil_keyframes_decoded_alone_total",
		"Keyframes the cameras queued to be decoded on their own (a full queue may still drop one), by reason: an idle camera in mode auto, also on the overload ladder's rungs (first, watch: tamper learned, suspected or open; judge: a deferred wake; suspect: the activity signal's unconfirmed evidence; moved: its complexity; settle: after a wake; interval), or keyframes_only (mode keyframes; mode all, or a busy camera in mode auto, on the ladder's keyframes rungs).", []string{"reason"}, nil)
	skippedDesc = prometheus.NewDesc("vigil_camera_frames_skipped_total",
		"Access units not queued for decoding by choice, as opposed to dropped: keyframes-only decoding, an idle camera's pictures in mode auto.", []string{"camera"}, nil)
	nonrefDesc = prometheus.NewDesc("vigil_camera_frames_nonref_skipped_total",
		"Pictures no other picture refers to (B-frames, temporal layers) that the worker left undecoded because the analysis rate would not take them.", []string{"camera"}, nil)
	// The camera's state is its session's: read at each scrape.
	upDesc = prometheus.NewDesc("vigil_camera_up",
		"1 while the camera streams video it can decode (not packets without a keyframe), else 0.", []string{"camera"}, nil)
	stateDesc = prometheus.NewDesc("vigil_camera_state",
		"1 for the camera's current supervisor state, 0 for the others.", []string{"camera", "state"}, nil)
	stepDesc = prometheus.NewDesc("vigil_camera_overload_step",
		"Overload ladder step: 0 full analysis rate, 1 reduced rate, 2 keyframes only, 3 every other keyframe (an idle camera in mode auto: 1 in 2, 3, 4 of its keyframes due from 1 to 3).", []string{"camera"}, nil)
	lagDesc = prometheus.NewDesc("vigil_camera_lag_seconds",
		"Time from receipt to processing of the camera's last processed access unit.", []string{"camera"}, nil)
	memoryDesc = prometheus.NewDesc("vigil_camera_memory_bytes",
		"Estimated memory of the camera's stream: its decoder's pictures (reserved when the stream is admitted) and the access units waiting in its queue.", []string{"camera"}, nil)
	keyIntervalDesc = prometheus.NewDesc("vigil_camera_keyframe_interval_seconds",
		"Time between the last two keyframes, by presentation time.", []string{"camera"}, nil)
)

// sessionCollector reads per-camera transport statistics from the ingest
// sessions at scrape time.
type sessionCollector struct{ e *Engine }

func (c sessionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- packetsLostDesc
	ch <- rtpErrorsDesc
	ch <- discontinuitiesDesc
	ch <- sourceChangesDesc
	ch <- clockAheadDesc
	ch <- jitterDesc
	ch <- bitrateDesc
	ch <- keyIntervalDesc
	ch <- decodeModeDesc
	ch <- awakeDesc
	ch <- wakeupsDesc
	ch <- rejectedDesc
	ch <- raiseDesc
	ch <- deferredDesc
	ch <- keysAloneDesc
	ch <- skippedDesc
	ch <- nonrefDesc
	ch <- lagDesc
	ch <- stepDesc
	ch <- memoryDesc
	ch <- upDesc
	ch <- stateDesc
}

func (c sessionCollector) Collect(ch chan<- prometheus.Metric) {
	for _, r := range gate.KeyReasons {
		ch <- prometheus.MustNewConstMetric(keysAloneDesc, prometheus.CounterValue, float64(c.e.keyCounts.Count(r)), r.String())
	}
	for _, cam := range c.e.snapshot() {
		st := cam.sess.Stats()
		status := cam.sess.Status()
		state := status.State
		// Up: streaming video it can decode, not packets without a keyframe.
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, b2f(state == ingest.StateStreaming && status.Reason != ingest.ReasonNoKeyframe), cam.id)
		for _, s := range ingest.States {
			ch <- prometheus.MustNewConstMetric(stateDesc, prometheus.GaugeValue, b2f(s == state), cam.id, s.String())
		}
		ch <- prometheus.MustNewConstMetric(packetsLostDesc, prometheus.CounterValue, float64(st.PacketsLost), cam.id)
		ch <- prometheus.MustNewConstMetric(rtpErrorsDesc, prometheus.CounterValue, float64(st.DecodeErrors), cam.id)
		ch <- prometheus.MustNewConstMetric(discontinuitiesDesc, prometheus.CounterValue, float64(st.Discontinuities), cam.id)
		ch <- prometheus.MustNewConstMetric(sourceChangesDesc, prometheus.CounterValue, float64(st.SourceChanges), cam.id)
		ch <- prometheus.MustNewConstMetric(clockAheadDesc, prometheus.CounterValue, float64(st.ClockAhead), cam.id)
		ch <- prometheus.MustNewConstMetric(jitterDesc, prometheus.GaugeValue, st.Jitter.Seconds(), cam.id)
		ch <- prometheus.MustNewConstMetric(bitrateDesc, prometheus.GaugeValue, st.Bitrate/8, cam.id)
		ch <- prometheus.MustNewConstMetric(keyIntervalDesc, prometheus.GaugeValue, st.KeyframeInterval.Seconds(), cam.id)
		for _, m := range []string{config.ModeAll, config.ModeKeyframes, config.ModeAuto} {
			ch <- prometheus.MustNewConstMetric(decodeModeDesc, prometheus.GaugeValue, b2f(cam.cfg.DecodeMode == m), cam.id, m)
		}
		ch <- prometheus.MustNewConstMetric(awakeDesc, prometheus.GaugeValue, b2f(cam.gate.DecodingAll()), cam.id)
		ch <- prometheus.MustNewConstMetric(wakeupsDesc, prometheus.CounterValue, float64(cam.gate.Wakeups()), cam.id)
		ch <- prometheus.MustNewConstMetric(rejectedDesc, prometheus.CounterValue, float64(cam.gate.Rejects()), cam.id)
		ch <- prometheus.MustNewConstMetric(raiseDesc, prometheus.GaugeValue, cam.gate.Raise(), cam.id)
		ch <- prometheus.MustNewConstMetric(deferredDesc, prometheus.CounterValue, float64(cam.gate.Deferred()), cam.id)
		ch <- prometheus.MustNewConstMetric(skippedDesc, prometheus.CounterValue, float64(cam.gate.Skipped()), cam.id)
		ch <- prometheus.MustNewConstMetric(nonrefDesc, prometheus.CounterValue, float64(cam.n.unneeded.Load()), cam.id)
		ch <- prometheus.MustNewConstMetric(stepDesc, prometheus.GaugeValue, float64(cam.load.Step()), cam.id)
		ch <- prometheus.MustNewConstMetric(memoryDesc, prometheus.GaugeValue, float64(st.MemoryBytes+int64(cam.queue.Bytes())), cam.id)
		ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, time.Duration(cam.lagNano.Load()).Seconds(), cam.id)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
