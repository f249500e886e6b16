// Package flagenv gives command-line flags environment fallbacks by one
// rule, for dsard, dsarctl and zoomfake: flag -data-dir with prefix DSAR_
// falls back to DSAR_DATA_DIR. A flag given on the command line beats its
// variable, and the variable beats the flag's default. A variable's value
// is checked like the flag's own, and an error names the variable, so a
// mistyped value is never silently ignored. Secrets are never flags (they
// come from files or variables the programs read themselves), so nothing
// here prints one: -h shows each flag's default and its variable's name,
// never the variable's value.
package flagenv

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Env is the environment fallback of a flag set's flags.
type Env struct {
	Prefix string              // of every variable, e.g. "DSAR_"
	Getenv func(string) string // os.Getenv, or a map in tests; nil reads nothing
}

// Var is the variable of a flag: with prefix DSAR_, -data-dir is
// DSAR_DATA_DIR.
func (e Env) Var(flag string) string {
	return e.Prefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// Describe notes each flag's variable in its usage, so that -h lists it
// next to the flag. Describing a flag again changes nothing.
func (e Env) Describe(fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) { f.Usage = e.Note(f.Name, f.Usage) })
}

// Note returns a flag's usage with its variable noted once, for Describe
// and for flag packages other than flag (dsarctl's pflag).
func (e Env) Note(flag, usage string) string {
	note := " (env " + e.Var(flag) + ")"
	if strings.HasSuffix(usage, note) {
		return usage
	}
	return usage + note
}

// Fallback sets each flag that the command line did not set from its
// variable, when that is not empty. Call it after parsing.
func (e Env) Fallback(fs *flag.FlagSet) error {
	if e.Getenv == nil {
		return nil
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if !set[f.Name] {
			errs = append(errs, e.Apply(f.Name, func(v string) error { return fs.Set(f.Name, v) }))
		}
	})
	return errors.Join(errs...)
}

// Apply sets a flag the command line did not set from its variable, when
// that is not empty, through set; the error names the variable. Fallback
// uses it, and so can flag packages other than flag (dsarctl's pflag).
func (e Env) Apply(flag string, set func(string) error) error {
	if e.Getenv == nil {
		return nil
	}
	name := e.Var(flag)
	v := e.Getenv(name)
	if v == "" {
		return nil
	}
	if err := set(v); err != nil {
		return fmt.Errorf("%s=%q: invalid value for -%s: %w", name, v, flag, err)
	}
	return nil
}

// Parse describes the fallbacks, parses args into fs and falls back to
// the environment, like Describe, Quiet and Fallback.
func (e Env) Parse(fs *flag.FlagSet, args []string) error {
	e.Describe(fs)
	if err := Quiet(fs, args); err != nil {
		return err
	}
	return e.Fallback(fs)
}

// Quiet parses args into fs like fs.Parse, but prints nothing on an error:
// the caller reports it, once (the flag package would print it and the
// whole usage before the caller printed it again). -h still prints the
// usage, and returns flag.ErrHelp. fs must be flag.ContinueOnError.
func Quiet(fs *flag.FlagSet, args []string) error {
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usage
	if errors.Is(err, flag.ErrHelp) {
		if usage != nil {
			usage()
		} else {
			fmt.Fprintf(out, "Usage of %s:\n", fs.Name())
			fs.PrintDefaults()
		}
	}
	return err
}
