package ingest

import (
	"errors"

	"github.com/vigil-video/vigil/redact"
)

// RedactURL returns raw without its credentials (redact.URL: the user info
// removed, secret-looking query parameters masked, an unparsable URL never
// echoed). One redactor serves every URL of the engine.
func RedactURL(raw string) string { return redact.URL(raw) }

// redactedError hides credentials that an error from the RTSP stack may
// quote (a URL with user info, the password itself).
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactError returns err with every occurrence of the given secrets removed
// from its message; errors.Is and errors.As still see the original.
func redactError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := redact.Text(err.Error(), nil, secrets...)
	if msg == err.Error() {
		return err
	}
	var re *redactedError
	if errors.As(err, &re) {
		return &redactedError{msg: msg, err: re.err}
	}
	return &redactedError{msg: msg, err: err}
}
