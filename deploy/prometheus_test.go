package deploy

import (
	"os"
	"os/exec"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestPrometheusRules: promtool accepts the rules and their unit tests
// pass, and every alert has a unit test.
func TestPrometheusRules(t *testing.T) {
	promtool := tool(t, "promtool", "prometheus")
	for _, args := range [][]string{{"check", "rules", "vigil-rules.yml"}, {"test", "rules", "vigil-rules.test.yml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "prometheus"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
	var rules struct {
		Groups []struct{ Rules []struct{ Alert string } }
	}
	var tests struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		}
	}
	for path, v := range map[string]any{"prometheus/vigil-rules.yml": &rules, "prometheus/vigil-rules.test.yml": &tests} {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(raw, v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				silent[a.Alertname] = true
			}
		}
	}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			n++
			if !fires[r.Alert] || !silent[r.Alert] {
				t.Errorf("alert %s: tested firing %v, tested silent %v; want both", r.Alert, fires[r.Alert], silent[r.Alert])
			}
		}
	}
	for _, want := range []string{"VigilCameraOffline", "VigilAnalysisStalled", "VigilOutboxBacklogGrowing", "VigilSinkFailing",
		"VigilOverloadLadderEngaged", "VigilEvidenceErrors", "VigilDeliveryLagging", "VigilOutboxDamaged",
		"VigilInstanceDown", "VigilInstanceGone", "VigilInferenceShed", "VigilInferenceErrors", "VigilFramesDropped",
		"VigilObjectModelAbsent", "VigilWebConfigRefused", "VigilClusterNATSDisconnected", "VigilClusterLeasesLost", "VigilClusterStoreErrors"} {
		if !fires[want] {
			t.Errorf("no alert %s", want)
		}
	}
	if n == 0 {
		t.Fatal("no alert in the rules")
	}
}
