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

// Pending reports whether a tamper cause (covered, moved, defocus) is
// suspected and not yet started, and the last measured picture showed it
// (tamper measures every other analyzed picture at 5 a second),
// while no cause is open: an idle camera then decodes every picture until
// it starts or goes, so that its min_duration is judged on the pictures of
// the next seconds rather than on keyframes a GOP apart (a cover on a 5 s
// GOP would otherwise start a GOP after min_duration). A candidate lasts
// at most min_duration, so does the full decoding, and a blip ends it with
// the first picture that does not show the cause. A frozen picture is
// judged from when it began (its identical pictures) and needs no more
// than keyframes; an open cause needs no more than Watching.
func (c *Camera) Pending() bool {
	if !c.cfg.Tamper.Enabled || !c.tam.learned {
		return false
	}
	for i := range c.tamper {
		if c.tamper[i].open {
			return false
		}
	}
	for i := range c.tamper {
		l := &c.tamper[i]
		if l.cand && l.cause != CauseFrozen && l.candLast.Equal(c.tam.prevTime) {
			return true
		}
	}
	return false
}
