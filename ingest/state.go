package ingest

// State is a camera session's state.
type State int

// States. A session starts in StateConnecting and ends in StateStopped
// (closed). StateFailed is a condition that needs a change at the camera or
// in its configuration (an unsupported codec, a stream over the limits):
// it is retried on a longer backoff, and left when the stream plays.
const (
	StateConnecting State = iota
	StateStreaming
	StateBackingOff
	StateStopped
	StateFailed
)

// String returns the state's name as used in metrics and the API.
func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateStreaming:
		return "streaming"
	case StateBackingOff:
		return "backing_off"
	case StateStopped:
		return "stopped"
	case StateFailed:
		return "failed"
	}
	return "unknown"
}

// States lists every state, for metrics.
var States = []State{StateConnecting, StateStreaming, StateBackingOff, StateStopped, StateFailed}

// Reasons for leaving a stream, used as the reason of StateBackingOff and
// StateFailed and as a metric label.
const (
	ReasonUnreachable = "unreachable" // connection refused, DNS, no route
	ReasonTLS         = "tls"         // the certificate was refused (rtsps)
	ReasonAuth        = "auth"        // 401/403
	ReasonTimeout     = "timeout"     // a network operation timed out
	ReasonStalled     = "stalled"     // connected, but no video for StallTimeout
	ReasonClosed      = "closed"      // the server ended the session
	ReasonBadStream   = "bad_stream"  // RTSP error status, bad SDP
	ReasonUnsupported = "unsupported" // no H.264 or H.265 video (failed, retried on a longer backoff)
	ReasonOverLimit   = "over_limit"  // picture size, chroma, bit depth, references or memory over the limits (failed, retried on a longer backoff)
	// ReasonNoKeyframe: video packets arrive, but none of them is a
	// keyframe decoding can start from (while streaming: StallTimeout
	// into the stream; backing off: ConnectTimeout).
	ReasonNoKeyframe = "no_keyframe"
)

// Reasons lists every reason (for metric labels created at zero).
var Reasons = []string{ReasonUnreachable, ReasonTLS, ReasonAuth, ReasonTimeout, ReasonStalled, ReasonClosed, ReasonBadStream, ReasonUnsupported, ReasonOverLimit, ReasonNoKeyframe}
