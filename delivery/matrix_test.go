package delivery

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/incident/incidenttest"
	"github.com/vigil-video/vigil/internal/testkit"
)

// TestRestartMatrix runs 20 processes in a row on one outbox, through real
// sinks (JSON-lines files and Mosquitto), cycling through {graceful stop
// (SIGTERM, Close), crash (SIGKILL)} × {outbox drained, MQTT backlog
// pending (broker down)} × {same sinks, a file sink added, one removed}.
// Each run emits 10 events and must get them to every file sink before it
// is stopped (every run keeps emitting). At the end every sink has every
// event emitted while it was configured, at least once and in order; the
// MQTT sink, always configured, has every event.
func TestRestartMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("20 processes")
	}
	dir := t.TempDir()
	port := testkit.FreePort(t)
	mqDir := filepath.Join(dir, "mq")
	if err := os.Mkdir(mqDir, 0o700); err != nil {
		t.Fatal(err)
	}
	broker := testkit.StartMosquitto(t, port, mqDir)
	brokerUp := true
	defer func() {
		if brokerUp {
			broker.Stop()
		}
	}()
	url := fmt.Sprintf("tcp://127.0.0.1:%d", port)
	rec := newReceiver()
	subOpts := mqtt.NewClientOptions().AddBroker(url).SetClientID("matrix-subscriber").SetCleanSession(false).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(100 * time.Millisecond).
		SetMaxReconnectInterval(500 * time.Millisecond).SetOrderMatters(true)
	onMessage := func(_ mqtt.Client, m mqtt.Message) {
		var ev incident.Event
		if m.Topic() == "matrix/events" && json.Unmarshal(m.Payload(), &ev) == nil {
			rec.add(ev)
		}
	}
	// The session's queued messages can arrive before Subscribe registers
	// its route again: the default handler takes them.
	subOpts.SetDefaultPublishHandler(onMessage)
	subOpts.SetOnConnectHandler(func(c mqtt.Client) { c.Subscribe("matrix/events", 1, onMessage) })
	sub := mqtt.NewClient(subOpts)
	if tok := sub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber: %v", tok.Error())
	}
	defer sub.Disconnect(100)

	fileSink := func(name string) config.Sink {
		return testkit.Sink(config.SinkFile, name, filepath.Join(dir, name+".jsonl"))
	}
	mqttSink := testkit.Sink(config.SinkMQTT, "mqtt", url, testkit.Backoff(20*time.Millisecond, 200*time.Millisecond), func(s *config.Sink) {
		s.MQTT.TopicPrefix, s.Timeout = "matrix", time.Second
	})
	var extras []string // configured extra file sinks, oldest first
	want := map[string][]string{}
	outbox := OutboxConfig{Path: filepath.Join(dir, "outbox.db")}

	for cycle := range 20 {
		c := cycle % 12
		crash, backlog, change := c%2 == 1, (c/2)%2 == 1, c/4
		switch change {
		case 1:
			for i := 0; ; i++ {
				if name := "extra-" + strconv.Itoa(i); !contains(extras, name) {
					extras = append(extras, name)
					break
				}
			}
		case 2:
			if len(extras) == 0 {
				t.Fatalf("cycle %d: no sink to remove", cycle)
			}
			extras = extras[1:]
		}
		if backlog && brokerUp {
			broker.Stop()
			brokerUp = false
		} else if !backlog && !brokerUp {
			broker = testkit.StartMosquitto(t, port, mqDir)
			brokerUp = true
		}
		cfg := Config{Outbox: outbox, Sinks: []config.Sink{fileSink("file"), mqttSink}}
		wait := []string{"file"}
		for _, e := range extras {
			cfg.Sinks = append(cfg.Sinks, fileSink(e))
			wait = append(wait, e)
		}
		if !backlog {
			wait = append(wait, "mqtt")
		}
		what := fmt.Sprintf("cycle %d (crash=%v backlog=%v change=%d sinks=%d)", cycle, crash, backlog, change, len(cfg.Sinks))
		ids := runMatrixChild(t, what, cfg, 10, wait, crash)
		// Every run keeps emitting: its events are in every file sink.
		for _, s := range cfg.Sinks {
			if s.File == nil {
				continue
			}
			have := map[string]bool{}
			for _, id := range incidenttest.FileIDs(t, s.File.Path) {
				have[id] = true
			}
			for _, id := range ids {
				if !have[id] {
					t.Fatalf("%s: sink %s did not get this run's event %s", what, s.Name, id)
				}
			}
		}
		for _, s := range cfg.Sinks {
			want[s.Name] = append(want[s.Name], ids...)
		}
	}
	// A last run with the broker up delivers the MQTT backlog.
	if !brokerUp {
		broker = testkit.StartMosquitto(t, port, mqDir)
		brokerUp = true
	}
	runMatrixChild(t, "final drain", Config{Outbox: outbox, Sinks: []config.Sink{fileSink("file"), mqttSink}}, 0, []string{"mqtt"}, false)

	for name, ids := range want {
		if name == "mqtt" {
			continue
		}
		if got := incidenttest.Dedup(incidenttest.FileIDs(t, filepath.Join(dir, name+".jsonl"))); strings.Join(got, ",") != strings.Join(ids, ",") {
			t.Errorf("sink %s: %d events, want the %d emitted while it was configured, in order", name, len(got), len(ids))
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		rec.mu.Lock()
		got := incidenttest.Dedup(rec.ids)
		rec.mu.Unlock()
		if strings.Join(got, ",") == strings.Join(want["mqtt"], ",") {
			break
		}
		if time.Now().After(deadline) {
			have := map[string]bool{}
			for _, id := range got {
				have[id] = true
			}
			var missing []string
			for i, id := range want["mqtt"] {
				if !have[id] {
					missing = append(missing, fmt.Sprintf("cycle %d #%d", i/10, i%10))
				}
			}
			t.Fatalf("mqtt subscriber: %d distinct events, want all %d in order; missing %v", len(got), len(want["mqtt"]), missing)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// runMatrixChild runs one vigil delivery process (TestRestartMatrixChild)
// that emits n events and waits until the sinks in wait have them; then it
// is killed (crash) or stopped by SIGTERM. It returns the emitted ids.
func runMatrixChild(t *testing.T, what string, cfg Config, n int, wait []string, crash bool) []string {
	t.Helper()
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRestartMatrixChild$", "-test.v")
	cmd.Env = append(os.Environ(), "VIGIL_MATRIX_CHILD="+string(js), "VIGIL_MATRIX_EVENTS="+strconv.Itoa(n),
		"VIGIL_MATRIX_WAIT="+strings.Join(wait, ","))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var ids []string
	timeout := time.After(30 * time.Second)
	next := func() (string, bool) {
		select {
		case l, ok := <-lines:
			return l, ok
		case <-timeout:
			cmd.Process.Kill() //nolint:errcheck
			t.Fatalf("%s: the child process timed out", what)
		}
		return "", false
	}
	for {
		line, ok := next()
		if !ok {
			cmd.Wait() //nolint:errcheck
			t.Fatalf("%s: the child exited before its events reached %v (a restart silenced delivery?)", what, wait)
		}
		if id, ok := strings.CutPrefix(line, "published "); ok {
			ids = append(ids, id)
		}
		if line == "ready" {
			break
		}
	}
	if len(ids) != n {
		t.Fatalf("%s: child published %d events, want %d", what, len(ids), n)
	}
	if crash {
		cmd.Process.Signal(syscall.SIGKILL) //nolint:errcheck
		cmd.Wait()                          //nolint:errcheck // killed
		return ids
	}
	cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
	closed := ""
	for line, ok := next(); ok; line, ok = next() {
		if strings.HasPrefix(line, "closed") {
			closed = line
		}
	}
	if err := cmd.Wait(); err != nil || closed != "closed <nil>" {
		t.Fatalf("%s: graceful stop: %v, %q", what, err, closed)
	}
	return ids
}

// TestRestartMatrixChild is the process TestRestartMatrix starts.
func TestRestartMatrixChild(t *testing.T) {
	js := os.Getenv("VIGIL_MATRIX_CHILD")
	if js == "" {
		t.Skip("helper process of TestRestartMatrix")
	}
	var cfg Config
	if err := json.Unmarshal([]byte(js), &cfg); err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(os.Getenv("VIGIL_MATRIX_EVENTS"))
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	d, err := testOpen(cfg, io.Discard, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	first := d.box.LastSeq()
	evs := incidenttest.Events(max(n, 1))[:n]
	for _, ev := range evs {
		if err := d.Publish(ev); err != nil {
			t.Fatal(err)
		}
		fmt.Println("published", ev.ID)
	}
	deadline := time.Now().Add(20 * time.Second)
	for d.box.LastSeq() < first+uint64(n) {
		if time.Now().After(deadline) {
			t.Fatal("events not stored")
		}
		time.Sleep(5 * time.Millisecond)
	}
	target := d.box.LastSeq()
	for _, name := range strings.Split(os.Getenv("VIGIL_MATRIX_WAIT"), ",") {
		for {
			if c, err := d.box.Cursor(name); err == nil && c >= target {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("sink %s never got this run's events", name)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	fmt.Println("ready")
	<-term // or SIGKILL
	fmt.Println("closed", d.Close())
}
