package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
)

// newVerify checks a bundle offline: every entry's hash and the manifest's
// signature by the given public key.
func newVerify(e *env) *cobra.Command {
	var keyFile string
	cmd := command("verify -public-key FILE BUNDLE", "verify a bundle offline", 1, 1, nil)
	cmd.Flags().StringVar(&keyFile, "public-key", "", "the signing public key `file` (PEM; from `dsarctl key`)")
	e.withEnv(cmd.Flags().Lookup("public-key"))
	cmd.ValidArgsFunction = cobra.FixedCompletions([]string{"zip"}, cobra.ShellCompDirectiveFilterFileExt)
	cmd.RunE = func(_ *cobra.Command, args []string) error {
		if keyFile == "" {
			return usagef("verify: -public-key is required; fetch it with `dsarctl key -o signing.pub`")
		}
		m, err := verify(args[0], keyFile)
		var ve *bundle.VerifyError
		if errors.As(err, &ve) {
			for _, p := range ve.Problems {
				fmt.Fprintln(e.stdout, "FAIL", p.String())
			}
			return fmt.Errorf("%s is not intact: %s", args[0], count(len(ve.Problems), "problem", "problems"))
		}
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(e.stdout, "OK %s: request %s, %s, signed by %s\n", args[0], m.RequestID, count(len(m.Entries), "entry", "entries"), m.PublicKey)
		return err
	}
	return cmd
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
