//go:build !race

package event

// raceEnabled is true when the tests run under the race detector.
const raceEnabled = false
