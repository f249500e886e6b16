package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
	"github.com/zoomdsar/zoom-dsar/store"
)

// storeName is the store's file in the data directory, masterKeyName its
// default master key's.
const (
	storeName     = "dsar.db"
	masterKeyName = "master.key"
)

// lostStore refuses a missing or empty store beside what only a store
// that existed leaves behind (bundles, the default signing key): started
// on it, dsard would serve as if no request had ever been made.
func lostStore(dataDir string) error {
	path := filepath.Join(dataDir, storeName)
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.Size() > 0:
		return nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("store: %w", err)
	}
	var found []string
	if zips, _ := filepath.Glob(filepath.Join(dataDir, "bundles", "*.zip")); len(zips) > 0 {
		found = append(found, plural(len(zips), "bundle"))
	}
	if _, err := os.Stat(filepath.Join(dataDir, "signing.key")); err == nil {
		found = append(found, "a signing key")
	}
	if len(found) == 0 {
		return nil
	}
	state := "missing"
	if err == nil {
		state = "empty"
	}
	return fmt.Errorf("%s is %s but the data directory holds %s: restore %s from a backup, or start with -init to begin a new store",
		path, state, strings.Join(found, " and "), storeName)
}

// StoreKey reads the master key of the store in dataDir for a program
// that only reads it (dsard check, dsarbench): the file given, or the
// default one if it exists; none (nil) for a store never sealed.
func StoreKey(dataDir, file string) ([]byte, error) {
	if file != "" {
		return store.LoadMasterKey(file)
	}
	key, err := store.LoadMasterKey(filepath.Join(dataDir, masterKeyName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return key, err
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// Check is `dsard check`: an offline check of a data directory. It checks
// the store's consistency, that every request record decodes, and that
// every COMPLETED request's bundle exists with its recorded size and
// SHA-256. It prints each problem and a summary to stdout and fails if it
// found any problem. dsard must not be running: it holds the store.
func Check(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("dsard check", flag.ContinueOnError)
	fset.SetOutput(stderr)
	var dir, keyFile string
	fset.StringVar(&dir, "data-dir", "", "`directory` to check")
	fset.StringVar(&keyFile, "master-key", "", "the store's master key `file`; default <data-dir>/master.key")
	if err := env(getenv).Parse(fset, args); err != nil {
		return err
	}
	if fset.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; dsard check takes only -data-dir and -master-key", fset.Arg(0))
	}
	if dir == "" {
		return errors.New("no data directory: set -data-dir or DSAR_DATA_DIR")
	}
	master, err := StoreKey(dir, keyFile)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	path := filepath.Join(dir, storeName)
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if fi.Size() == 0 {
		return fmt.Errorf("check: %s is empty", path)
	}

	var problems []string
	problem := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		problems = append(problems, msg)
		fmt.Fprintf(stdout, "problem: %s\n", msg)
	}
	db, err := store.Open(path, store.Options{ReadOnly: true, CheckTimeout: -1, MasterKey: master,
		OnSkip: func(id string, err error) { problem("request %s does not decode: %v", id, err) }})
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		problem("%v", err)
	}

	var all, completed int
	for tok := ""; ; {
		reqs, next, err := db.ListRequests(ctx, dsar.RequestFilter{Limit: 1000, PageToken: tok})
		if err != nil {
			problem("listing requests: %v", err)
			break
		}
		for _, r := range reqs {
			all++
			if r.State != dsar.StateCompleted {
				continue
			}
			completed++
			if err := checkBundle(ctx, r.ID, r.Bundle); err != nil {
				problem("request %s: %v", r.ID, err)
			}
		}
		if next == "" {
			break
		}
		tok = next
	}
	fmt.Fprintf(stdout, "checked %s: store consistency, %s, %s; %s\n", dir,
		plural(all, "request"), plural(completed, "completed bundle"), plural(len(problems), "problem"))
	if len(problems) > 0 {
		return fmt.Errorf("check: %s in %s", plural(len(problems), "problem"), dir)
	}
	return nil
}

// checkBundle checks that a completed request's bundle has the recorded
// size and SHA-256, as DownloadBundle does before serving it.
func checkBundle(ctx context.Context, id string, b dsar.Bundle) error {
	if b.Path == "" || b.SHA256 == "" {
		return errors.New("completed without a recorded bundle")
	}
	var files bundle.Files
	f, _, err := files.Open(id, b)
	if err != nil {
		return errors.New(dsar.ErrorMessage(err))
	}
	defer f.Close()
	if err := files.CheckSum(ctx, f, id, b); err != nil {
		return errors.New(dsar.ErrorMessage(err))
	}
	return nil
}
