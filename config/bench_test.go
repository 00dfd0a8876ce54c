package config

import (
	"fmt"
	"strings"
	"testing"
)

// cityConfig is a configuration of n cameras as a city writes it: an id,
// a URL with credentials, a transport, and a motion and zone setting on
// every tenth camera.
func cityConfig(n int) []byte {
	var b strings.Builder
	b.WriteString("listen: 127.0.0.1:9108\nsinks:\n  - {name: ioc, type: webhook, url: 'https://ioc.example/hook?token=t0k'}\ncameras:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - id: cam-%05d\n    url: rtsp://viewer:pw%d@10.%d.%d.%d:554/Streaming/Channels/102\n    transport: tcp\n",
			i, i, i>>16&255, i>>8&255, i&255)
		if i%10 == 0 {
			b.WriteString("    motion: {min_area: 0.02}\n    zones:\n      - {name: door, restricted: true, polygon: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.6]]}\n")
		}
	}
	return []byte(b.String())
}

// BenchmarkCheckConfig is `vigil check-config` on 10,000 cameras: parse,
// default, validate, and print with the secrets masked.
func BenchmarkCheckConfig(b *testing.B) {
	doc := cityConfig(10_000)
	b.ReportAllocs()
	for b.Loop() {
		cfg, err := Parse(doc)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Show(cfg); err != nil {
			b.Fatal(err)
		}
	}
}
