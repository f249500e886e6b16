package daemon

import (
	"bytes"
	"strings"
	"testing"
)

// TestRetainBundlesZero: -retain-bundles 0, from the flag or from
// DSAR_RETAIN_BUNDLES, is refused with an error naming both and saying
// why; the help says so. It silently meant the 30-day default, and keeping
// bundles for ever is no default for personal data.
func TestRetainBundlesZero(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"flag", []string{"-data-dir", "d", "-retain-bundles", "0"}, nil},
		{"flag zero seconds", []string{"-data-dir", "d", "-retain-bundles=0s"}, nil},
		{"env", []string{"-data-dir", "d"}, map[string]string{"DSAR_RETAIN_BUNDLES": "0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFlags(tc.args, envMap(tc.env), &bytes.Buffer{})
			if err == nil {
				t.Fatal("no error; want -retain-bundles 0 refused")
			}
			for _, w := range []string{"-retain-bundles", "DSAR_RETAIN_BUNDLES", "above zero"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	c, err := ParseFlags([]string{"-data-dir", "d", "-retain-bundles", "1s"}, envMap(nil), &bytes.Buffer{})
	if err != nil || c.RetainBundles.Seconds() != 1 {
		t.Errorf("-retain-bundles 1s: %v, %v", c.RetainBundles, err)
	}
	var help bytes.Buffer
	c.flagSet(&help).PrintDefaults()
	if !strings.Contains(help.String(), "above zero") {
		t.Errorf("the help of -retain-bundles does not say it must be above zero:\n%s", help.String())
	}
}
