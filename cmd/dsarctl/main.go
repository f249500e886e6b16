// Command dsarctl is the operator's and auditor's client of dsard: create,
// watch, list and steer access requests, download bundles (resumably) and
// verify them offline and read the audit log. It talks to dsard through
// dsar/rpc/client and carries neither the server nor the Zoom emulator
// (TestDependencies); the self-contained demo is `dsard demo`.
//
// Run `dsarctl help` for the commands.
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
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if code := exitCode(err); err != nil && code != 0 {
		fmt.Fprintln(os.Stderr, "dsarctl: "+oneLine(err))
		os.Exit(code)
	}
}
