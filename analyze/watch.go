package analyze

// Watching reports whether the analyzer wants every keyframe of an idle
// camera: its tamper baseline is still being learned (from few pictures,
// a cover at start-up would be learned as the view), or a tamper cause is
// suspected or open, and its start (after min_duration) and its end
// (after clear_time) are judged on pictures that must keep coming.
func (c *Camera) Watching() bool {
	if c.cfg.Tamper.Enabled && !c.tam.learned {
		return true
	}
	for i := range c.tamper {
		if c.tamper[i].active() {
			return true
		}
	}
	return false
}
