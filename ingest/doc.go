// Package ingest pulls one camera's RTSP stream and hands its video access
// units, with capture timestamps, to a consumer.
//
// It is the only package of the engine that imports gortsplib, so that a
// move to another RTSP client stays here. A Session supervises one camera:
// it connects, plays, detects stalls, and reconnects with capped exponential
// backoff and jitter; its state and the reason for it are always visible.
// Access units leave the RTP reader goroutine as Annex-B byte strings owned
// by the consumer; nothing is decoded here.
package ingest
