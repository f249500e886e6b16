package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zoomdsar/zoom-dsar/cmd/internal/flagenv"
	"github.com/zoomdsar/zoom-dsar/dsar/rpc/client"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// env is what every command gets: the context, the environment and the
// standard streams.
type env struct {
	ctx    context.Context
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	conn   connFlags // set by flags before the command name
}

// command is one subcommand.
type command struct {
	summary string
	run     func(e *env, args []string) error
}

var commands map[string]command

func init() {
	commands = map[string]command{
		"create":   {"create an access request; prints its id", runCreate},
		"get":      {"show one access request", runGet},
		"list":     {"list access requests", runList},
		"watch":    {"follow an access request until it is final", runWatch},
		"resume":   {"resume a request, or all in a state", runResume},
		"retry":    {"fetch one section of a request again", runRetry},
		"cancel":   {"cancel a request", runCancel},
		"delete":   {"delete a request's bundle and collected data now", runDelete},
		"extend":   {"extend a request's deadline once", runExtend},
		"download": {"download a bundle (resumable) and check its SHA-256", runDownload},
		"rebuild":  {"rebuild a damaged bundle from the stored pages, byte for byte", runRebuild},
		"verify":   {"verify a bundle offline", runVerify},
		"audit":    {"list the audit log", runAudit},
		"key":      {"fetch the public key that signs bundles", runKey},
		"accounts": {"show the Zoom accounts; check one, reset its quota parks", runAccounts},
	}
}

// usageError is a mistake on the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// run is dsarctl; main only wires it to the process.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{ctx: ctx, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("dsarctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	e.conn.register(fs, getenv)
	fs.Usage = func() { usage(stderr, fs) }
	if err := dsarEnv(getenv).Parse(fs, args); err != nil {
		return flagError(err)
	}
	if fs.NArg() == 0 {
		usage(stderr, fs)
		return usagef("no command given")
	}
	name, rest := fs.Arg(0), fs.Args()[1:]
	if name == "help" {
		usage(stdout, fs)
		return nil
	}
	cmd, ok := commands[name]
	if !ok && name == "demo" {
		return usagef("the demo runs the server, so it is dsard's: run `go run ./cmd/dsard demo`")
	}
	if !ok {
		return usagef("unknown command %q; run `dsarctl help`", name)
	}
	return cmd.run(e, rest)
}

func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, "usage: dsarctl [connection flags] <command> [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nconnection flags (also accepted after the command):")
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// newFlags returns the flag set of a command, with the connection flags
// when it talks to dsard.
func (e *env) newFlags(name, args string, conn bool) *flag.FlagSet {
	fs := flag.NewFlagSet("dsarctl "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	if conn {
		// The connection flags' variables were read before the command
		// name; here they are only named, for -h, and before the
		// command's own flags are declared.
		e.conn.register(fs, nil)
		dsarEnv(nil).Describe(fs)
	}
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: dsarctl %s [flags] %s\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// dsarEnv is the rule of dsarctl's environment fallbacks: every
// connection flag, and the command flags a command names, fall back to
// DSAR_<NAME> (-server to DSAR_SERVER).
func dsarEnv(getenv func(string) string, flags ...string) flagenv.Env {
	return flagenv.Env{Prefix: "DSAR_", Getenv: getenv, Flags: flags}
}

// parseEnv is parse, with fallbacks to DSAR_* variables for the named
// command flags.
func (e *env) parseEnv(fs *flag.FlagSet, args []string, minArgs, maxArgs int, flags ...string) ([]string, error) {
	fe := dsarEnv(e.getenv, flags...)
	fe.Describe(fs)
	pos, err := parse(fs, args, minArgs, maxArgs)
	if err != nil {
		return nil, err
	}
	if err := fe.Fallback(fs); err != nil {
		return nil, flagError(err)
	}
	return pos, nil
}

// connect parses a command's arguments and dials dsard: what most commands
// do first. done closes the connection.
func (e *env) connect(fs *flag.FlagSet, args []string, minArgs, maxArgs int) ([]string, dsarv1.AccessRequestServiceClient, func(), error) {
	pos, err := parse(fs, args, minArgs, maxArgs)
	if err != nil {
		return nil, nil, nil, err
	}
	cc, c, err := e.conn.dial()
	if err != nil {
		return nil, nil, nil, err
	}
	return pos, c, func() { cc.Close() }, nil
}

// parse parses flags and positional arguments in any order and checks the
// number of the latter.
func parse(fs *flag.FlagSet, args []string, minArgs, maxArgs int) ([]string, error) {
	var pos []string
	for {
		if err := flagenv.Quiet(fs, args); err != nil {
			return nil, flagError(err)
		}
		if fs.NArg() == 0 {
			break
		}
		// "--" ends the flags: everything after it is positional.
		if len(args) > 0 && len(fs.Args()) < len(args) && args[len(args)-len(fs.Args())-1] == "--" {
			pos = append(pos, fs.Args()...)
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	switch {
	case len(pos) < minArgs:
		fs.Usage()
		return nil, usagef("%s: missing arguments", fs.Name())
	case maxArgs >= 0 && len(pos) > maxArgs:
		fs.Usage()
		return nil, usagef("%s: too many arguments", fs.Name())
	}
	return pos, nil
}

// flagError makes a flag's parse error a usage error; -h stays ErrHelp.
func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return &usageError{err.Error()}
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
	case errors.Is(err, flag.ErrHelp):
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
