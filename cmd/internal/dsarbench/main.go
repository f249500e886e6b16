// Command dsarbench is a development tool, not part of the product: it
// measures zoom-dsar end to end with real processes. It
// builds dsard and zoomfake, runs them on loopback and drives them over
// gRPC, then reads the emulator's request log to judge how close an access
// request comes to the limit Zoom's rate limits set, and whether the
// resilience claims (quota parking, retries, crash safety, resumable
// downloads, a shared throttle) hold.
//
//	go run ./cmd/internal/dsarbench [-short] [-markdown] [scenario...]
//
// Scenarios: budget, quota, faults, crash, download, scale, backlog,
// estimate (default: all).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "dsarbench:", err)
		os.Exit(1)
	}
}
