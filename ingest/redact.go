package ingest

import (
	"errors"
	"net/url"
	"strings"
)

// secretQueryKeys are query parameters some cameras take credentials in.
var secretQueryKeys = []string{"user", "pass", "pwd", "password", "token", "auth", "key", "secret", "signature"}

// RedactURL returns raw without its credentials: the user info is removed
// and query values whose names look like credentials are replaced. A URL that
// does not parse is replaced by a placeholder rather than echoed.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable url>"
	}
	u.User = nil
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			lk := strings.ToLower(k)
			for _, s := range secretQueryKeys {
				if strings.Contains(lk, s) {
					q.Set(k, "REDACTED")
					break
				}
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}

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
	msg := err.Error()
	changed := false
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, "REDACTED")
			changed = true
		}
	}
	if !changed {
		return err
	}
	var re *redactedError
	if errors.As(err, &re) {
		return &redactedError{msg: msg, err: re.err}
	}
	return &redactedError{msg: msg, err: err}
}
