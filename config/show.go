package config

import (
	"bytes"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vigil-video/vigil/redact"
)

// Show returns the effective configuration (defaults applied) as YAML with
// every secret masked: values of secret-looking keys (password, secret,
// bearer_token, ...), every header value, and the credentials of every URL.
// It is what `vigil check-config` prints.
//
// The cameras are encoded one at a time and spliced into the document:
// yaml.v3's emitter keeps every event of a document until it ends, so a
// document of 10,000 cameras took seconds and gigabytes; the output is the
// same text.
func Show(cfg Config) ([]byte, error) {
	cams := cfg.Cameras
	cfg.Cameras = nil
	out, err := showNode(cfg)
	if err != nil || len(cams) == 0 {
		return out, err
	}
	const empty = "\ncameras: []\n"
	i := bytes.Index(out, []byte(empty))
	if i < 0 {
		return nil, fmt.Errorf("encode configuration: no cameras key")
	}
	var b bytes.Buffer
	b.Grow(len(out) + len(cams)*2048)
	b.Write(out[:i])
	b.WriteString("\ncameras:\n")
	for j := range cams {
		item, err := showNode(cams[j : j+1])
		if err != nil {
			return nil, err
		}
		for line := range bytes.Lines(item) {
			b.WriteString(showIndent)
			b.Write(line)
		}
	}
	b.Write(out[i+len(empty):])
	return b.Bytes(), nil
}

// showIndent is yaml.v3's indentation of a sequence under a mapping key.
const showIndent = "    "

// showNode encodes v with its secrets masked.
func showNode(v any) ([]byte, error) {
	var doc yaml.Node
	if err := doc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode configuration: %w", err)
	}
	mask(&doc, false)
	return yaml.Marshal(&doc)
}

// mask redacts the node in place; all masks every scalar below (a headers
// map: any header may carry a credential).
func mask(n *yaml.Node, all bool) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			mask(c, all)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			switch {
			case all || k.Value == "headers":
				mask(v, true)
			case v.Kind == yaml.ScalarNode && v.Value != "" && redact.SecretName(k.Value):
				v.Value, v.Tag, v.Style = redact.Mask, "!!str", 0
			case v.Kind == yaml.ScalarNode && (k.Value == "url" || strings.HasSuffix(k.Value, "_url")):
				// nats_url may list several servers, comma-separated.
				parts := strings.Split(v.Value, ",")
				for i := range parts {
					parts[i] = redact.URL(parts[i])
				}
				v.Value = strings.Join(parts, ",")
			default:
				mask(v, false)
			}
		}
	case yaml.ScalarNode:
		if all && n.Value != "" {
			n.Value, n.Tag, n.Style = redact.Mask, "!!str", 0
		}
	}
}
