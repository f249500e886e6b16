package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// scenario measures one claim and returns its rows.
type scenario struct {
	name string
	run  func(ctx context.Context, e *env) ([]row, error)
}

var scenarios = []scenario{
	{"budget", runBudget},
	{"quota", runQuota},
	{"faults", runFaults},
	{"crash", runCrash},
	{"download", runDownload},
	{"scale", runScale},
	{"backlog", runBacklog},
	{"estimate", runEstimate},
}

// env is what every scenario shares: the binaries, a scratch directory and
// the knobs of the command line.
type env struct {
	bin   string // directory holding dsard and zoomfake
	dir   string // scratch directory, removed at the end
	short bool
	kills int
	seed  int64
	logw  io.Writer // progress lines
	n     int       // counter for unique names under dir
}

// tempDir returns a new directory under the scratch directory.
func (e *env) tempDir(prefix string) (string, error) {
	e.n++
	d := filepath.Join(e.dir, fmt.Sprintf("%s-%d", prefix, e.n))
	return d, os.MkdirAll(d, 0o700)
}

// dataset is the emulator's dataset: reference, tiny with -short.
func (e *env) dataset() string {
	if e.short {
		return "tiny"
	}
	return "reference"
}

func (e *env) logf(format string, args ...any) {
	fmt.Fprintf(e.logw, "dsarbench: "+format+"\n", args...)
}

// run is dsarbench: it parses args, builds the binaries, runs the chosen
// scenarios and prints their table.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dsarbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	short := fs.Bool("short", false, "run a reduced set: small dataset, few kills, short scenarios")
	markdown := fs.Bool("markdown", false, "rewrite the results section of -doc with the table")
	doc := fs.String("doc", "docs/BENCHMARKS.md", "the `file` -markdown rewrites")
	kills := fs.Int("kills", 50, "SIGKILLs of dsard in the crash scenario (-short: 3)")
	seed := fs.Int64("seed", 1, "seed of the kill moments and the emulator's data and faults")
	bin := fs.String("bin", "", "`directory` with prebuilt dsard and zoomfake; default: build them")
	quiet := fs.Bool("q", false, "no progress lines on stderr")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: dsarbench [flags] [scenario...]\n\nscenarios: %s (default: all)\n\nflags:\n", strings.Join(names(), ", "))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	chosen := scenarios
	if fs.NArg() > 0 {
		chosen = nil
		for _, a := range fs.Args() {
			i := slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == a })
			if i < 0 {
				return fmt.Errorf("unknown scenario %q; want one of %s", a, strings.Join(names(), ", "))
			}
			chosen = append(chosen, scenarios[i])
		}
	}
	if *short && !flagSet(fs, "kills") {
		*kills = 3
	}
	if *kills < 1 {
		return errors.New("-kills must be at least 1")
	}

	dir, err := os.MkdirTemp("", "dsarbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	e := &env{dir: dir, short: *short, kills: *kills, seed: *seed, logw: stderr, bin: *bin}
	if *quiet {
		e.logw = io.Discard
	}
	if e.bin == "" {
		e.bin = filepath.Join(dir, "bin")
		e.logf("building dsard and zoomfake")
		if err := build(ctx, e.bin); err != nil {
			return err
		}
	}
	m, err := measureMachine(ctx, dir)
	if err != nil {
		return err
	}

	start := time.Now()
	var rows []row
	var failed []string
	for _, s := range chosen {
		e.logf("scenario %s", s.name)
		t := time.Now()
		r, err := s.run(ctx, e)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			failed = append(failed, s.name)
			r = append(r, row{scenario: s.name, figure: "error", value: err.Error(), verdict: verdictMissed})
		}
		e.logf("scenario %s done in %s", s.name, time.Since(t).Round(time.Second))
		rows = append(rows, r...)
	}
	res := results{machine: m, rows: rows, elapsed: time.Since(start), command: command(fs)}
	res.writeTable(stdout)
	if *markdown {
		var subset []string // a run of some scenarios writes a section of its own
		if len(chosen) < len(scenarios) {
			for _, s := range chosen {
				subset = append(subset, s.name)
			}
		}
		if err := rewriteDoc(*doc, res, subset); err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("scenarios failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

func names() []string {
	var n []string
	for _, s := range scenarios {
		n = append(n, s.name)
	}
	return n
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// command reconstructs the command line, for the document.
func command(fs *flag.FlagSet) string {
	parts := []string{"go run ./cmd/internal/dsarbench"}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "doc", "bin", "q":
			return
		}
		if f.Value.String() == "true" {
			parts = append(parts, "-"+f.Name)
		} else {
			parts = append(parts, "-"+f.Name+"="+f.Value.String())
		}
	})
	return strings.Join(append(parts, fs.Args()...), " ")
}

// build compiles dsard and zoomfake into dir.
func build(ctx context.Context, dir string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dir+string(os.PathSeparator), "./cmd/dsard", "./cmd/zoomfake")
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("build: %w\n%s", err, out)
	}
	return nil
}

// moduleRoot finds the directory of go.mod from the working directory up.
func moduleRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for range 20 {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		p := filepath.Dir(d)
		if p == d {
			break
		}
		d = p
	}
	return "", errors.New("run dsarbench inside the zoom-dsar module (no go.mod found)")
}
