package zoomclient

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const jane = zoomtest.JaneEmail

// t0 is a fixed emulator start: mid-afternoon UTC, so that a test has
// hours before the daily reset unless it moves the clock.
var t0 = time.Date(2026, 3, 15, 14, 0, 0, 0, time.UTC)

// newServer starts an emulator with a fixed start time and seed. Its Log
// waits for the requests that arrived before the call, so a test that has
// its answer reads a log that holds the request.
func newServer(t testing.TB, opts ...zoomtest.Option) *zoomtest.Server {
	t.Helper()
	return zoomtest.NewServer(t, append([]zoomtest.Option{zoomtest.WithStartTime(t0), zoomtest.WithSeed(1)}, opts...)...)
}

// newClient returns a client of the server's primary account on the
// server's clock, with fast retries; mod adjusts the config.
func newClient(t testing.TB, srv *zoomtest.Server, mod func(*Config)) *Client {
	t.Helper()
	a := srv.Account()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	cfg := Config{
		AccountID: a.ID, ClientID: a.ClientID, ClientSecret: a.ClientSecret,
		Plan:   string(a.Plan),
		APIURL: srv.APIURL, TokenURL: srv.TokenURL,
		RetryBase: time.Millisecond, RetryCap: 20 * time.Millisecond,
		HTTPClient: &http.Client{Transport: tr},
		Clock:      srv.Clock(),
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// count returns the log entries that match.
func count(srv *zoomtest.Server, match func(zoomtest.LogEntry) bool) int {
	n := 0
	for _, e := range srv.Log() {
		if match(e) {
			n++
		}
	}
	return n
}

func isToken(e zoomtest.LogEntry) bool { return e.Path == "/oauth/token" }
func isAPI(e zoomtest.LogEntry) bool   { return e.Category != "" }

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
