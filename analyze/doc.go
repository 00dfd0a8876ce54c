// Package analyze turns 8-bit grayscale frames into motion incidents.
//
// A Camera keeps one camera's background model and incident state. The
// caller feeds it frames with their capture times through Analyze and gets
// back incident transitions (start, update, end). Frame times drive every
// duration, so analysis is deterministic and independent of the wall clock.
// The package knows nothing of RTSP, decoding or event sinks.
//
// Pixels live in OpenCV memory (via gocv): a Frame owns a Mat that a decoder
// writes into directly, and a Camera owns its working Mats. Both must be
// closed.
package analyze
