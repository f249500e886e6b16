// Command dsard is zoom-dsar's server: it takes access requests over gRPC,
// collects what Zoom holds about a person and serves signed bundles.
//
// Configuration is by flags with DSAR_* environment fallbacks; run
// `dsard -h` for them. `dsard check -data-dir DIR` checks a data directory
// offline (the store, every request record, every completed bundle) and
// exits non-zero on any problem. `dsard demo [-dir DIR]` runs an access
// request end to end against the embedded Zoom emulator, in one process.
// See cmd/internal/daemon.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/zoomdsar/zoom-dsar/cmd/internal/daemon"
	"github.com/zoomdsar/zoom-dsar/cmd/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var err error
	if len(os.Args) > 1 && os.Args[1] == "demo" {
		err = demo.Run(ctx, os.Args[2:], os.Stdout, os.Stderr)
	} else {
		err = daemon.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	}
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintf(os.Stderr, "dsard: %v\n", err)
		os.Exit(1)
	}
}
