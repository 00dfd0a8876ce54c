package ingest

import "testing"

// TestRecoveryPointSEI: the recovery point is found after other SEI
// messages, with payload types and sizes of more than one byte and
// emulation prevention bytes in a payload, and not where it is absent,
// truncated, or only named inside another message's payload.
func TestRecoveryPointSEI(t *testing.T) {
	recovery := []byte{6, 1, 0x84}                                       // type 6, size 1: recovery_frame_cnt 0, flags
	userData := append([]byte{5, 20}, make([]byte, 20)...)               // user_data_unregistered, 20 bytes
	escaped := []byte{5, 6, 0, 0, 3, 1, 6, 1, 2}                         // 6 payload bytes: 0 0 (03 removed) 1 6 1 2
	long := append([]byte{0xff, 0x0b, 0xff, 0x2d}, make([]byte, 300)...) // type 266, size 300
	for _, tc := range []struct {
		name string
		sei  []byte
		want bool
	}{
		{"alone", append(recovery, 0x80), true},
		{"after user data", append(append(userData, recovery...), 0x80), true},
		{"after an escaped payload", append(append(escaped, recovery...), 0x80), true},
		{"after long type and size", append(append(long, recovery...), 0x80), true},
		{"user data only", append(userData, 0x80), false},
		{"type 6 inside a payload only", append(escaped, 0x80), false},
		{"truncated size", []byte{5, 0xff}, false},
		{"truncated payload", []byte{5, 40, 1, 2}, false},
		{"empty", nil, false},
		{"recovery 4 pictures later", []byte{6, 1, 0x34, 0x80}, false}, // ue 00101: 4
		{"recovery count truncated", []byte{6, 1, 0x00}, false},
	} {
		if got := hasRecoveryPoint(tc.sei); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// FuzzRandomAccess: any H.264 access unit is judged without a panic.
func FuzzRandomAccess(f *testing.F) {
	f.Add([]byte{6, 6, 1, 0x84, 0x80}, []byte{1, 0x88, 0x84})
	f.Add([]byte{6, 0xff, 0xff}, []byte{1, 0, 0, 3, 0})
	f.Fuzz(func(t *testing.T, sei, slice []byte) {
		RandomAccess(H264, [][]byte{sei, slice})
		hasRecoveryPoint(sei)
	})
}
