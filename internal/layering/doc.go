// Package layering holds no code: its test checks that the packages that
// decide (gate, health), coordinate (cluster) or configure (config) stay
// light, linking no detector, decoder, RTSP client or broker client
// (go list -deps).
package layering
