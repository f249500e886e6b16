// Command zoomfake runs the Zoom API emulator of package zoomtest as a
// standalone program, for demos, benchmarks and end-to-end tests.
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
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "zoomfake:", err)
		os.Exit(1)
	}
}
