//go:build ignore

// httpattack mounts the HTTP attacks against a running vigil and
// prints scrape latencies: flood (wrong passwords) or idle (silent
// connections).
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9108", "vigil")
	mode := flag.String("mode", "flood", "flood or idle")
	clients := flag.Int("clients", 200, "flooding clients or idle connections")
	user := flag.String("user", "prometheus", "")
	pass := flag.String("pass", "scrape-secret", "")
	pid := flag.Int("pid", 0, "vigil's pid (idle: count its descriptors)")
	flag.Parse()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var codes sync.Map
	var floodReqs atomic.Int64
	var conns []net.Conn
	switch *mode {
	case "flood":
		for i := range *clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext}
				cl := &http.Client{Transport: tr, Timeout: time.Minute}
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					req, _ := http.NewRequest("GET", "http://"+*addr+"/metrics", nil)
					req.SetBasicAuth(*user, fmt.Sprintf("guess-%d-%d", i, n))
					res, err := cl.Do(req)
					if err != nil {
						continue
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					floodReqs.Add(1)
					v, _ := codes.LoadOrStore(res.StatusCode, new(atomic.Int64))
					v.(*atomic.Int64).Add(1)
				}
			}()
		}
	case "idle":
		for range *clients {
			c, err := net.Dial("tcp", *addr)
			if err != nil {
				fmt.Println("dial:", err)
				break
			}
			conns = append(conns, c)
			// One unauthenticated request (401), then the keep-alive
			// connection stays idle.
			fmt.Fprintf(c, "GET /livez HTTP/1.1\r\nHost: vigil\r\n\r\n")
		}
		fmt.Printf("opened %d idle connections\n", len(conns))
	}
	time.Sleep(2 * time.Second)
	var lat []time.Duration
	fails := 0
	for range 15 {
		t0 := time.Now()
		tr := &http.Transport{DisableKeepAlives: true}
		req, _ := http.NewRequest("GET", "http://"+*addr+"/metrics", nil)
		req.SetBasicAuth(*user, *pass)
		res, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
		d := time.Since(t0)
		if err != nil || res.StatusCode != 200 {
			fails++
			if err == nil {
				res.Body.Close()
			}
		} else {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		lat = append(lat, d)
		if *pid != 0 {
			ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", *pid))
			fmt.Printf("scrape %s, vigil fds %d\n", d.Round(time.Millisecond), len(ents))
		}
		time.Sleep(time.Second)
	}
	close(stop)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	fmt.Printf("mode %s clients %d: 15 scrapes (10 s timeout): failed %d, median %s, max %s\n", *mode, *clients, fails, lat[7].Round(time.Millisecond), lat[14].Round(time.Millisecond))
	codes.Range(func(k, v any) bool { fmt.Printf("  flood got %v: %d\n", k, v.(*atomic.Int64).Load()); return true })
	for _, c := range conns {
		c.Close()
	}
}
