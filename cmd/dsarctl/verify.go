package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
)

// runVerify checks a bundle offline: every entry's hash and the manifest's
// signature by the given public key.
func runVerify(e *env, args []string) error {
	fs := e.newFlags("verify", "BUNDLE", false)
	keyFile := fs.String("public-key", "", "the signing public key `file` (PEM; from `dsarctl key`)")
	pos, err := e.parseEnv(fs, args, 1, 1, "public-key")
	if err != nil {
		return err
	}
	if *keyFile == "" {
		return usagef("verify: -public-key is required; fetch it with `dsarctl key -o signing.pub`")
	}
	m, err := verify(pos[0], *keyFile)
	var ve *bundle.VerifyError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			fmt.Fprintln(e.stdout, "FAIL", p.String())
		}
		return fmt.Errorf("%s is not intact: %s", pos[0], count(len(ve.Problems), "problem", "problems"))
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "OK %s: request %s, %s, signed by %s\n", pos[0], m.RequestID, count(len(m.Entries), "entry", "entries"), m.PublicKey)
	return err
}

// count says n things: "1 problem", "2 problems".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func verify(path, keyFile string) (*bundle.Manifest, error) {
	pub, err := bundle.LoadPublicKey(keyFile)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	return bundle.Verify(f, fi.Size(), pub)
}
