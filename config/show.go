package config

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vigil-video/vigil/redact"
)

// Show returns the effective configuration (defaults applied) as YAML with
// every secret masked: values of secret-looking keys (password, secret,
// bearer_token, ...), every header value, and the credentials of every URL.
// It is what `vigil check-config` prints.
func Show(cfg Config) ([]byte, error) {
	var doc yaml.Node
	if err := doc.Encode(cfg); err != nil {
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
