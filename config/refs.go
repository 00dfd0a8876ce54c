package config

import (
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// Secrets need not be written in the file: any string value that is
// exactly "${env:NAME}" takes the environment variable NAME, and
// "${file:PATH}" the content of the file at PATH (one trailing newline
// removed), as systemd credentials, Docker and Kubernetes secrets provide
// them. An unset variable or an unreadable file is an error naming the
// key; the value itself is never shown.
func expandRefs(n *yaml.Node, path string) error {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if err := expandRefs(c, path); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if err := expandRefs(c, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if path != "" {
				key = path + "." + key
			}
			if err := expandRefs(n.Content[i+1], key); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		v, ok, err := resolveRef(n.Value)
		if err != nil {
			return fmt.Errorf("%s: %w (line %d)", path, err, n.Line)
		}
		if ok {
			// The value takes the type of the key it fills (workers:
			// ${env:N} is a number), but never turns into null.
			n.Value, n.Tag, n.Style = v, "", 0
			if l := strings.ToLower(v); l == "" || l == "~" || l == "null" {
				n.Tag, n.Style = "!!str", yaml.DoubleQuotedStyle
			}
		}
	}
	return nil
}

// resolveRef returns the value a "${env:NAME}" or "${file:PATH}" reference
// stands for; ok is false for any other string.
func resolveRef(s string) (v string, ok bool, err error) {
	if !strings.HasPrefix(s, "${") || !strings.HasSuffix(s, "}") {
		return "", false, nil
	}
	kind, arg, found := strings.Cut(s[2:len(s)-1], ":")
	if !found || arg == "" {
		return "", false, nil
	}
	switch kind {
	case "env":
		v, ok := os.LookupEnv(arg)
		if !ok {
			return "", false, fmt.Errorf("environment variable %s is not set", arg)
		}
		return v, true, nil
	case "file":
		b, err := os.ReadFile(arg)
		if err != nil {
			return "", false, fmt.Errorf("secret file: %w", err)
		}
		return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), true, nil
	}
	return "", false, nil
}
