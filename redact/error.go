package redact

import "errors"

// Error returns err with its message made safe to log (Text: every URL of
// urls shown redacted, every non-empty secret replaced by Mask); errors.Is
// and errors.As still see the original. It returns nil for nil, and err
// itself when its message quotes none of them. It is how an error from a
// client library (RTSP, NATS, MQTT), which may quote a configured URL with
// its user info or the password itself, is made safe to return or log.
func Error(err error, urls []string, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := Text(err.Error(), urls, secrets...)
	if msg == err.Error() {
		return err
	}
	var re *redactedError
	if errors.As(err, &re) {
		return &redactedError{msg: msg, err: re.err}
	}
	return &redactedError{msg: msg, err: err}
}

// redactedError is an error shown with a redacted message.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
