//go:build !race

package analyze

// raceEnabled is true when the tests run under the race detector.
const raceEnabled = false
