// Package sim is an RTSP camera simulator: it serves recorded H.264/H.265
// clips as many looping cameras from one process, for the engine's embedded
// demo, integration tests and benchmarks.
//
// A Clip is parsed and packetized into RTP payloads once, then shared by any
// number of cameras. A Server (see Start) serves one gortsplib stream per
// Camera; each camera's clip restarts at its first access unit when its first
// reader starts playing, loops in real time and costs nothing while nobody
// reads it. Fault switches (SetStalled, SetDropRate, SetCorruptRate,
// KickReaders) let tests exercise a client's error handling.
package sim
