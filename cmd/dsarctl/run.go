package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zoomdsar/zoom-dsar/cmd/internal/flagenv"
	"github.com/zoomdsar/zoom-dsar/dsar/rpc/client"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// env is what every command gets: the context, the environment, the
// standard streams and the flags of the root command.
type env struct {
	ctx    context.Context
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	conn   connFlags
	utc    bool // -utc: times in UTC rather than the local zone
}

// usageError is a mistake on the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// envAnnotation marks a flag that falls back to its DSAR_* variable.
const envAnnotation = "dsarctl-env"

// run is dsarctl; main only wires it to the process.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{ctx: ctx, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	e.conn.getenv = getenv
	root := newRoot(e)
	root.SetArgs(gnuArgs(root, args))
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return root.ExecuteContext(ctx)
}

// newRoot builds the command tree. cobra gives `help COMMAND`, shell
// completion and GNU flags; the commands keep dsarctl's single-dash flags
// through gnuArgs.
func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "dsarctl",
		Short: "the operator's and auditor's client of dsard",
		Long: "dsarctl creates, watches, lists and steers access requests, downloads bundles\n" +
			"(resumably), verifies them offline and reads the audit log.\n\n" +
			"Flags take one dash or two (-server or --server). Times are RFC 3339 in the local\n" +
			"zone with its offset (TZ sets the zone), or in UTC with -utc.",
		Args:              cobra.ArbitraryArgs,
		SilenceErrors:     true, // main prints the error, once
		SilenceUsage:      true,
		DisableAutoGenTag: true,
		// SuggestionsFor takes its distance from here; Find would set it
		// only for its own message, which RunE replaces.
		SuggestionsMinimumDistance: 2,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) == 0:
				cmd.SetOut(e.stderr)
				cmd.Usage()
				return usagef("no command given")
			case args[0] == "demo":
				return usagef("the demo runs the server, so it is dsard's: run `go run ./cmd/dsard demo`")
			}
			msg := fmt.Sprintf("unknown command %q; run `dsarctl help`", args[0])
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += "; did you mean " + strings.Join(s, " or ") + "?"
			}
			return usagef("%s", msg)
		},
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return e.fallback(cmd.Flags())
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		msg := err.Error()
		if msg == "unknown flag: --json" {
			msg += "; it is -o json now, which prints the API's message as protojson"
		}
		return &usageError{msg}
	})
	pf := root.PersistentFlags()
	e.conn.register(pf)
	pf.BoolVar(&e.utc, "utc", false, "print times in UTC (…Z) rather than in the local zone")
	pf.VisitAll(func(f *pflag.Flag) { e.withEnv(f) })
	root.AddCommand(
		newCreate(e), newGet(e), newList(e), newWatch(e), newResume(e), newRetry(e),
		newCancel(e), newDelete(e), newExtend(e), newDownload(e), newRebuild(e), newVerify(e),
		newAudit(e), newKey(e), newAccounts(e), newVersion(e), newManifest(e),
	)
	return root
}

// withEnv gives a flag the fallback to its DSAR_* variable: -server to
// DSAR_SERVER. Every connection flag has one, and the command flags a
// command names.
func (e *env) withEnv(f *pflag.Flag) {
	f.Usage = dsarEnv(nil).Note(f.Name, f.Usage)
	if f.Annotations == nil {
		f.Annotations = map[string][]string{}
	}
	f.Annotations[envAnnotation] = []string{"true"}
}

// fallback sets each flag with a fallback that the command line did not
// set from its variable.
func (e *env) fallback(fs *pflag.FlagSet) error {
	fe := dsarEnv(e.getenv)
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		if _, ok := f.Annotations[envAnnotation]; ok && !f.Changed {
			errs = append(errs, fe.Apply(f.Name, func(v string) error { return fs.Set(f.Name, v) }))
		}
	})
	if err := errors.Join(errs...); err != nil {
		return &usageError{strings.ReplaceAll(err.Error(), "\n", "; ")}
	}
	return nil
}

// dsarEnv is the rule of dsarctl's environment fallbacks: a flag falls
// back to DSAR_<NAME> (-server to DSAR_SERVER).
func dsarEnv(getenv func(string) string) flagenv.Env {
	return flagenv.Env{Prefix: "DSAR_", Getenv: getenv}
}

// gnuArgs turns dsarctl's single-dash long flags (-server, -json, as the
// flag package takes them) into the GNU form pflag takes (--server);
// single letters stay shorthands (-o, -f, -h). Only names are rewritten:
// the value of a flag of root's tree that takes one (-reason -x, -limit
// -10) stays as given, and so does everything after "--".
func gnuArgs(root *cobra.Command, args []string) []string {
	out := make([]string, 0, len(args))
	cmd := root
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(out, args[i:]...)
		case !strings.HasPrefix(a, "-") || a == "-":
			if sub := subcommand(cmd, a); sub != nil {
				cmd = sub
			}
			out = append(out, a)
			continue
		}
		name, _, inline := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "--") && len(name) > 1 {
			a = "-" + a
		}
		out = append(out, a)
		if f := lookupFlag(cmd, name); f != nil && f.NoOptDefVal == "" && !inline && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
	}
	return out
}

// subcommand returns cmd's subcommand called name, or nil.
func subcommand(cmd *cobra.Command, name string) *cobra.Command {
	for _, c := range cmd.Commands() {
		if c.Name() == name || c.HasAlias(name) {
			return c
		}
	}
	return nil
}

// lookupFlag finds the flag name (long, or a shorthand) of cmd, its own
// or persistent of it or a parent; nil when there is none.
func lookupFlag(cmd *cobra.Command, name string) *pflag.Flag {
	for c := cmd; c != nil; c = c.Parent() {
		for _, fs := range []*pflag.FlagSet{c.Flags(), c.PersistentFlags()} {
			if len(name) == 1 {
				if f := fs.ShorthandLookup(name); f != nil {
					return f
				}
			} else if f := fs.Lookup(name); f != nil {
				return f
			}
		}
	}
	return nil
}

// command is a subcommand with dsarctl's conventions: usage errors for
// wrong arguments, and -o when it prints an API message.
func command(use, short string, minArgs, maxArgs int, run func(cmd *cobra.Command, args []string) error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args: func(cmd *cobra.Command, args []string) error {
			name := strings.TrimPrefix(cmd.CommandPath(), "dsarctl ")
			switch {
			case len(args) < minArgs:
				return usagef("%s: missing arguments; see `dsarctl help %s`", name, name)
			case maxArgs >= 0 && len(args) > maxArgs:
				return usagef("%s: too many arguments; see `dsarctl help %s`", name, name)
			}
			return nil
		},
		RunE: run,
	}
}

// call dials dsard, calls fn with the client and closes the connection:
// what most commands do.
func (e *env) call(fn func(c dsarv1.AccessRequestServiceClient) error) error {
	cc, c, err := e.conn.dial()
	if err != nil {
		return err
	}
	defer cc.Close()
	return fn(c)
}

// loc is the zone of the times printed.
func (e *env) loc() *time.Location {
	if e.utc {
		return time.UTC
	}
	return time.Local
}

// oneLine describes an error for a person in one line.
func oneLine(err error) string {
	var ue *usageError
	if errors.As(err, &ue) {
		return ue.msg
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		return 2
	}
	return 1
}

// rpcError describes a failed call: what was attempted, the gRPC code in
// words and the server's message.
func rpcError(what string, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%s: %w", what, err)
	}
	var hint string
	switch st.Code() {
	case codes.Unavailable:
		hint = " (is dsard running at -server / DSAR_SERVER?)"
	case codes.Unauthenticated:
		hint = " (set DSAR_TOKEN or -token-file)"
	}
	return fmt.Errorf("%s: %s: %s%s", what, codeWords(st.Code()), st.Message(), hint)
}

// codeWords is client.CodeWords, the words dsarctl and the client's
// download errors share.
var codeWords = client.CodeWords
