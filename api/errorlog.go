package api

import (
	stdlog "log"
	"log/slog"
	"strings"
)

// serverErrorLog returns the log.Logger net/http writes its own errors to
// (http.Server.ErrorLog), which would otherwise go to stderr as plain text
// past --log-format: each becomes one slog record with a static message.
// A failed TLS handshake (a client that does not trust the certificate,
// speaks plain HTTP to the TLS port, or a TCP probe that connects and
// closes) is logged at INFO with the client's address; anything else
// net/http reports (a handler's panic, an Accept error) at WARN.
func serverErrorLog(log *slog.Logger) *stdlog.Logger {
	return stdlog.New(serverErrors{log}, "", 0)
}

type serverErrors struct{ log *slog.Logger }

// handshakePrefix starts net/http's line for a failed TLS handshake:
// "http: TLS handshake error from ADDR: ERROR".
const handshakePrefix = "http: TLS handshake error from "

func (w serverErrors) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	if rest, ok := strings.CutPrefix(line, handshakePrefix); ok {
		if remote, cause, ok := strings.Cut(rest, ": "); ok {
			w.log.Info("tls handshake failed", "remote", remote, "error", cause)
			return len(p), nil
		}
	}
	w.log.Warn("http server error", "error", strings.TrimPrefix(line, "http: "))
	return len(p), nil
}
