package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/vigil-video/vigil/schema"
)

// openAPISource is the OpenAPI 3.1 description of every route Routes
// registers, without the incident schemas (OpenAPI).
//
//go:embed openapi.json
var openAPISource []byte

// OpenAPI returns the OpenAPI 3.1 description of the HTTP API (served at
// GET /api/openapi.json): openapi.json with the published incident
// schemas (package schema) bundled under components.schemas as
// IncidentEvent and IncidentData, each with its $id, which the paths
// reference.
var OpenAPI = sync.OnceValues(func() ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(openAPISource, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for name, raw := range map[string][]byte{"IncidentEvent": schema.IncidentEvent, "IncidentData": schema.IncidentData} {
		var s map[string]any
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("schema %s: %w", name, err)
		}
		schemas[name] = s
	}
	return json.MarshalIndent(doc, "", "  ")
})

// serveOpenAPI serves OpenAPI.
func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	doc, err := OpenAPI()
	if err != nil { // the embedded files are checked by TestOpenAPI
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(doc) //nolint:errcheck // the client went away
}
