package analyze

// Watching reports whether the analyzer wants every keyframe of an idle
// camera: its tamper baseline is still being learned (from few pictures,
// a cover at start-up would be learned as the view), or a tamper cause is
// suspected or open, and its start (after min_duration) and its end
// (after clear_time) are judged on pictures that must keep coming.
//
// An open frozen picture is the exception: it needs no more than the
// keyframes an idle camera decodes anyway. Its end is a picture that
// changes, which the bitstream shows at once (a frozen view's predicted
// pictures are all skipped blocks, and they grow when it moves again: the
// camera wakes) and the next keyframe decoded shows too. A camera whose
// feed stays frozen for hours (a digitally still picture, an encoder
// stuck on one frame) would otherwise decode every keyframe for as long.
func (c *Camera) Watching() bool {
	if c.cfg.Tamper.Enabled && !c.tam.learned {
		return true
	}
	for i := range c.tamper {
		if l := &c.tamper[i]; l.cand || l.open && l.cause != CauseFrozen {
			return true
		}
	}
	return false
}
