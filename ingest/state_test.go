package ingest

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// TestReasonsInSchema: every reason a camera can fail with is a cause the
// published incident schema accepts for camera_offline (a reason missing
// there makes its events invalid for every consumer that validates).
func TestReasonsInSchema(t *testing.T) {
	b, err := os.ReadFile("../schema/incident-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		AllOf []struct {
			If struct {
				Properties struct {
					Kind struct {
						Const string `json:"const"`
					} `json:"kind"`
				} `json:"properties"`
			} `json:"if"`
			Then struct {
				Properties struct {
					Cause struct {
						Enum []string `json:"enum"`
					} `json:"cause"`
				} `json:"properties"`
			} `json:"then"`
		} `json:"allOf"`
	}
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatal(err)
	}
	var causes []string
	for _, c := range schema.AllOf {
		if c.If.Properties.Kind.Const == "camera_offline" {
			causes = c.Then.Properties.Cause.Enum
		}
	}
	if len(causes) == 0 {
		t.Fatal("no camera_offline causes found in the schema")
	}
	for _, r := range Reasons {
		if !slices.Contains(causes, r) {
			t.Errorf("reason %q is not a camera_offline cause in schema/incident-v1.json (%v)", r, causes)
		}
	}
}
