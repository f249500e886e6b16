package bundle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadControllerInfo(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "art15.json")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ci, err := LoadControllerInfo(write(`{"controller": "Example Ltd, privacy@example.test", "purposes": "Meetings.", "complaint": "The authority where you live."}`))
	if err != nil {
		t.Fatal(err)
	}
	if ci.Controller != "Example Ltd, privacy@example.test" || ci.Purposes != "Meetings." || ci.Complaint != "The authority where you live." || ci.Retention != "" {
		t.Errorf("loaded %+v", ci)
	}
	for _, tc := range []struct{ name, body, want string }{
		{"misspelt point", `{"controller": "x", "purpose": "Meetings."}`, `unknown field "purpose"`},
		{"no controller", `{"purposes": "Meetings."}`, "controller (name and contact) is required"},
		{"not an object", `["x"]`, "want a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := LoadControllerInfo(write(tc.body)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := LoadControllerInfo(filepath.Join(dir, "none.json")); err == nil {
		t.Error("a missing file loads")
	}
}
