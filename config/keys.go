package config

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

var (
	durationType = reflect.TypeFor[time.Duration]()
	sinkType     = reflect.TypeFor[Sink]()
)

// mappingValue is the scalar value of key in mapping n ("" if none).
func mappingValue(n *yaml.Node, key string) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key && n.Content[i+1].Kind == yaml.ScalarNode {
			return n.Content[i+1].Value
		}
	}
	return ""
}

// checkKeys walks a YAML document's root node against the Go type it
// decodes into and reports the first mapping key that has no field, by its
// path ("cameras[1].motion.treshold") and line. Aliases are followed, and
// the nodes they expand to are counted: past maxAliasExpansion(document)
// the walk stops with an error, so that an alias bomb (a few lines
// expanding to billions of nodes) is refused at once instead of taking the
// CPU before yaml.v3's own guard is reached.
func checkKeys(n *yaml.Node, t reflect.Type, path string) error {
	w := keyWalk{fields: map[reflect.Type]map[string]reflect.Type{}}
	w.left = maxAliasExpansion(countNodes(n))
	return w.check(n, t, path, false)
}

// maxAliasExpansion is how many nodes aliases may add to a document of n
// nodes: 10 times the document, and at least 10,000 (a camera template
// reused by a thousand cameras is far below; yaml.v3 allows less).
func maxAliasExpansion(n int) int { return max(10*n, 10_000) }

// countNodes counts the nodes of a document without following aliases.
func countNodes(n *yaml.Node) int {
	c := 1
	for _, k := range n.Content {
		c += countNodes(k)
	}
	return c
}

// keyWalk is one checkKeys walk: the fields of each struct type met (so
// that 10,000 cameras do not list the Camera fields 10,000 times) and the
// alias expansion budget left.
type keyWalk struct {
	fields map[reflect.Type]map[string]reflect.Type
	left   int
}

func (w *keyWalk) check(n *yaml.Node, t reflect.Type, path string, aliased bool) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		n, aliased = n.Alias, true
	}
	if aliased {
		if w.left--; w.left < 0 {
			return fmt.Errorf("%s: aliases expand the document to too many nodes (line %d): an alias bomb? A document may expand to 10 times its size", keyOrRoot(path), n.Line)
		}
	}
	switch t.Kind() {
	case reflect.Struct:
		if t == durationType || n.Kind != yaml.MappingNode {
			return nil
		}
		if t == sinkType { // its keys are those of its kind
			t = reflect.TypeOf(sinkDocType(mappingValue(n, "type")))
		}
		fields := w.fields[t]
		if fields == nil {
			fields = map[string]reflect.Type{}
			structFields(t, fields)
			w.fields[t] = fields
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			ft, ok := fields[k]
			key := k
			if path != "" {
				key = path + "." + k
			}
			if !ok {
				return fmt.Errorf("%s: unknown key (line %d)", key, n.Content[i].Line)
			}
			if err := w.check(n.Content[i+1], ft, key, aliased); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return nil
		}
		for i, c := range n.Content {
			if err := w.check(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), aliased); err != nil {
				return err
			}
		}
	}
	return nil
}

// structFields collects the YAML keys of struct t (with those of its
// ",inline" fields) and their types.
func structFields(t reflect.Type, into map[string]reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if opts == "inline" && f.Type.Kind() == reflect.Struct {
			structFields(f.Type, into)
			continue
		}
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		into[name] = f.Type
	}
}

// keyOrRoot names path for an error, the document's top for "".
func keyOrRoot(path string) string {
	if path == "" {
		return "(top level)"
	}
	return path
}
