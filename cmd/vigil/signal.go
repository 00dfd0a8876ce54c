package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// shutdownContext returns a context cancelled by the first SIGINT or
// SIGTERM, which asks for a graceful shutdown. A second one calls exit at
// once with 128 + the signal's number, whatever the shutdown waits for.
// Both are logged to log. stop releases the signals.
func shutdownContext(exit func(code int), log *slog.Logger) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
		case <-done:
			return
		}
		log.Info("shutting down; a second signal exits at once")
		cancel()
		select {
		case sig := <-sigs:
			log.Warn("second signal, exiting without finishing the shutdown")
			code := 1
			if s, ok := sig.(syscall.Signal); ok {
				code = 128 + int(s)
			}
			exit(code)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}
