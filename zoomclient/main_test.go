package zoomclient

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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

// server is the emulator behind a handler that counts the requests in
// flight. The emulator logs a request when its handler returns, which can
// be just after the client has read the whole answer; Log and RateLimited
// wait for the handlers to finish, so a test reads a complete log.
type server struct {
	*zoomtest.Emulator
	URL, APIURL, TokenURL string

	mu       sync.Mutex
	idle     *sync.Cond
	inflight int
}

// newServer starts an emulator with a fixed start time and seed.
func newServer(t testing.TB, opts ...zoomtest.Option) *server {
	t.Helper()
	e, err := zoomtest.New(append([]zoomtest.Option{zoomtest.WithStartTime(t0), zoomtest.WithSeed(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{Emulator: e}
	s.idle = sync.NewCond(&s.mu)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.inflight++
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.inflight--
			s.idle.Broadcast()
			s.mu.Unlock()
		}()
		e.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
		e.Close()
	})
	s.URL, s.APIURL, s.TokenURL = hs.URL, hs.URL+"/v2", hs.URL+"/oauth/token"
	return s
}

func (s *server) settle() {
	s.mu.Lock()
	for s.inflight > 0 {
		s.idle.Wait()
	}
	s.mu.Unlock()
}

// Log returns the emulator's log once no request is in flight.
func (s *server) Log() []zoomtest.LogEntry {
	s.settle()
	return s.Emulator.Log()
}

// RateLimited returns the emulator's 429 counts once no request is in flight.
func (s *server) RateLimited() map[string]int {
	s.settle()
	return s.Emulator.RateLimited()
}

// newClient returns a client of the server's primary account on the
// server's clock, with fast retries; mod adjusts the config.
func newClient(t testing.TB, srv *server, mod func(*Config)) *Client {
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
func count(srv *server, match func(zoomtest.LogEntry) bool) int {
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
