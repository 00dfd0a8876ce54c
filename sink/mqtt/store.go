package mqtt

import (
	"bytes"
	"slices"
	"sync"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// copyingStore is the MQTT client's message store: paho's MemoryStore
// hands the very packet it was given back to the resume after a reconnect,
// which sets its DUP flag while the writer of the lost connection may still
// be packing it (a data race inside paho.mqtt.golang v1.5.0, its issue
// 703). This store keeps each packet encoded, as FileStore does on disk,
// and decodes a new one on every Get: no packet is shared. All returns the
// keys in the order they were first put, so packets are resent in order.
// Safe for concurrent use.
type copyingStore struct {
	mu     sync.Mutex
	opened bool
	wire   map[string][]byte // key → the encoded packet
	order  []string          // the keys, oldest first
}

var _ paho.Store = (*copyingStore)(nil)

func newCopyingStore() *copyingStore { return &copyingStore{wire: map[string][]byte{}} }

// Open makes the store usable.
func (s *copyingStore) Open() {
	s.mu.Lock()
	s.opened = true
	s.mu.Unlock()
}

// Put stores an encoded copy of m under key, replacing any packet there.
// m is read, not kept: the caller may change it afterwards.
func (s *copyingStore) Put(key string, m packets.ControlPacket) {
	var b bytes.Buffer
	if err := m.Write(&b); err != nil {
		// Only the writer's error can fail Write, and a bytes.Buffer
		// does not fail: not reached.
		paho.ERROR.Println("copying store: packet not stored:", key, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.opened {
		return
	}
	if _, ok := s.wire[key]; !ok {
		s.order = append(s.order, key)
	}
	s.wire[key] = b.Bytes()
}

// Get returns a new packet decoded from the one stored under key; nil if
// there is none.
func (s *copyingStore) Get(key string) packets.ControlPacket {
	s.mu.Lock()
	w, ok := s.wire[key]
	s.mu.Unlock()
	if !ok {
		return nil
	}
	m, err := packets.ReadPacket(bytes.NewReader(w))
	if err != nil { // it was written by Put: not reached
		paho.ERROR.Println("copying store: stored packet unreadable:", key, err)
		return nil
	}
	return m
}

// All returns the keys of the stored packets, oldest first.
func (s *copyingStore) All() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.order)
}

// Del removes the packet stored under key, if any.
func (s *copyingStore) Del(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.wire[key]; !ok {
		return
	}
	delete(s.wire, key)
	s.order = slices.DeleteFunc(s.order, func(k string) bool { return k == key })
}

// Close makes the store unusable until Open; what it holds stays.
func (s *copyingStore) Close() {
	s.mu.Lock()
	s.opened = false
	s.mu.Unlock()
}

// Reset empties the store.
func (s *copyingStore) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.wire)
	s.order = nil
}
