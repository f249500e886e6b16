package daemon

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/zoomdsar/zoom-dsar/dsar"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
	"github.com/zoomdsar/zoom-dsar/store"
)

// seedStore writes a store in dir with one QUEUED request ("q1") and one
// COMPLETED request ("c1") whose bundle is in dir/bundles.
func seedStore(t *testing.T, dir string) {
	t.Helper()
	ctx := t.Context()
	if err := os.MkdirAll(filepath.Join(dir, "bundles"), 0o700); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(dir, "bundles", "c1.zip")
	body := []byte("a bundle's bytes")
	if err := os.WriteFile(bundle, body, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	db, err := store.Open(filepath.Join(dir, storeName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, id := range []string{"q1", "c1"} {
		r := &dsar.Request{ID: id, Account: "main", Email: "subject@example.com", Regulation: dsar.GDPR, State: dsar.StateQueued}
		if _, _, err := db.CreateRequest(ctx, r, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []dsar.State{dsar.StateRunning, dsar.StateAssembling, dsar.StateCompleted} {
		_, err := db.UpdateRequest(ctx, "c1", func(r *dsar.Request) error {
			r.State = s
			if s == dsar.StateCompleted {
				r.Bundle = dsar.Bundle{Path: bundle, Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:])}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// breakRecord overwrites request id's record with bytes that do not decode.
func breakRecord(t *testing.T, dir, id string) {
	t.Helper()
	bdb, err := bolt.Open(filepath.Join(dir, storeName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	err = bdb.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("requests")).Put([]byte(id), []byte(`{"ID": "`+id+`", "State": `))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// damageFile zeroes the store's meta pages.
func damageFile(t *testing.T, dir string) {
	t.Helper()
	path := filepath.Join(dir, storeName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	clear(b[:8192])
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   []string // in stdout or the error; none: the check passes
	}{
		{"healthy", func(*testing.T, string) {}, nil},
		{"bundle changed", func(t *testing.T, dir string) {
			writeBundle(t, dir, []byte("a bundle's BYTES"))
		}, []string{"request c1", "SHA-256", "1 problem"}},
		{"bundle truncated", func(t *testing.T, dir string) {
			writeBundle(t, dir, []byte("a bundle"))
		}, []string{"request c1", "has 8 bytes, 16 were recorded"}},
		{"bundle missing", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "bundles", "c1.zip")); err != nil {
				t.Fatal(err)
			}
		}, []string{"request c1", "is missing"}},
		{"record does not decode", func(t *testing.T, dir string) { breakRecord(t, dir, "q1") },
			[]string{"request q1 does not decode"}},
		{"store damaged", damageFile, []string{"dsar.db is damaged: restore it from a backup"}},
		{"store empty", func(t *testing.T, dir string) {
			if err := os.Truncate(filepath.Join(dir, storeName), 0); err != nil {
				t.Fatal(err)
			}
		}, []string{"dsar.db is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			seedStore(t, dir)
			tt.damage(t, dir)
			var stdout, stderr bytes.Buffer
			err := Run(t.Context(), []string{"check", "-data-dir", dir}, envMap(nil), &stdout, &stderr)
			out := stdout.String()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("check of a healthy directory: %v\n%s", err, out)
				}
				if !strings.Contains(out, "2 requests, 1 completed bundle; 0 problems") {
					t.Errorf("summary %q", out)
				}
				return
			}
			if err == nil {
				t.Fatalf("check passed; output:\n%s", out)
			}
			all := out + err.Error()
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("output and error %q lack %q", all, w)
				}
			}
			if strings.Contains(all+stderr.String(), "goroutine ") {
				t.Errorf("a stack trace: %s", all)
			}
		})
	}
}

func writeBundle(t *testing.T, dir string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "bundles", "c1.zip"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestStartDamagedStore(t *testing.T) {
	dir := t.TempDir()
	seedStore(t, dir)
	damageFile(t, dir)
	var stderr bytes.Buffer
	err := Run(t.Context(), []string{"-data-dir", dir, "-listen", "127.0.0.1:0"}, envMap(nil), &bytes.Buffer{}, &stderr)
	if err == nil {
		t.Fatal("dsard started on a damaged store")
	}
	if !strings.Contains(err.Error(), filepath.Join(dir, storeName)+" is damaged: restore it from a backup") {
		t.Errorf("error %q does not say that dsar.db is damaged", err)
	}
	if strings.Contains(err.Error()+stderr.String(), "goroutine ") {
		t.Errorf("a stack trace: %v", err)
	}
}

func TestLostStore(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		init    bool
		want    string // "": starts
	}{
		{"new directory", func(*testing.T, string) {}, false, ""},
		{"missing beside bundles", func(t *testing.T, dir string) {
			seedStore(t, dir)
			os.Remove(filepath.Join(dir, storeName))
		}, false, "dsar.db is missing but the data directory holds 1 bundle: restore dsar.db from a backup, or start with -init"},
		{"empty beside bundles", func(t *testing.T, dir string) {
			seedStore(t, dir)
			os.Truncate(filepath.Join(dir, storeName), 0)
		}, false, "dsar.db is empty but the data directory holds 1 bundle"},
		{"empty beside a signing key", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, storeName), nil, 0o600)
			os.WriteFile(filepath.Join(dir, "signing.key"), []byte("key"), 0o600)
		}, false, "dsar.db is empty but the data directory holds a signing key"},
		{"empty beside bundles, -init", func(t *testing.T, dir string) {
			seedStore(t, dir)
			os.Truncate(filepath.Join(dir, storeName), 0)
		}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.prepare(t, dir)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			d, err := Start(ctx, Config{Listen: "127.0.0.1:0", DataDir: dir, Init: tt.init})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Start: %v", err)
				}
				cancel()
				if err := d.Wait(); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				cancel()
				d.Wait()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestInitFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want bool
	}{
		{nil, nil, false},
		{[]string{"-init"}, nil, true},
		{nil, map[string]string{"DSAR_INIT": "true"}, true},
		{[]string{"-init=false"}, map[string]string{"DSAR_INIT": "1"}, false},
	} {
		c, err := ParseFlags(append([]string{"-data-dir", "d"}, tc.args...), envMap(tc.env), &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		if c.Init != tc.want {
			t.Errorf("%v %v: Init = %v, want %v", tc.args, tc.env, c.Init, tc.want)
		}
	}
}

// TestSkippedRecord: a request whose record does not decode is left out of
// ListAccessRequests, logged by id and counted, once however many lists
// skip it; the others are listed.
func TestSkippedRecord(t *testing.T) {
	dir := t.TempDir()
	seedStore(t, dir)
	breakRecord(t, dir, "q1")
	sum := sha256.Sum256([]byte(operatorToken))
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte("operator ops "+hex.EncodeToString(sum[:])+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	d, err := Start(ctx, Config{Listen: "127.0.0.1:0", MetricsListen: "127.0.0.1:0", DataDir: dir,
		TokensFile: tokens, ShutdownGrace: 10 * time.Second, Logs: logs})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		if err := d.Wait(); err != nil {
			t.Error(err)
		}
	}()
	conn, err := grpc.NewClient(d.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s := &started{d: d}
	if got := skippedCount(t, s.metrics(t)); got != 1 { // the processor's start lists too
		t.Errorf("dsar_store_skipped_records_total after start: %d, want 1", got)
	}
	resp, err := dsarv1.NewAccessRequestServiceClient(conn).ListAccessRequests(operator(t.Context()), &dsarv1.ListAccessRequestsRequest{})
	if err != nil {
		t.Fatalf("ListAccessRequests: %v", err)
	}
	var ids []string
	for _, r := range resp.GetAccessRequests() {
		ids = append(ids, r.GetId())
	}
	if strings.Join(ids, ",") != "c1" {
		t.Errorf("listed %v, want c1", ids)
	}
	if got := skippedCount(t, s.metrics(t)); got != 1 {
		t.Errorf("dsar_store_skipped_records_total after a list and scrapes: %d, want 1", got)
	}
	_, err = dsarv1.NewAccessRequestServiceClient(conn).GetAccessRequest(operator(t.Context()), &dsarv1.GetAccessRequestRequest{Id: "q1"})
	if status.Code(err) != codes.Internal || !strings.Contains(status.Convert(err).Message(), "access request q1") {
		t.Errorf("GetAccessRequest(q1) = %v, want Internal naming q1", err)
	}
	if l := logs.String(); !strings.Contains(l, "request q1 cannot be decoded") {
		t.Errorf("logs do not name q1 as undecodable:\n%s", grepLines(l, "q1"))
	}
	if l := logs.String(); strings.Count(l, `"msg":"skipped a request whose record does not decode","request":"q1"`) != 1 {
		t.Errorf("logs do not name q1 as skipped once:\n%s", grepLines(l, "q1"))
	}
}

func skippedCount(t *testing.T, metrics string) int {
	t.Helper()
	for _, l := range strings.Split(metrics, "\n") {
		if v, ok := strings.CutPrefix(l, "dsar_store_skipped_records_total "); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no dsar_store_skipped_records_total")
	return 0
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
