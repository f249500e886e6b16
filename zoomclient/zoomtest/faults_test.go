package zoomtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

const recPath = "GET /users/{userId}/recordings"

func rawGet(t *testing.T, srv *zoomtest.Server, tok, path string) (*http.Response, []byte, error) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.APIURL+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestFaultKinds(t *testing.T) {
	const path = "/users/" + zoomtest.JaneEmail + "/recordings?from=2026-02-01&to=2026-02-28"
	tests := []struct {
		fault zoomtest.Fault
		check func(t *testing.T, resp *http.Response, body []byte, err error)
	}{
		{zoomtest.Fault500, wantStatus(500)},
		{zoomtest.Fault502, wantStatus(502)},
		{zoomtest.Fault503, wantStatus(503)},
		{zoomtest.Fault504, wantStatus(504)},
		{zoomtest.FaultReset, func(t *testing.T, resp *http.Response, body []byte, err error) {
			if err == nil {
				t.Fatalf("read the whole body (%d bytes) of a reset response", len(body))
			}
		}},
		{zoomtest.FaultTruncate, func(t *testing.T, resp *http.Response, body []byte, err error) {
			var v any
			if err != nil || resp.StatusCode != 200 || json.Unmarshal(body, &v) == nil {
				t.Errorf("want a 200 whose JSON does not parse; err %v", err)
			}
		}},
		{zoomtest.FaultGarble, func(t *testing.T, resp *http.Response, body []byte, err error) {
			var v any
			if err != nil || resp.StatusCode != 200 || json.Unmarshal(body, &v) == nil {
				t.Errorf("want a 200 whose JSON does not parse; err %v", err)
			}
		}},
		{zoomtest.FaultRevoke, func(t *testing.T, resp *http.Response, body []byte, err error) {
			if err != nil || resp.StatusCode != 401 {
				t.Fatalf("want 401, got %v %v", resp, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.fault), func(t *testing.T) {
			srv := zoomtest.NewServer(t, zoomtest.WithStartTime(start), zoomtest.WithFrozenClock(),
				zoomtest.WithFaults(zoomtest.Faults{Script: map[string][]zoomtest.Fault{recPath: {tt.fault}}}))
			tok := token(t, srv, srv.Account())
			resp, body, err := rawGet(t, srv, tok, path)
			tt.check(t, resp, body, err)
			// The script is consumed: the next call is clean, with a new
			// token if the fault revoked the old one.
			if tt.fault == zoomtest.FaultRevoke {
				if r := get(t, srv, tok, path); r.status != 401 {
					t.Errorf("revoked token still works: %d", r.status)
				}
				tok = token(t, srv, srv.Account())
			}
			if r := get(t, srv, tok, path); r.status != 200 {
				t.Errorf("after the fault: %d %s", r.status, r.body)
			}
			if got := srv.Log()[1].Fault; got != string(tt.fault) {
				t.Errorf("log fault %q, want %q", got, tt.fault)
			}
		})
	}
}

func wantStatus(status int) func(*testing.T, *http.Response, []byte, error) {
	return func(t *testing.T, resp *http.Response, body []byte, err error) {
		if err != nil || resp.StatusCode != status {
			t.Errorf("want %d, got %v %v", status, resp, err)
		}
	}
}

func TestFaultSlow(t *testing.T) {
	srv := zoomtest.NewServer(t, zoomtest.WithFaults(zoomtest.Faults{SlowDelay: time.Hour,
		Script: map[string][]zoomtest.Fault{"*": {zoomtest.FaultSlow}}}))
	tok := token(t, srv, srv.Account())
	client := &http.Client{Timeout: 50 * time.Millisecond}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.APIURL+"/users/"+zoomtest.JaneEmail, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("a slow response beat a 50ms timeout")
	}
}

// TestFaultRatesDeterministic: the same seed gives the same faults on the
// same sequence of calls, and the rate is roughly honoured.
func TestFaultRatesDeterministic(t *testing.T) {
	run := func(seed int64) []string {
		srv := zoomtest.NewServer(t, zoomtest.WithSeed(seed), zoomtest.WithLimits(zoomtest.Limits{Off: true}),
			zoomtest.WithFaults(zoomtest.Faults{Rates: map[zoomtest.Fault]float64{zoomtest.Fault503: 0.2, zoomtest.Fault500: 0.1}}))
		tok := token(t, srv, srv.Account())
		for range 200 {
			get(t, srv, tok, "/users/"+zoomtest.JaneEmail)
		}
		var out []string
		for _, e := range srv.Log()[1:] {
			out = append(out, e.Fault)
		}
		return out
	}
	a, b, c := run(7), run(7), run(8)
	count := func(s []string, f string) (n int) {
		for _, x := range s {
			if x == f {
				n++
			}
		}
		return n
	}
	if n := count(a, "503"); n < 20 || n > 60 {
		t.Errorf("%d 503s in 200 calls at rate 0.2", n)
	}
	if n := count(a, "500"); n < 5 || n > 40 {
		t.Errorf("%d 500s in 200 calls at rate 0.1", n)
	}
	same, differ := true, false
	for i := range a {
		same = same && a[i] == b[i]
		differ = differ || a[i] != c[i]
	}
	if !same || !differ {
		t.Errorf("same seed same faults: %v; other seed differs: %v", same, differ)
	}
}

func TestFaultsPerEndpointAndSet(t *testing.T) {
	srv := zoomtest.NewServer(t, zoomtest.WithFaults(zoomtest.Faults{
		Endpoints: map[string]map[zoomtest.Fault]float64{"GET /users/{userId}/settings": {zoomtest.Fault502: 1}}}))
	tok := token(t, srv, srv.Account())
	if r := get(t, srv, tok, "/users/"+zoomtest.JaneEmail+"/settings"); r.status != 502 {
		t.Errorf("settings: %d, want 502", r.status)
	}
	if r := get(t, srv, tok, "/users/"+zoomtest.JaneEmail); r.status != 200 {
		t.Errorf("user: %d, want 200", r.status)
	}
	srv.SetFaults(zoomtest.Faults{})
	if r := get(t, srv, tok, "/users/"+zoomtest.JaneEmail+"/settings"); r.status != 200 {
		t.Errorf("settings after SetFaults: %d, want 200", r.status)
	}
	for _, f := range []zoomtest.Faults{
		{Rates: map[zoomtest.Fault]float64{"418": 0.5}},
		{Rates: map[zoomtest.Fault]float64{zoomtest.Fault500: 1.5}},
		{Script: map[string][]zoomtest.Fault{"*": {"boom"}}},
	} {
		if err := f.Validate(); err == nil {
			t.Errorf("%+v validated", f)
		}
		if _, err := zoomtest.New(zoomtest.WithFaults(f)); err == nil {
			t.Errorf("New accepted %+v", f)
		}
	}
}
