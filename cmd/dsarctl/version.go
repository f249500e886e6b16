package main

import (
	"fmt"
	"runtime/debug"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// readBuildInfo is debug.ReadBuildInfo; a test sets it.
var readBuildInfo = debug.ReadBuildInfo

// newVersion prints what dsarctl was built from: the module's version,
// the VCS revision and its time, and the Go version, as the Go toolchain
// recorded them in the binary. It asks dsard nothing.
func newVersion(e *env) *cobra.Command {
	return command("version", "print dsarctl's version, VCS revision and Go version", 0, 0, func(*cobra.Command, []string) error {
		bi, ok := readBuildInfo()
		if !ok {
			return fmt.Errorf("version: this binary carries no build information")
		}
		rows := [][2]string{{"version", bi.Main.Version}, {"module", bi.Main.Path}}
		settings := map[string]string{}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
		rev := settings["vcs.revision"]
		if rev != "" && settings["vcs.modified"] == "true" {
			rev += " (modified)"
		}
		rows = append(rows, [2]string{"revision", rev}, [2]string{"revision time", settings["vcs.time"]}, [2]string{"go", bi.GoVersion})
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		for _, r := range rows {
			if r[1] == "" {
				r[1] = "unknown"
			}
			fmt.Fprintf(tw, "%s\t%s\n", r[0], r[1])
		}
		return tw.Flush()
	})
}
