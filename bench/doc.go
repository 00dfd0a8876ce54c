// Package bench measures vigil: the simulator's command, the offline
// benchmark of decode and analysis beside ffmpeg, and (see the live and
// baseline modes) whole-engine runs against simulated cameras.
package bench
