package decode

// #include "vgdec.h"
import "C"

import (
	"sync"
	"sync/atomic"
)

// Pool lends decoders to cameras that decode keyframes alone: a camera
// idle in decode mode auto, or in mode keyframes, decodes each keyframe
// with no reference to the pictures before it, so it needs no decoder of
// its own between keyframes. The decoders are kept per codec and picture
// size, so that a lent decoder does not reallocate its pictures. A decoder
// holds its pictures' memory (about 2 MiB at 640x360, 15 MiB at 1080p):
// sharing them is what keeps an idle camera's memory small. Pool is safe
// for concurrent use.
type Pool struct {
	max int // free decoders kept

	mu    sync.Mutex
	free  map[poolKey][]*Decoder
	nfree int

	lent, opened atomic.Int64
}

type poolKey struct {
	codec Codec
	w, h  int
}

// NewPool returns a pool that keeps at most keep free decoders (at least
// 1); more are closed when returned.
func NewPool(keep int) *Pool {
	return &Pool{max: max(keep, 1), free: map[poolKey][]*Decoder{}}
}

// Get returns a decoder for codec, preferably one last used for pictures
// of w x h (0, 0 when unknown), with no reference pictures and no last
// picture. The caller owns it until Put.
func (p *Pool) Get(codec Codec, w, h int) (*Decoder, error) {
	k := poolKey{codec, w, h}
	p.mu.Lock()
	list := p.free[k]
	if len(list) == 0 {
		// Any decoder of the codec is better than a new one.
		for k2, l := range p.free {
			if k2.codec == codec && len(l) > 0 {
				k, list = k2, l
				break
			}
		}
	}
	if n := len(list); n > 0 {
		d := list[n-1]
		list[n-1] = nil
		p.free[k] = list[:n-1]
		p.nfree--
		p.mu.Unlock()
		p.lent.Add(1)
		return d, nil
	}
	p.mu.Unlock()
	d, err := New(codec)
	if err != nil {
		return nil, err
	}
	p.opened.Add(1)
	p.lent.Add(1)
	return d, nil
}

// Put gives a decoder back: it forgets its references and its last
// picture (no picture of one camera can reach another) and decodes with
// its in-loop filters again (SetNoDeblock), and is kept for
// the next Get or closed when the pool is full. d must not be used after.
func (p *Pool) Put(d *Decoder) {
	if d == nil {
		return
	}
	p.lent.Add(-1)
	if d.c == nil {
		return
	}
	d.forget()
	d.SetNoDeblock(false)
	w, h := d.lastW, d.lastH
	k := poolKey{d.codec, w, h}
	p.mu.Lock()
	if p.nfree < p.max {
		p.free[k] = append(p.free[k], d)
		p.nfree++
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	d.Close()
	p.opened.Add(-1)
}

// Forget closes the free decoders last used for pictures of w x h of
// codec, and hands the freed memory back to the system: a camera that
// goes takes the memory of its picture size with it (another camera of
// that size opens a decoder again).
func (p *Pool) Forget(codec Codec, w, h int) {
	k := poolKey{codec, w, h}
	p.mu.Lock()
	list := p.free[k]
	delete(p.free, k)
	p.nfree -= len(list)
	p.mu.Unlock()
	for _, d := range list {
		d.Close()
		p.opened.Add(-1)
	}
	if len(list) > 0 {
		C.vg_trim()
	}
}

// Stats returns the decoders lent now and those the pool holds (lent or
// free).
func (p *Pool) Stats() (lent, open int) {
	return int(p.lent.Load()), int(p.opened.Load())
}

// Close closes the free decoders; lent ones are closed by Put afterwards
// only if the pool is full, so Close is called once nothing is lent.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, l := range p.free {
		for _, d := range l {
			d.Close()
			p.opened.Add(-1)
		}
		delete(p.free, k)
	}
	p.nfree = 0
}
