package api

import "time"

// CameraStatus is a camera's state in the API. It never holds credentials.
type CameraStatus struct {
	ID         string    `json:"id"`
	URL        string    `json:"url"`
	State      string    `json:"state"`
	Reason     string    `json:"reason,omitempty"`
	Since      time.Time `json:"since"`
	Codec      string    `json:"codec,omitempty"`
	Transport  string    `json:"transport"`
	LastFrame  time.Time `json:"last_frame,omitzero"`
	LastError  string    `json:"last_error,omitempty"`
	QueueDepth int       `json:"queue_depth"`
	// OfflineSince is set while the camera has no video.
	OfflineSince *time.Time `json:"offline_since,omitempty"`
	// Incident is the open camera_offline incident's id.
	OfflineIncident  string  `json:"offline_incident,omitempty"`
	PacketsLost      uint64  `json:"rtp_packets_lost"`
	JitterSeconds    float64 `json:"rtp_jitter_seconds"`
	Bitrate          float64 `json:"bitrate_bits_per_second"`
	KeyframeInterval float64 `json:"keyframe_interval_seconds"`
	// FPSIn is access units received per second; FPSAnalyzed frames analyzed.
	FPSIn       float64 `json:"fps_in"`
	FPSAnalyzed float64 `json:"fps_analyzed"`
	// DecodeMode is the configured mode; DecodingAll says whether every
	// frame is decoded now (false: keyframes only).
	DecodeMode  string `json:"decode_mode"`
	DecodingAll bool   `json:"decoding_all_frames"`
	Wakeups     uint64 `json:"wakeups"`
	Skipped     uint64 `json:"frames_skipped"`
	// NonRefSkipped counts the pictures no other refers to left undecoded,
	// the analysis rate not taking them.
	NonRefSkipped uint64  `json:"frames_nonref_skipped"`
	LagSeconds    float64 `json:"lag_seconds"`
	// OverloadStep is "full", "reduced" (lower analysis rate), "keyframes"
	// or "sparse" (every other keyframe).
	OverloadStep string `json:"overload_step"`
	// Dropped counts access units dropped, by reason.
	Dropped map[string]uint64 `json:"dropped"`
	// Analysis is "ok", "no_video" (see State), or "stalled" while the camera streams but its
	// pictures are not analyzed (or at under half the rate due);
	// AnalysisCause says why and AnalysisIncident is the open
	// analysis_stalled incident.
	Analysis         string     `json:"analysis"`
	AnalysisCause    string     `json:"analysis_cause,omitempty"`
	AnalysisIncident string     `json:"analysis_incident,omitempty"`
	LastAnalyzed     *time.Time `json:"last_analyzed,omitempty"`
	// ClockOffsetSeconds is the camera's RTCP clock minus the host's (0
	// before a sender report); past 2 s frame times come from receipt.
	ClockOffsetSeconds float64 `json:"clock_offset_seconds"`
}
