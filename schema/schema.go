// Package schema embeds the published JSON Schemas of incident events, so
// that the engine can serve them (the OpenAPI description of the HTTP API
// bundles them) from the one copy the tests validate against.
package schema

import _ "embed"

// IncidentData is incident-v1.json: the data of an incident event
// ($id https://vigil.dev/schema/incident/v1).
//
//go:embed incident-v1.json
var IncidentData []byte

// IncidentEvent is incident-event-v1.json: a whole incident event
// ($id https://vigil.dev/schema/incident-event/v1).
//
//go:embed incident-event-v1.json
var IncidentEvent []byte
