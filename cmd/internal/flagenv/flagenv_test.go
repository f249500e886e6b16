package flagenv

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"
)

type values struct {
	name  string
	on    bool
	wait  time.Duration
	count int
}

// newSet declares one flag of each kind.
func newSet(v *values, out *bytes.Buffer) *flag.FlagSet {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&v.name, "name", "def", "a `name`")
	fs.BoolVar(&v.on, "on", false, "a switch")
	fs.DurationVar(&v.wait, "wait-for", time.Second, "a duration")
	fs.IntVar(&v.count, "count", 1, "a number")
	return fs
}

func TestParse(t *testing.T) {
	defaults := values{"def", false, time.Second, 1}
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		want    values
		wantErr []string // in the error
	}{
		{"defaults", nil, nil, defaults, nil},
		{"env beats default", nil, map[string]string{"T_NAME": "e", "T_ON": "true", "T_WAIT_FOR": "3s", "T_COUNT": "7"},
			values{"e", true, 3 * time.Second, 7}, nil},
		{"flag beats env", []string{"-name", "f", "-on=false", "-wait-for", "2m", "-count", "9"},
			map[string]string{"T_NAME": "e", "T_ON": "true", "T_WAIT_FOR": "3s", "T_COUNT": "7"},
			values{"f", false, 2 * time.Minute, 9}, nil},
		{"empty env is unset", nil, map[string]string{"T_NAME": "", "T_COUNT": ""}, defaults, nil},
		{"bad bool", nil, map[string]string{"T_ON": "yes please"}, defaults, []string{"T_ON", "-on"}},
		{"bad duration", nil, map[string]string{"T_WAIT_FOR": "10"}, defaults, []string{"T_WAIT_FOR", "-wait-for"}},
		{"bad int", nil, map[string]string{"T_COUNT": "many"}, defaults, []string{"T_COUNT", "-count"}},
		{"every bad variable named", nil, map[string]string{"T_COUNT": "many", "T_ON": "maybe"}, defaults, []string{"T_COUNT", "T_ON"}},
		{"bad env under a flag is not read", []string{"-count", "2"}, map[string]string{"T_COUNT": "many"},
			values{"def", false, time.Second, 2}, nil},
		{"bad flag", []string{"-count", "x"}, nil, defaults, []string{"-count"}},
		{"unknown flag", []string{"-token", "x"}, nil, defaults, []string{"not defined: -token"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v values
			var out bytes.Buffer
			fs := newSet(&v, &out)
			env := Env{Prefix: "T_", Getenv: func(k string) string { return tc.env[k] }}
			err := env.Parse(fs, tc.args)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if v != tc.want {
					t.Errorf("values %+v, want %+v", v, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse: no error, want one naming %q", tc.wantErr)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			// The caller prints the error once; Parse prints nothing.
			if out.Len() != 0 {
				t.Errorf("Parse printed %q on an error", out.String())
			}
		})
	}
}

// TestHelp: -h lists each flag's variable next to it, shows the default
// rather than the variable's value, and returns flag.ErrHelp.
func TestHelp(t *testing.T) {
	var v values
	var out bytes.Buffer
	fs := newSet(&v, &out)
	env := Env{Prefix: "T_", Getenv: func(string) string { return "s3cr3t" }}
	env.Describe(fs) // twice: once by the caller, once by Parse
	if err := env.Parse(fs, []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("Parse -h: %v, want flag.ErrHelp", err)
	}
	help := out.String()
	for _, w := range []string{"-name name\n    \ta name (env T_NAME) (default \"def\")", "a switch (env T_ON)\n",
		"a duration (env T_WAIT_FOR) (default 1s)", "a number (env T_COUNT) (default 1)"} {
		if !strings.Contains(help, w) {
			t.Errorf("help lacks %q:\n%s", w, help)
		}
	}
	if strings.Count(help, "(env T_NAME)") != 1 {
		t.Errorf("help names T_NAME more than once:\n%s", help)
	}
	if strings.Contains(help, "s3cr3t") {
		t.Errorf("help shows a variable's value:\n%s", help)
	}
}

func TestVar(t *testing.T) {
	for flag, want := range map[string]string{"data-dir": "DSAR_DATA_DIR", "listen": "DSAR_LISTEN", "o": "DSAR_O"} {
		if got := (Env{Prefix: "DSAR_"}).Var(flag); got != want {
			t.Errorf("Var(%q) = %q, want %q", flag, got, want)
		}
	}
}
