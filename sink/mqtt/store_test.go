package mqtt

import (
	"io"
	"slices"
	"strconv"
	"testing"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// TestCopyingStoreSharesNoPacket: the store keeps a copy of what it is
// given and hands out a new packet on every Get, so paho's resume can set
// a packet's DUP flag while the writer of the lost connection still packs
// the one it had (paho.mqtt.golang issue 703: with MemoryStore they are
// one packet, a data race the race detector reports here).
func TestCopyingStoreSharesNoPacket(t *testing.T) {
	s := newCopyingStore()
	s.Open()
	pub := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
	pub.Qos, pub.MessageID, pub.TopicName, pub.Payload = 1, 7, "site/events", []byte(`{"id":"e1"}`)
	s.Put("o.7", pub)
	pub.Payload[0] = 'X' // the caller's packet is its own after Put

	sending := s.Get("o.7")
	done := make(chan error)
	go func() { done <- sending.Write(io.Discard) }() // the lost connection's writer
	resumed := s.Get("o.7").(*packets.PublishPacket)
	resumed.Dup = true // what paho's resume does
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if sending == packets.ControlPacket(resumed) {
		t.Fatal("Get returned the same packet twice")
	}
	if sending.(*packets.PublishPacket).Dup {
		t.Error("setting DUP on one packet changed the other")
	}
	if string(resumed.Payload) != `{"id":"e1"}` || resumed.TopicName != "site/events" || resumed.MessageID != 7 || resumed.Qos != 1 {
		t.Errorf("stored packet changed: %v %q", resumed, resumed.Payload)
	}
	if again := s.Get("o.7").(*packets.PublishPacket); again.Dup {
		t.Error("a change to a packet from Get reached the store")
	}
}

// TestCopyingStoreKeys: All lists keys oldest first; Del, Reset and a
// closed store behave as paho's MemoryStore does.
func TestCopyingStoreKeys(t *testing.T) {
	s := newCopyingStore()
	ack := func(id uint16) packets.ControlPacket {
		p := packets.NewControlPacket(packets.Pubrel).(*packets.PubrelPacket)
		p.MessageID = id
		return p
	}
	s.Put("o.1", ack(1)) // not open: ignored
	if len(s.All()) != 0 {
		t.Fatal("a closed store took a packet")
	}
	s.Open()
	for _, id := range []uint16{5, 3, 9} {
		s.Put("o."+strconv.Itoa(int(id)), ack(id))
	}
	s.Put("o.5", ack(5)) // replaced, keeps its place
	if got := s.All(); !slices.Equal(got, []string{"o.5", "o.3", "o.9"}) {
		t.Errorf("All = %v, want oldest first", got)
	}
	s.Del("o.3")
	s.Del("o.4") // absent: nothing
	if got := s.All(); !slices.Equal(got, []string{"o.5", "o.9"}) {
		t.Errorf("after Del, All = %v", got)
	}
	if p := s.Get("o.9"); p == nil || p.Details().MessageID != 9 {
		t.Errorf("Get(o.9) = %v", p)
	}
	if s.Get("o.3") != nil {
		t.Error("a deleted packet is still there")
	}
	s.Reset()
	if len(s.All()) != 0 || s.Get("o.5") != nil {
		t.Error("Reset left packets")
	}
}
