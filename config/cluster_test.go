package config

import (
	"strings"
	"testing"
	"time"
)

const clusterCams = "cameras:\n  - {id: a, url: rtsp://127.0.0.1:8554/a}\n"

// TestClusterDefaults: a cluster section with the two required keys gets
// every default; without one, nothing is set.
func TestClusterDefaults(t *testing.T) {
	cfg, err := Parse([]byte("listen: 127.0.0.1:9200\ncluster: {nats_url: nats://127.0.0.1:4222, node_id: vigil-0}\n" + clusterCams))
	if err != nil {
		t.Fatal(err)
	}
	want := Cluster{NATSURL: "nats://127.0.0.1:4222", NodeID: "vigil-0", Weight: 1, LeaseTTL: 10 * time.Second,
		RenewInterval: 2 * time.Second, Settle: 5 * time.Second, UnreachableGrace: 30 * time.Second, Buckets: "vigil",
		Advertise: "127.0.0.1:9200"}
	if cfg.Cluster == nil || *cfg.Cluster != want {
		t.Errorf("cluster %+v, want %+v", cfg.Cluster, want)
	}
	cfg, err = Parse([]byte(clusterCams))
	if err != nil || cfg.Cluster != nil {
		t.Errorf("without a cluster section: %+v, %v", cfg.Cluster, err)
	}
	if _, err := Parse([]byte("cluster: {nats_url: nats://h:4222, node_id: n}\ncameras: []\n")); err != nil {
		t.Errorf("a cluster node may list no camera: %v", err)
	}
}

// TestClusterErrorsNameTheKey: every bad value is refused naming its key,
// and a URL's credentials are never echoed.
func TestClusterErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct{ section, key string }{
		{"{node_id: n}", "cluster.nats_url"},
		{"{nats_url: 'http://h:1', node_id: n}", "cluster.nats_url"},
		{"{nats_url: 'nats://user:s3cret@h:1', node_id: 'a b'}", "cluster.node_id"},
		{"{nats_url: nats://h:1, node_id: n, weight: 1000}", "cluster.weight"},
		{"{nats_url: nats://h:1, node_id: n, lease_ttl: 10ms}", "cluster.lease_ttl"},
		{"{nats_url: nats://h:1, node_id: n, lease_ttl: 4s, renew_interval: 3s}", "cluster.renew_interval"},
		{"{nats_url: nats://h:1, node_id: n, settle: -1s}", "cluster.settle"},
		{"{nats_url: nats://h:1, node_id: n, unreachable_grace: 2h}", "cluster.unreachable_grace"},
		{"{nats_url: nats://h:1, node_id: n, buckets: 'a.b'}", "cluster.buckets"},
		{"{nats_url: nats://h:1, node_id: n, lease: 4s}", "cluster.lease"},
	} {
		_, err := Parse([]byte("cluster: " + tc.section + "\n" + clusterCams))
		if err == nil || !strings.HasPrefix(err.Error(), tc.key) {
			t.Errorf("%s: error %v, want one naming %s", tc.section, err, tc.key)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: error shows the password: %v", tc.section, err)
		}
	}
}

// TestClusterShowMasksSecrets: check-config's output hides the cluster's
// password and the credentials of its NATS URL.
func TestClusterShowMasksSecrets(t *testing.T) {
	cfg, err := Parse([]byte("cluster: {nats_url: 'nats://u:urlpass@h:4222,nats://u:urlpass@h2:4222', node_id: node1, username: u, password: s3cret}\n" + clusterCams))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Show(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "s3cret") || strings.Contains(string(out), "urlpass") || !strings.Contains(string(out), "node_id: node1") {
		t.Errorf("shown:\n%s", out)
	}
}
