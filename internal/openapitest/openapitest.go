// Package openapitest checks real HTTP responses against the API's
// OpenAPI description (api.OpenAPI): their status, media type and body
// must be the ones documented for the route, the body valid against the
// documented schema (JSON Schema 2020-12, formats asserted).
package openapitest

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// docURL is where the description is registered in the compiler.
const docURL = "https://vigil.dev/api/openapi.json"

// Doc is a parsed OpenAPI description with its schemas compiled on use.
type Doc struct {
	// Raw is the description as decoded JSON.
	Raw map[string]any
	c   *jsonschema.Compiler
}

// Load parses the description and registers it and every schema of
// components.schemas that has an $id (the bundled incident schemas) as
// resources, so that a $ref to that $id resolves to the description's
// own copy.
func Load(t testing.TB, doc []byte) *Doc {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("openapi: %v", err)
	}
	d := &Doc{Raw: v.(map[string]any), c: jsonschema.NewCompiler()}
	d.c.AssertFormat()
	d.c.DefaultDraft(jsonschema.Draft2020)
	if err := d.c.AddResource(docURL, v); err != nil {
		t.Fatalf("openapi: %v", err)
	}
	for name, s := range d.Raw["components"].(map[string]any)["schemas"].(map[string]any) {
		if id, ok := s.(map[string]any)["$id"].(string); ok {
			if err := d.c.AddResource(id, s); err != nil {
				t.Fatalf("openapi: components.schemas.%s: %v", name, err)
			}
		}
	}
	return d
}

// Operations returns every documented "METHOD path" (as http.ServeMux
// patterns: "GET /api/cameras/{id}").
func (d *Doc) Operations() []string {
	var out []string
	for path, item := range d.Raw["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
				out = append(out, strings.ToUpper(method)+" "+path)
			}
		}
	}
	return out
}

func escape(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1") }

// response returns the documented response object of a status (or
// "default"), following a $ref to components.responses.
func (d *Doc) response(method, path string, status int) (map[string]any, string, error) {
	item, ok := d.Raw["paths"].(map[string]any)[path].(map[string]any)
	if !ok {
		return nil, "", fmt.Errorf("path %s is not documented", path)
	}
	op, ok := item[strings.ToLower(method)].(map[string]any)
	if !ok {
		return nil, "", fmt.Errorf("%s %s is not documented", method, path)
	}
	responses := op["responses"].(map[string]any)
	code := strconv.Itoa(status)
	r, ok := responses[code].(map[string]any)
	if !ok {
		return nil, "", fmt.Errorf("%s %s: status %d is not documented", method, path, status)
	}
	ptr := "/paths/" + escape(path) + "/" + strings.ToLower(method) + "/responses/" + code
	if ref, ok := r["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/responses/")
		r = d.Raw["components"].(map[string]any)["responses"].(map[string]any)[name].(map[string]any)
		ptr = "/components/responses/" + escape(name)
	}
	return r, ptr, nil
}

// Check reads res's body (and closes it) and fails t unless res is a
// documented response of method and path (the template: /api/cameras/{id}):
// its status, its media type, and its body valid against the schema
// documented for them (a JSON body decoded, any other the text; a JPEG
// must start like one). It returns the body.
func (d *Doc) Check(t testing.TB, method, path string, res *http.Response) []byte {
	t.Helper()
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if err := d.Validate(method, path, res.StatusCode, res.Header.Get("Content-Type"), body); err != nil {
		t.Errorf("%v\nbody: %.300s", err, body)
	}
	return body
}

// Validate is Check's judgement on a status, a Content-Type and a body.
func (d *Doc) Validate(method, path string, status int, contentType string, body []byte) error {
	r, ptr, err := d.response(method, path, status)
	if err != nil {
		return err
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("%s %s %d: Content-Type %q: %v", method, path, status, contentType, err)
	}
	content, _ := r["content"].(map[string]any)
	media, ok := content[mt].(map[string]any)
	if !ok {
		return fmt.Errorf("%s %s %d: media type %s is not documented", method, path, status, mt)
	}
	if _, ok := media["schema"]; !ok {
		return nil
	}
	sch, err := d.c.Compile(docURL + "#" + ptr + "/content/" + escape(mt) + "/schema")
	if err != nil {
		return fmt.Errorf("%s %s %d %s: the documented schema does not compile: %v", method, path, status, mt, err)
	}
	var v any = string(body)
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		if v, err = jsonschema.UnmarshalJSON(bytes.NewReader(body)); err != nil {
			return fmt.Errorf("%s %s %d: not JSON: %v", method, path, status, err)
		}
	case mt == "image/jpeg":
		if !bytes.HasPrefix(body, []byte{0xFF, 0xD8}) { // SOI
			return fmt.Errorf("%s %s %d: not a JPEG", method, path, status)
		}
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("%s %s %d %s: %v", method, path, status, mt, err)
	}
	return nil
}

// ValidateSchema validates js against components.schemas.<name> (by its
// $id when it has one).
func (d *Doc) ValidateSchema(name string, js []byte) error {
	loc := docURL + "#/components/schemas/" + escape(name)
	if s, ok := d.Raw["components"].(map[string]any)["schemas"].(map[string]any)[name].(map[string]any); ok {
		if id, ok := s["$id"].(string); ok {
			loc = id
		}
	}
	sch, err := d.c.Compile(loc)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return err
	}
	return sch.Validate(v)
}
