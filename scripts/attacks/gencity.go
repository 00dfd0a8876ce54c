//go:build ignore

// gencity writes a configuration of 10,000 cameras (go run scripts/attacks/gencity.go FILE), for check-config.
package main

import (
	"fmt"
	"os"
)

func main() {
	f, _ := os.Create(os.Args[1])
	defer f.Close()
	fmt.Fprint(f, "listen: 127.0.0.1:9108\nsinks:\n  - {name: ioc, type: webhook, url: 'https://ioc.example/hook?token=t0k'}\ncameras:\n")
	for i := range 10000 {
		fmt.Fprintf(f, "  - id: cam-%05d\n    url: rtsp://viewer:pw%d@10.%d.%d.%d:554/Streaming/Channels/102\n    transport: tcp\n", i, i, i>>16&255, i>>8&255, i&255)
		if i%10 == 0 {
			fmt.Fprint(f, "    motion: {min_area: 0.02}\n    zones:\n      - {name: door, restricted: true, polygon: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.6]]}\n")
		}
	}
}
