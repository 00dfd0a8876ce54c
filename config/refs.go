package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"

	"gopkg.in/yaml.v3"
)

// MaxSecretFileBytes is the largest file a "${file:PATH}" reference reads
// (64 KiB): a secret, a token or a PEM key, never a stream.
const MaxSecretFileBytes = 64 << 10

// Secrets need not be written in the file: any string value that is
// exactly "${env:NAME}" takes the environment variable NAME, and
// "${file:PATH}" the content of the file at PATH (one trailing newline
// removed), as systemd credentials, Docker and Kubernetes secrets provide
// them. Only a regular file of at most MaxSecretFileBytes is read (a FIFO,
// a device such as /dev/zero or a directory is refused before any read,
// so a reload can neither block nor exhaust memory). An unset variable or
// an unreadable file is an error naming the key and the reference; the
// value itself is never shown. Every reference resolved is added to refs,
// so that later errors can hide its value (hideRefValues).
func expandRefs(n *yaml.Node, path string, refs *[]ref) error {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if err := expandRefs(c, path, refs); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if err := expandRefs(c, fmt.Sprintf("%s[%d]", path, i), refs); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if path != "" {
				key = path + "." + key
			}
			if err := expandRefs(n.Content[i+1], key, refs); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		v, ok, err := resolveRef(n.Value)
		if err != nil {
			return fmt.Errorf("%s: %w (line %d)", path, err, n.Line)
		}
		if ok {
			*refs = append(*refs, ref{text: n.Value, value: v})
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
		b, err := readSecretFile(arg)
		if err != nil {
			return "", false, fmt.Errorf("secret file: %w", err)
		}
		return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), true, nil
	}
	return "", false, nil
}

// readSecretFile reads a regular file of at most MaxSecretFileBytes.
func readSecretFile(path string) ([]byte, error) {
	b, err := ReadRegularFile(path, MaxSecretFileBytes)
	if errors.Is(err, errTooLarge) {
		return nil, fmt.Errorf("%w a secret file may hold", err)
	}
	return b, err
}

// errTooLarge marks a file past ReadRegularFile's cap.
var errTooLarge = errors.New("more than the")

// ReadRegularFile reads a regular file of at most max bytes. It opens
// without blocking (O_NONBLOCK: opening a FIFO with no writer returns at
// once) and checks the open file's type and size (fstat) before reading,
// so what is read is what was checked; a FIFO, a device (/dev/zero), a
// directory or a socket is refused with an error saying which, and a file
// growing meanwhile is still cut at the cap and refused. Configuration
// files (the configuration, web_config_file, secrets) are read with it, so
// that a wrong path can neither block a reload nor fill the memory.
func ReadRegularFile(path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, fileKind(st.Mode()))
	}
	if st.Size() > max {
		return nil, fmt.Errorf("%s is %d bytes, %w %d", path, st.Size(), errTooLarge, max)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s grew past %d bytes, %w %d", path, max, errTooLarge, max)
	}
	return b, nil
}

// fileKind names a file type for an error.
func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a block device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}

// ref is a resolved "${env:...}" or "${file:...}" reference: its text and
// the value it stands for.
type ref struct{ text, value string }

// hideRefValues returns err with every value that a reference stood for
// replaced by "(value of REF hidden)", so that an error about a key filled
// from a secret names the key and the reference, never the secret. Quoted
// forms ("v", `v`, and yaml.v3's shortened `v[:7]...`) are always replaced; a bare value of 4 bytes or more
// too (shorter ones would match unrelated text such as indexes).
func hideRefValues(err error, refs []ref) error {
	if err == nil || len(refs) == 0 {
		return err
	}
	msg := err.Error()
	changed := false
	for _, r := range refs {
		if r.value == "" {
			continue
		}
		hidden := "(value of " + r.text + " hidden)"
		forms := []string{strconv.Quote(r.value), "`" + r.value + "`", "'" + r.value + "'"}
		if len(r.value) > 10 { // yaml.v3 shortens the values it quotes
			forms = append(forms, "`"+r.value[:7]+"...`")
		}
		if len(r.value) >= 4 {
			forms = append(forms, r.value)
		}
		for _, f := range forms {
			if strings.Contains(msg, f) {
				msg = strings.ReplaceAll(msg, f, hidden)
				changed = true
			}
		}
	}
	if !changed {
		return err
	}
	return &hiddenError{msg: msg, err: err}
}
