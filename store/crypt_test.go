package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	bolt "go.etcd.io/bbolt"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// The subject's email and a name and phone number in a page: what a raw
// scan of a sealed file must not find.
const (
	secretEmail   = "jane.subject@example.org"
	secretName    = "Jane Q. Subjectname"
	secretPhone   = "+33 6 12 34 56 78"
	secretRefresh = "refresh-token-of-acme-0123456789"
)

// fillSecrets creates request r1 of secretEmail with a page that names the
// subject, and a grant.
func fillSecrets(t *testing.T, db *DB) {
	t.Helper()
	ctx := t.Context()
	if _, _, err := db.CreateRequest(ctx, newRequest("r1", "", secretEmail), dsar.NewSections("r1")); err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"id":"zu1","first_name":"` + secretName + `","phone_number":"` + secretPhone + `"}`)
	if err := db.CommitPage(ctx, "r1", dsar.SectionProfile, dsar.PartUser, dsar.Page{Body: body, IDs: []string{"zu1"}}, dsar.Cursor{}, true); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveGrant(ctx, "acme", dsar.Grant{AccessToken: "at", RefreshToken: secretRefresh, Expiry: t0}); err != nil {
		t.Fatal(err)
	}
}

// readSecrets reads back what fillSecrets stored.
func readSecrets(t *testing.T, db *DB) {
	t.Helper()
	ctx := t.Context()
	r, err := db.Request(ctx, "r1")
	if err != nil || r.Email != secretEmail {
		t.Fatalf("Request: %v (email read back: %t)", err, err == nil && r.Email == secretEmail)
	}
	var bodies [][]byte
	err = db.Pages(ctx, "r1", dsar.SectionProfile, dsar.PartUser, func(p dsar.Page) error {
		bodies = append(bodies, p.Body)
		return nil
	})
	if err != nil || len(bodies) != 1 || !bytes.Contains(bodies[0], []byte(secretName)) {
		t.Fatalf("Pages: %v, %d pages (the subject's name read back: %t)", err, len(bodies), len(bodies) == 1 && bytes.Contains(bodies[0], []byte(secretName)))
	}
	if g, err := db.LoadGrant(ctx, "acme"); err != nil || g.RefreshToken != secretRefresh {
		t.Fatalf("LoadGrant: %v (token read back: %t)", err, err == nil && g.RefreshToken == secretRefresh)
	}
}

// TestSealedAtRest scans the raw bytes of a sealed store, and of a plain
// one built the same way, for the subject's email, name and phone and a
// refresh token; the sealed one reopens only with its master key.
func TestSealedAtRest(t *testing.T) {
	secrets := []string{secretEmail, secretName, secretPhone, secretRefresh}
	db, _, path := openTest(t)
	fillSecrets(t, db)
	readSecrets(t, db)
	if found := rawFind(t, path, secrets...); len(found) > 0 {
		t.Errorf("the sealed store holds %q in its raw bytes", found)
	}

	// The same store without a master key holds them all: the scan can fail.
	plainPath := t.TempDir() + "/plain.db"
	plain, err := Open(plainPath, Options{Clock: &testClock{t: t0}})
	if err != nil {
		t.Fatal(err)
	}
	fillSecrets(t, plain)
	readSecrets(t, plain)
	if err := plain.Close(); err != nil {
		t.Fatal(err)
	}
	if found := rawFind(t, plainPath, secrets...); len(found) != len(secrets) {
		t.Errorf("the plain store holds only %q of the secrets: the scan proves nothing", found)
	}

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		key  []byte
		want string
	}{
		{"no key", nil, "sealed under a master key and none was given"},
		{"wrong key", bytes.Repeat([]byte{7}, KeySize), "not the one this store was sealed with"},
		{"short key", []byte("short"), "bad master key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := Open(path, Options{MasterKey: tc.key})
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open: %v, want %q", err, tc.want)
			}
		})
	}
	again, err := Open(path, Options{MasterKey: testMasterKey})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	readSecrets(t, again)
}

// TestSealedMoved copies sealed values to other places in the file: each
// one is bound to its own by the additional data, so none opens there.
func TestSealedMoved(t *testing.T) {
	db, _, _ := openTest(t)
	ctx := t.Context()
	fillSecrets(t, db)
	if _, _, err := db.CreateRequest(ctx, newRequest("r2", "", "other@example.org"), dsar.NewSections("r2")); err != nil {
		t.Fatal(err)
	}
	if err := db.CommitPage(ctx, "r2", dsar.SectionProfile, dsar.PartUser, dsar.Page{Body: []byte(`{}`)}, dsar.Cursor{}, true); err != nil {
		t.Fatal(err)
	}
	move := func(bucket []byte, from, to []byte) {
		t.Helper()
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucket)
			return b.Put(to, bytes.Clone(b.Get(from)))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// r1's first page as r2's, and as r1's second.
	move(bucketPages, pageKey("r1", dsar.SectionProfile, dsar.PartUser, 0), pageKey("r2", dsar.SectionProfile, dsar.PartUser, 0))
	move(bucketPages, pageKey("r1", dsar.SectionProfile, dsar.PartUser, 0), pageKey("r1", dsar.SectionProfile, dsar.PartUser, 1))
	// r1's record, with its sealed email, as r2's; acme's grant as other's.
	move(bucketRequests, []byte("r1"), []byte("r2"))
	move(bucketGrants, []byte("acme"), []byte("other"))

	err := db.Pages(ctx, "r1", dsar.SectionProfile, dsar.PartUser, func(p dsar.Page) error {
		if p.Seq != 0 {
			t.Errorf("page %d moved from seq 0 opened", p.Seq)
		}
		return nil
	})
	if err == nil {
		t.Error("r1's page moved to seq 1 opened")
	}
	if err := db.Pages(ctx, "r2", dsar.SectionProfile, dsar.PartUser, func(dsar.Page) error { return nil }); err == nil {
		t.Error("r1's page moved to r2 opened")
	}
	if _, err := db.Request(ctx, "r2"); err == nil {
		t.Error("r1's record moved to r2 opened")
	}
	if _, err := db.LoadGrant(ctx, "other"); err == nil {
		t.Error("acme's grant moved to other opened")
	}
	// What was not moved still opens.
	if g, err := db.LoadGrant(ctx, "acme"); err != nil || g.RefreshToken != secretRefresh {
		t.Errorf("acme's own grant: %v", err)
	}
}

// TestDataKey checks DataKey before and after the key is destroyed: a
// purged request still reads, without its email, and its pages and key
// are gone with a clear error.
func TestDataKey(t *testing.T) {
	db, _, _ := openTest(t)
	ctx := t.Context()
	fillSecrets(t, db)
	if _, _, err := db.CreateRequest(ctx, newRequest("r2", "", "other@example.org"), nil); err != nil {
		t.Fatal(err)
	}
	k1, err := db.DataKey(ctx, "r1")
	if err != nil || len(k1) != KeySize {
		t.Fatalf("DataKey: %d bytes, %v", len(k1), err)
	}
	again, _ := db.DataKey(ctx, "r1")
	k2, _ := db.DataKey(ctx, "r2")
	if !bytes.Equal(k1, again) || bytes.Equal(k1, k2) || bytes.Equal(k1, make([]byte, KeySize)) {
		t.Error("DataKey is not stable per request, or not its own")
	}
	if _, err := db.DataKey(ctx, "nope"); dsar.ErrorCode(err) != dsar.ENOTFOUND || errors.Is(err, ErrPurged) {
		t.Errorf("DataKey of no request: %v, want not found, not purged", err)
	}

	if err := db.bolt.Update(func(tx *bolt.Tx) error { return db.destroyDataKey(tx, "r1") }); err != nil {
		t.Fatal(err)
	}
	_, err = db.DataKey(ctx, "r1")
	if dsar.ErrorCode(err) != dsar.ENOTFOUND || !errors.Is(err, ErrPurged) || !strings.Contains(err.Error(), "purged") {
		t.Errorf("DataKey after destroy: %v, want not found, purged", err)
	}
	if strings.Contains(err.Error(), secretEmail) {
		t.Error("the error names the subject")
	}
	err = db.Pages(ctx, "r1", dsar.SectionProfile, dsar.PartUser, func(dsar.Page) error { return nil })
	if !errors.Is(err, ErrPurged) {
		t.Errorf("Pages after destroy: %v, want purged", err)
	}
	err = db.CommitPage(ctx, "r1", dsar.SectionMeetings, dsar.PartPrevious, dsar.Page{Body: []byte(`[]`)}, dsar.Cursor{}, true)
	if !errors.Is(err, ErrPurged) {
		t.Errorf("CommitPage after destroy: %v, want purged", err)
	}
	r, err := db.Request(ctx, "r1")
	if err != nil || r.Email != "" || r.Account != "acme" {
		t.Errorf("Request after destroy: %+v, %v; want it without its email", r, err)
	}
	// The request can still be updated (the purge's own record).
	if _, err := db.UpdateRequest(ctx, "r1", func(r *dsar.Request) error { r.Reason = "purged"; return nil }); err != nil {
		t.Errorf("UpdateRequest after destroy: %v", err)
	}
	if k, err := db.DataKey(ctx, "r2"); err != nil || !bytes.Equal(k, k2) {
		t.Errorf("DataKey of another request after destroy: %v", err)
	}

	plain, err := Open(t.TempDir()+"/plain.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if _, err := plain.DataKey(ctx, "r1"); dsar.ErrorCode(err) != dsar.EPRECONDITION {
		t.Errorf("DataKey without a master key: %v, want failed precondition", err)
	}
}

func TestDeriveKey(t *testing.T) {
	a, err := DeriveKey(testMasterKey, "one")
	if err != nil || len(a) != KeySize {
		t.Fatalf("DeriveKey: %d bytes, %v", len(a), err)
	}
	b, _ := DeriveKey(testMasterKey, "two")
	other, _ := DeriveKey(bytes.Repeat([]byte{1}, KeySize), "one")
	again, _ := DeriveKey(testMasterKey, "one")
	if bytes.Equal(a, b) || bytes.Equal(a, other) || !bytes.Equal(a, again) || bytes.Equal(a, testMasterKey) {
		t.Error("derived keys are not distinct per purpose and master, or not stable")
	}
	if _, err := DeriveKey([]byte("short"), "one"); err == nil {
		t.Error("DeriveKey of a short master key succeeded")
	}
}

// TestSealPlainStore opens a plain store with a master key: what it holds
// is sealed then, reads the same, and the plain values are gone from the
// file (compacted).
func TestSealPlainStore(t *testing.T) {
	path := t.TempDir() + "/dsar.db"
	plain, err := Open(path, Options{Clock: &testClock{t: t0}})
	if err != nil {
		t.Fatal(err)
	}
	fillSecrets(t, plain)
	db := reopenSealed(t, plain)
	readSecrets(t, db)
	if found := rawFind(t, path, secretEmail, secretName, secretRefresh); len(found) > 0 {
		t.Errorf("the store sealed at Open still holds %q", found)
	}
	if _, err := db.DataKey(t.Context(), "r1"); err != nil {
		t.Errorf("DataKey of a request sealed at Open: %v", err)
	}
	// Hashed under the empty key while plain, under the master's now: the
	// request is found by its address.
	if rs, _, err := db.ListRequests(t.Context(), dsar.RequestFilter{Email: secretEmail}); err != nil || len(rs) != 1 {
		t.Errorf("list by email after sealing: %d requests, %v; want 1", len(rs), err)
	}
}

// TestDamagedSealedValues feeds damaged sealed values to the decoders: an
// error, never a panic nor a wrong value.
func TestDamagedSealedValues(t *testing.T) {
	db, _, _ := openTest(t)
	ctx := t.Context()
	fillSecrets(t, db)
	k := pageKey("r1", dsar.SectionProfile, dsar.PartUser, 0)
	var orig []byte
	_ = db.bolt.View(func(tx *bolt.Tx) error { orig = bytes.Clone(tx.Bucket(bucketPages).Get(k)); return nil })
	for _, cut := range []int{2, 10, len(orig) - 1} {
		for _, flip := range []bool{false, true} {
			v := bytes.Clone(orig)
			if flip {
				v[cut] ^= 1
			} else {
				v = v[:cut]
			}
			_ = db.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketPages).Put(k, v) })
			err := db.Pages(ctx, "r1", dsar.SectionProfile, dsar.PartUser, func(dsar.Page) error { return nil })
			if err == nil {
				t.Errorf("a page cut at %d (flipped: %t) opened", cut, flip)
			}
		}
	}
}

// TestSealCutShort stops the sealing of a plain store part way, as a crash
// would: the file is as it was, and a later Open seals it whole.
func TestSealCutShort(t *testing.T) {
	path := copyFile(t, fixturePath(4))
	before := rawFile(t, path)
	errStop := errors.New("stopped")
	for _, after := range []int{1, 5, 9} {
		n := 0
		testHookMigrate = func() error {
			if n++; n == after {
				return errStop
			}
			return nil
		}
		db, err := Open(path, Options{MasterKey: testMasterKey})
		testHookMigrate = nil
		if err == nil {
			db.Close()
			t.Fatalf("Open succeeded though sealing stopped after %d records", after)
		}
		if !errors.Is(err, errStop) {
			t.Errorf("Open: %v, want the sealing's error", err)
		}
		if !maps.EqualFunc(rawFile(t, path), before, maps.Equal) {
			t.Fatalf("sealing stopped after %d records changed the file", after)
		}
	}
	db, err := Open(path, Options{MasterKey: testMasterKey})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.DataKey(t.Context(), "r-done"); err != nil {
		t.Errorf("DataKey after sealing: %v", err)
	}
	if found := rawFind(t, path, "@example.com"); len(found) > 0 {
		t.Errorf("the sealed file holds %q", found)
	}
}

// TestSealedEmailOpenedOnlyWhenRead damages the sealed email of one of
// three requests: ListRequests opens the email of the requests it returns
// only, so a filter that leaves that request out neither fails on it nor
// reports it, and one that selects it skips it, unless it skips the
// emails; DataKey and Sections,
// which need no email, read the request as before.
func TestSealedEmailOpenedOnlyWhenRead(t *testing.T) {
	ctx := t.Context()
	var skipped []string
	db, err := Open(filepath.Join(t.TempDir(), "dsar.db"), Options{MasterKey: testMasterKey,
		OnSkip: func(id string, _ error) { skipped = append(skipped, id) }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, id := range []string{"r1", "r2", "r3"} {
		r := newRequest(id, "", id+"@example.com")
		if id == "r2" {
			r.Account = "other"
		}
		if _, _, err := db.CreateRequest(ctx, r, dsar.NewSections(id)); err != nil {
			t.Fatal(err)
		}
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketRequests)
		var rec requestRecord
		if err := json.Unmarshal(rb.Get([]byte("r2")), &rec); err != nil {
			return err
		}
		rec.SealedEmail[len(rec.SealedEmail)-1] ^= 1
		return putRecord(rb, []byte("r2"), rec)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		f     dsar.RequestFilter
		want  string
		skips string
	}{
		{dsar.RequestFilter{Account: "acme"}, "r3,r1", ""},
		{dsar.RequestFilter{Account: "acme", States: []dsar.State{dsar.StateQueued}}, "r3,r1", ""},
		{dsar.RequestFilter{}, "r3,r1", "r2"},
		// Without the emails, nothing is damaged.
		{dsar.RequestFilter{SkipEmail: true}, "r3,r2,r1", ""},
	} {
		skipped = nil
		got, _, err := db.ListRequests(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range got {
			if want := r.ID + "@example.com"; tt.f.SkipEmail && r.Email != "" || !tt.f.SkipEmail && r.Email != want {
				t.Errorf("request %s listed with the wrong email (SkipEmail %v)", r.ID, tt.f.SkipEmail)
			}
			ids = append(ids, r.ID)
		}
		if strings.Join(ids, ",") != tt.want || strings.Join(skipped, ",") != tt.skips {
			t.Errorf("ListRequests(%+v) = %v, skipped %v; want %s, skipped %q", tt.f, ids, skipped, tt.want, tt.skips)
		}
	}
	if _, err := db.Request(ctx, "r2"); !errors.Is(err, ErrDamaged) {
		t.Errorf("Request(r2) = %v, want damage", err)
	}
	if k, err := db.DataKey(ctx, "r2"); err != nil || len(k) != KeySize {
		t.Errorf("DataKey(r2) = %d bytes, %v; want the key", len(k), err)
	}
	if secs, err := db.Sections(ctx, "r2"); err != nil || len(secs) != len(dsar.NewSections("r2")) {
		t.Errorf("Sections(r2) = %d sections, %v", len(secs), err)
	}
}

// TestSealKeepsCompressed seals a plain store holding a page of format 2
// compressed by another encoder than the store's, and one of format 1:
// the first is sealed with its compressed bytes as they were (not
// decompressed and compressed again), the second is encoded again as
// format 2 needs; both read back as they were stored.
func TestSealKeepsCompressed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dsar.db")
	plain, err := Open(path, Options{Clock: &testClock{t: t0}})
	if err != nil {
		t.Fatal(err)
	}
	createTest(t, plain)
	ctx := t.Context()
	body, ids := zoomPage(rand.New(rand.NewPCG(1, 2)), 8<<10)
	want := []dsar.Page{
		{Body: body, IDs: ids, Window: 2},
		{Body: []byte(`[{"id":"m1"},{"id":"m2"}]`), IDs: []string{"m1", "m2"}, Drop: []string{"m2"}, Window: 3},
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	z := enc.EncodeAll(mustPayload(t, want[0]), nil)
	if bytes.Equal(z, plain.enc.EncodeAll(mustPayload(t, want[0]), nil)) {
		t.Fatal("both encoders give the same bytes: the test proves nothing")
	}
	// Format 1: format 2's payload without the item list, whose count of
	// none is the byte before the body.
	p1 := mustPayload(t, want[1])
	p1 = slices.Delete(p1, len(p1)-len(want[1].Body)-1, len(p1)-len(want[1].Body))
	keys := [][]byte{pageKey("r1", dsar.SectionMeetings, dsar.PartPrevious, 0), pageKey("r1", dsar.SectionMeetings, dsar.PartPrevious, 1)}
	err = plain.bolt.Update(func(tx *bolt.Tx) error {
		pb := tx.Bucket(bucketPages)
		if err := pb.Put(keys[0], pageValue(want[0].Window, z)); err != nil {
			return err
		}
		return pb.Put(keys[1], append(pageHeaderBytes(1, want[1].Window, 0), plain.enc.EncodeAll(p1, nil)...))
	})
	if err != nil {
		t.Fatal(err)
	}
	db := reopenSealed(t, plain)
	err = db.bolt.View(func(tx *bolt.Tx) error {
		aead, err := db.requestKey(tx, "r1")
		if err != nil {
			return err
		}
		for i, k := range keys {
			v := bytes.Clone(tx.Bucket(bucketPages).Get(k))
			f, w, sealed, err := pageHeader(v)
			if err != nil || f != pageFormatSealed || w != want[i].Window {
				t.Errorf("page %d: format %d, window %d, %v; want sealed, window %d", i, f, w, err, want[i].Window)
				continue
			}
			got, err := openTo(aead, sealed, pageAD(k, v[:len(v)-len(sealed)]), false)
			if err != nil {
				return err
			}
			if i == 0 && !bytes.Equal(got, z) {
				t.Error("the format 2 page was compressed again before it was sealed")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []dsar.Page
	err = db.Pages(ctx, "r1", dsar.SectionMeetings, dsar.PartPrevious, func(p dsar.Page) error {
		p.Section, p.Part, p.Seq = "", "", 0
		got = append(got, p)
		return nil
	})
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("pages read back: %+v, %v; want %+v", got, err, want)
	}
}

func mustPayload(t *testing.T, p dsar.Page) []byte {
	t.Helper()
	b, err := encodePayload(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// reopenSealed closes the plain store db and opens its file again with the
// master key, which seals it.
func reopenSealed(t *testing.T, db *DB) *DB {
	t.Helper()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	sealed, err := Open(db.Path(), Options{MasterKey: testMasterKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sealed.Close() })
	return sealed
}
