package bundle

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"testing"
)

func TestLoadOrCreateKey(t *testing.T) {
	name := filepath.Join(t.TempDir(), "keys", "bundle.key")
	key, created, err := LoadOrCreateKey(name)
	if err != nil || !created {
		t.Fatalf("first LoadOrCreateKey = created %v, %v", created, err)
	}
	fi, err := os.Stat(name)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	again, created, err := LoadOrCreateKey(name)
	if err != nil || created || !again.Equal(key) {
		t.Fatalf("second LoadOrCreateKey = created %v, same %v, %v", created, again.Equal(key), err)
	}
	pub, err := LoadPublicKey(name + ".pub")
	if err != nil || !pub.Equal(key.Public()) {
		t.Fatalf("public key file = same %v, %v", pub.Equal(key.Public()), err)
	}
}

func TestKeyFiles(t *testing.T) {
	key := testKey(4)
	priv, err := MarshalPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := MarshalPublicKey(key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		data    []byte
		private bool
		ok      bool
	}{
		{"private", priv, true, true},
		{"public", pubPEM, false, true},
		{"public as private", pubPEM, true, false},
		{"private as public", priv, false, false},
		{"garbage", []byte("not a key"), true, false},
		{"garbage public", []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.private {
				var k ed25519.PrivateKey
				k, err = ParsePrivateKey(tt.data)
				if err == nil && !k.Equal(key) {
					t.Error("parsed another key")
				}
			} else {
				var k ed25519.PublicKey
				k, err = ParsePublicKey(tt.data)
				if err == nil && !k.Equal(key.Public()) {
					t.Error("parsed another key")
				}
			}
			if (err == nil) != tt.ok {
				t.Errorf("err = %v, want ok %v", err, tt.ok)
			}
		})
	}
	if _, err := LoadKey(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("LoadKey of a missing file succeeded")
	}
}

func TestFingerprint(t *testing.T) {
	a, b := Fingerprint(testKey(1).Public().(ed25519.PublicKey)), Fingerprint(testKey(2).Public().(ed25519.PublicKey))
	if !regexp.MustCompile(`^SHA256:[A-Za-z0-9+/]{43}$`).MatchString(a) || a == b {
		t.Errorf("fingerprints %q, %q", a, b)
	}
}

// TestBuildVersion: the report and the manifest name the build: its module
// version, else the commit it was built from.
func TestBuildVersion(t *testing.T) {
	tests := []struct {
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{nil, false, "devel"},
		{&debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, true, "v1.2.3"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true, "devel"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0056299aabbccddeeff00112233445566778899"}, {Key: "vcs.modified", Value: "true"},
		}}, true, "devel-0056299aabbc+dirty"},
		{&debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0056299aabbccddeeff00112233445566778899"}, {Key: "vcs.modified", Value: "false"}}}, true, "devel-0056299aabbc"},
	}
	for _, tt := range tests {
		if got := buildVersion(tt.bi, tt.ok); got != tt.want {
			t.Errorf("buildVersion(%+v) = %q, want %q", tt.bi, got, tt.want)
		}
	}
}
