// Package analyze turns 8-bit grayscale frames into incidents: motion,
// intrusion into restricted zones, people (OpenCV's HOG detector), crowds,
// loitering, and camera tampering (covered, defocus, moved, frozen).
//
// A Camera keeps one camera's state: background model, tamper baseline,
// tracked objects, and one lifecycle per incident (kind, zone, cause). The
// caller feeds it frames with their capture times through Analyze and gets
// back incident transitions (start, update, end), and through Shots the
// snapshots to keep as evidence. Frame times drive every duration, so
// analysis is deterministic and independent of the wall clock. The package
// knows nothing of RTSP, decoding or event sinks.
//
// Pixels live in OpenCV memory (via gocv): a Frame owns a Mat that a decoder
// writes into directly, and a Camera owns its working Mats. Both must be
// closed.
package analyze
