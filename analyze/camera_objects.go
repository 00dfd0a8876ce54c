package analyze

import (
	"image"
	"math"
	"time"

	"gocv.io/x/gocv"

	"github.com/vigil-video/vigil/config"
)

// Objects that persist: the camera follows the objects the network finds
// (objectTracker, objtrack.go); it looks at its whole picture once when it
// starts and after a reconnect (objects.first_look), and while it holds
// objects of a kind it reports (or its person or vehicle incident is
// open) it re-checks them with the network every objectRecheck of frame
// time even when nothing moves (on the frames analyzed: an idle camera's
// keyframes in mode auto, as standing still does not keep it awake:
// Active), at a lower priority than requests driven
// by motion; right after motion while it holds them, or after a result
// missed one, that re-check is a leave check, served before motion on
// cameras that follow what they report (unless that has waited 5 s), so
// that an incident ends soon after its people walk out of view. An
// object ends when objectMisses results in a row that
// looked at it found nothing there, or, when no result comes, objectTTL
// after the last result that looked at it: objectHold while the camera's
// latest request is not answered (the budget is taken by other cameras,
// many holding people: their re-checks, a second apart each, are more
// than it serves).
const (
	objectRecheck = time.Second
	objectMisses  = 2
	objectTTL     = 5 * time.Second
	// objectHold replaces objectTTL while a request is not answered.
	objectHold = 2 * time.Minute
	// lookBackoff bounds the wait between first looks not answered.
	lookBackoff = 30 * time.Second
)

// objectFailWait: after a request the caller could not build (its picture
// not decoded in color: ObjectFailed), the camera asks for none for this
// much frame time, where it asked again on every frame.
const objectFailWait = time.Second

// firstWithin: a request on motion that touches no object the camera
// reports (movesReported), within this much frame time of the start of
// its motion, is its motion's first (served before the others,
// objRequest.first).
const firstWithin = 2 * time.Second

// objectMaxSide caps the long side of a picture sent for inference: the
// network resizes to its 416-pixel input anyway. A network reading a
// larger picture raises it to its side (Inference.maxSide).
const objectMaxSide = 512

// wholeShare: a moving area whose padded square covers more than this
// share of the frame's smaller side is sent as the whole picture.
const wholeShare = 0.6

// SetObjects makes the camera take its people from an object detector
// through slot (Inference.Slot) instead of HOG, and ask for inference on
// frames with motion, about once a second on still frames while it holds
// objects, and once for its whole picture when it starts and after a
// Reset (InferenceConfig.FirstLook). The camera releases the slot when
// closed.
func (c *Camera) SetObjects(s *ObjectSlot) {
	c.slot = s
	if c.person != nil {
		c.person.close()
		c.person = nil
	}
}

// ObjectRegion reports whether the frame just analyzed should be sent for
// inference, and which part of it (normalized): the square around its
// moving regions, or the whole frame when they are large. The caller
// then passes the decoded picture to SubmitObjects.
func (c *Camera) ObjectRegion() (Box, bool) {
	return c.objRegion, c.wantObj
}

// SubmitObjects sends the part ObjectRegion named of the BGR picture s
// (the frame just analyzed, at any size) for inference. It copies what it
// needs; s stays the caller's.
func (c *Camera) SubmitObjects(s *Snapshot, now time.Time) {
	if c.slot == nil || !c.wantObj || s == nil || s.mat.Ptr() == nil {
		return
	}
	c.wantObj = false
	b := c.objRegion
	W, H := float64(s.Width), float64(s.Height)
	rect := image.Rect(int(b[0]*W), int(b[1]*H), int(math.Ceil((b[0]+b[2])*W)), int(math.Ceil((b[1]+b[3])*H))).
		Intersect(image.Rect(0, 0, s.Width, s.Height))
	if rect.Dx() < 16 || rect.Dy() < 16 {
		return
	}
	r := c.slot.buffer()
	roi := s.mat.Region(rect)
	scale := math.Min(1, c.slot.in.maxSide/float64(max(rect.Dx(), rect.Dy())))
	if scale < 1 {
		gocv.Resize(roi, &r.bgr, image.Pt(int(float64(rect.Dx())*scale), int(float64(rect.Dy())*scale)), 0, 0, gocv.InterpolationArea)
	} else {
		roi.CopyTo(&r.bgr)
	}
	roi.Close()
	r.region = Box{float64(rect.Min.X) / W, float64(rect.Min.Y) / H, float64(rect.Dx()) / W, float64(rect.Dy()) / H}
	r.frameTime = c.last
	r.recheck = c.objRecheck
	r.look = c.objLook
	r.first = c.objFirst
	r.follow = c.objFollow
	r.leave = c.objLeave
	c.objAsked = c.last
	if c.objLook {
		c.looks = min(c.looks+1, 8)
	}
	c.slot.submit(r, now)
}

// ObjectFailed tells the camera that the request ObjectRegion named could
// not be built (its picture could not be decoded in color; the caller
// counts it): the camera asks for none for objectFailWait of frame time,
// instead of on every frame while the failure lasts.
func (c *Camera) ObjectFailed() {
	c.wantObj = false
	c.objFailed = c.last
}

// ObjectPictureSize is the size to decode the picture at for
// SubmitObjects, given the stream's picture size: the region asked for
// comes out at most objectMaxSide (or the network's side, if larger) on
// its long side, never upscaled.
func (c *Camera) ObjectPictureSize(srcW, srcH int) (int, int) {
	b := c.objRegion
	long := math.Max(b[2]*float64(srcW), b[3]*float64(srcH))
	side := float64(objectMaxSide)
	if c.slot != nil {
		side = c.slot.in.maxSide
	}
	s := 1.0
	if long > side {
		s = side / long
	}
	w, h := int(float64(srcW)*s)&^1, int(float64(srcH)*s)&^1
	return max(w, 2), max(h, 2)
}

// updateObjects takes a new inference result into the tracker, ends
// objects the network no longer finds, and decides whether this frame is
// sent for inference: on motion, the part that moves; on a still scene
// holding objects, the whole frame every objectRecheck; before the first
// look's result, the whole frame.
func (c *Camera) updateObjects(t time.Time, moving bool) {
	if r, ok := c.slot.take(); ok {
		c.otrk.update(r.at, r.in, r.objects, r.weak)
		c.otrk.taken(r.at, t)
		c.objAnswered = t
		if !r.at.After(t) {
			c.objSeenAt = r.at
		}
		// The first look is done when a result of the whole picture
		// comes, from a frame since the start or Reset: a request shed
		// as stale, or lost with its result, is asked again.
		if r.in == (Box{0, 0, 1, 1}) && r.at.After(c.lookAfter) {
			c.objLooked = true
		}
	}
	// A request asked since the last result and not answered (waiting,
	// or shed as stale: the budget is taken by other cameras) is no
	// evidence that the objects left: they are held up to objectHold
	// after that result, as long as the camera keeps asking.
	ttl := objectTTL
	if c.objAsked.After(c.objAnswered) {
		ttl = objectHold
	}
	if c.otrk.expire(t, ttl) > 0 && ttl == objectHold && c.slot.in.cfg.FirstLook {
		// Ended unseen: look again (at the first look's backoff), so that
		// people still standing there are found once the budget allows.
		c.objLooked = false
	}
	c.objects = c.otrk.objects(c.objects[:0], t)
	c.wantObj = false
	move := moving && c.d.n > 0
	if !move {
		c.moveFrom = time.Time{}
	} else if c.moveFrom.IsZero() {
		c.moveFrom = t
	}
	if move && c.holdsReported() {
		c.objMoved = t
	}
	// A first look: a camera that has not had a result of its whole
	// picture since it started (or was Reset after a reconnect) asks for
	// one, at a re-check's priority, so that people or vehicles already
	// standing in view are found without waiting for them to move. A look
	// not answered (shed as stale on a busy machine) is asked again after
	// objectRecheck, then twice as long each time, up to lookBackoff.
	held := (c.holdsReported() || c.seen.open || c.vehicle.open) && t.Sub(c.objAsked) >= objectRecheck
	look := !c.objLooked && c.slot.in.cfg.FirstLook && (c.cfg.Person.Enabled || c.cfg.Vehicle.Enabled) &&
		t.Sub(c.objAsked) >= min(objectRecheck<<max(c.looks-1, 0), lookBackoff)
	recheck := !move && (held || look)
	// A leave check: the objects held may have left, as no result has
	// looked at the still scene since motion while the camera held them,
	// or a result missed one of them.
	leave := recheck && held && c.holdsReported() &&
		(!c.objMoved.IsZero() && !c.objSeenAt.After(c.objMoved) || c.otrk.missed(c.reported))
	// (A frame time before the failure, after a jump back, waits no more.)
	sinceFail := t.Sub(c.objFailed)
	failed := !c.objFailed.IsZero() && sinceFail >= 0 && sinceFail < objectFailWait
	if !move && !recheck || failed {
		return
	}
	want, crowded := c.slot.wants(time.Now(), recheck, recheck && !held, leave)
	if crowded {
		// A re-check not built, as it would go stale: asked, as far as
		// its cadence and the hold of objects go.
		c.objAsked = t
	}
	if !want {
		return
	}
	c.objRegion, c.objRecheck, c.wantObj = Box{0, 0, 1, 1}, recheck, true
	c.objLook = !move && !held
	c.objLeave = leave
	c.objFirst = move && t.Sub(c.moveFrom) < firstWithin && !c.movesReported()
	c.objFollow = move && c.holdsReported()
	if move {
		c.objRegion = c.region()
	}
}

// movesReported reports whether a moving region of the frame just
// analyzed touches an object held of a kind the camera reports (its box
// grown by followPad of its size on each side, for the tracker's lag):
// that motion is most likely the object itself, and the request follows
// it. Motion elsewhere may be someone new, and the request within
// firstWithin of its start is a first result: a car parked in a person
// camera's view, or a person standing at one end of it, once made every
// walker entering at the other end wait at motion's or follow's rank.
func (c *Camera) movesReported() bool {
	W, H := float64(c.det.width), float64(c.det.height)
	for _, o := range c.objects {
		if !c.reported(o) {
			continue
		}
		b := o.Box
		px, py := followPad*b[2]*W, followPad*b[3]*H
		box := image.Rect(int(b[0]*W-px), int(b[1]*H-py), int(math.Ceil((b[0]+b[2])*W+px)), int(math.Ceil((b[1]+b[3])*H+py)))
		for _, r := range c.d.regions[:c.d.n] {
			if r.rect.Overlaps(box) {
				return true
			}
		}
	}
	return false
}

// followPad grows a held object's box, on each side, by this share of its
// size when motion is matched to it (movesReported).
const followPad = 0.25

// holdsReported reports whether the camera holds an object of a kind it
// raises incidents for (person with person.enabled, vehicle with
// vehicle.enabled): only those are worth a re-check, or a place in the
// region sent on motion. A car parked in a person-only camera's view
// would otherwise be re-checked every second for as long as it stays.
func (c *Camera) holdsReported() bool {
	for _, o := range c.objects {
		if c.reported(o) {
			return true
		}
	}
	return false
}

// reported reports whether o is of a kind the camera raises incidents for.
func (c *Camera) reported(o Object) bool {
	return o.Label == config.LabelPerson && c.cfg.Person.Enabled || o.Label == config.LabelVehicle && c.cfg.Vehicle.Enabled
}

// region is the square (in pixels) around the union of the moving
// regions and the objects held (so that a result looks at them too),
// padded by half its size and to at least 1.5 times the smallest person,
// normalized; the whole frame when that square is large.
func (c *Camera) region() Box {
	W, H := c.det.width, c.det.height
	u := c.d.regions[0].rect
	for _, r := range c.d.regions[1:c.d.n] {
		u = u.Union(r.rect)
	}
	for _, o := range c.objects {
		if !c.reported(o) {
			continue
		}
		b := o.Box
		u = u.Union(image.Rect(int(b[0]*float64(W)), int(b[1]*float64(H)), int(math.Ceil((b[0]+b[2])*float64(W))), int(math.Ceil((b[1]+b[3])*float64(H)))))
	}
	minSide := 1.5 * c.cfg.Person.MinHeight * float64(H)
	side := math.Max(math.Max(float64(u.Dx()), float64(u.Dy()))*1.5, minSide)
	if side >= wholeShare*float64(min(W, H)) {
		return Box{0, 0, 1, 1}
	}
	cx, cy := float64(u.Min.X+u.Max.X)/2, float64(u.Min.Y+u.Max.Y)/2
	x := math.Min(math.Max(cx-side/2, 0), float64(W)-side)
	y := math.Min(math.Max(cy-side/2, 0), float64(H)-side)
	return Box{x / float64(W), y / float64(H), side / float64(W), side / float64(H)}
}
