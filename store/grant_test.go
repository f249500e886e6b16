package store

import (
	"errors"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

func TestGrant(t *testing.T) {
	db, _, path := openTest(t)
	ctx := t.Context()
	_, err := db.LoadGrant(ctx, "acme")
	if dsar.ErrorCode(err) != dsar.ENOTFOUND || !errors.Is(err, ErrNotFound) {
		t.Fatalf("LoadGrant of nothing stored: %v, want not found", err)
	}
	g1 := dsar.Grant{AccessToken: "at1", RefreshToken: "rt1", Expiry: t0.Add(time.Hour), Scopes: []string{"user:read:user:admin"}}
	g2 := dsar.Grant{AccessToken: "at2", RefreshToken: "rt2", Expiry: t0.Add(2 * time.Hour)}
	for _, g := range []dsar.Grant{g1, g2} {
		if err := db.SaveGrant(ctx, "acme", g); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SaveGrant(ctx, "other", g1); err != nil {
		t.Fatal(err)
	}
	// A new process sees the last grant saved, each account its own.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2, err := Open(path, Options{MasterKey: testMasterKey})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	for account, want := range map[string]dsar.Grant{"acme": g2, "other": g1} {
		got, err := db2.LoadGrant(ctx, account)
		if err != nil || !reflect.DeepEqual(got, want) || !got.Expiry.Equal(want.Expiry) {
			t.Errorf("%s: LoadGrant = %+v, %v; want %+v", account, got, err, want)
		}
	}
	for _, tt := range []struct {
		account string
		g       dsar.Grant
	}{{"", g1}, {"acme", dsar.Grant{AccessToken: "at"}}} {
		if err := db2.SaveGrant(ctx, tt.account, tt.g); dsar.ErrorCode(err) != dsar.EINVALID {
			t.Errorf("SaveGrant(%q, no refresh token %v): %v, want invalid", tt.account, tt.g.RefreshToken == "", err)
		}
	}
	if _, err := db2.LoadGrant(ctx, ""); dsar.ErrorCode(err) != dsar.EINVALID {
		t.Errorf("LoadGrant without a name: %v, want invalid", err)
	}
}

func TestGrantDamaged(t *testing.T) {
	db, _, _ := openTest(t)
	if err := db.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketGrants).Put([]byte("acme"), []byte("{")) }); err != nil {
		t.Fatal(err)
	}
	_, err := db.LoadGrant(t.Context(), "acme")
	if dsar.ErrorCode(err) != dsar.EINTERNAL || !errors.Is(err, ErrDamaged) {
		t.Errorf("LoadGrant of a damaged record: %v, want internal, damaged", err)
	}
}

// TestGrantOlderFile: a file of schema version 2 gets the grants bucket
// from its migration.
func TestGrantOlderFile(t *testing.T) {
	db, err := Open(copyFile(t, fixturePath(2)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	g := dsar.Grant{AccessToken: "at", RefreshToken: "rt", Expiry: t0}
	if err := db.SaveGrant(t.Context(), "acme", g); err != nil {
		t.Fatal(err)
	}
	if got, err := db.LoadGrant(t.Context(), "acme"); err != nil || got.RefreshToken != "rt" {
		t.Errorf("LoadGrant = %+v, %v", got, err)
	}
}

// BenchmarkSaveGrant measures the window a kill during a refresh can fall
// in (zoomclient's oauthApp): from Zoom's answer to a durable grant, one
// synced commit.
func BenchmarkSaveGrant(b *testing.B) {
	db, _, _ := openTest(b)
	g := dsar.Grant{AccessToken: "at", RefreshToken: "rt", Expiry: t0, Scopes: []string{"user:read:user:admin"}}
	for b.Loop() {
		if err := db.SaveGrant(b.Context(), "acme", g); err != nil {
			b.Fatal(err)
		}
	}
}
