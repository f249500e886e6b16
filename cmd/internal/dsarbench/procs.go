package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/zoomdsar/zoom-dsar/cmd/internal/daemon"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// proc is a child process the bench started. stop and kill wait for it, so
// no process outlives the scenario that started it.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

func startProc(name string, args []string, env []string, stderr io.Writer) (*proc, io.ReadCloser, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start %s: %w", filepath.Base(name), err)
	}
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	return p, out, nil
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// stop asks the process to end (SIGTERM) and kills it after grace.
func (p *proc) stop(grace time.Duration) {
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.exited:
	case <-t.C:
		p.kill()
	}
}

// stop ends the emulator and closes the bench's idle connections to it.
func (z *zoomfake) stop(grace time.Duration) {
	z.proc.stop(grace)
	z.hc.CloseIdleConnections()
}

// zoomfake is a running emulator.
type zoomfake struct {
	*proc
	url     string // http://127.0.0.1:PORT
	plan    string // of the primary account
	account zoomtest.Account
	hc      *http.Client
	logSeen int // log length at the last logLen; logLen is not safe for concurrent use
}

// startZoomfake starts the emulator with the scenarios' dataset, its
// primary account on plan, on a free loopback port and reads its start line.
func startZoomfake(ctx context.Context, e *env, plan string, args ...string) (*zoomfake, error) {
	dir, err := e.tempDir("zoomfake")
	if err != nil {
		return nil, err
	}
	errf, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		return nil, err
	}
	defer errf.Close()
	args = append([]string{"-listen", "127.0.0.1:0", "-seed", strconv.FormatInt(e.seed, 10),
		"-dataset", e.dataset(), "-plan", plan}, args...)
	p, out, err := startProc(filepath.Join(e.bin, "zoomfake"), args, nil, errf)
	if err != nil {
		return nil, err
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		_, _ = io.Copy(io.Discard, out)
	}()
	z := &zoomfake{proc: p, plan: plan, hc: &http.Client{Timeout: 30 * time.Second}}
	select {
	case l, ok := <-line:
		if !ok {
			p.kill()
			b, _ := os.ReadFile(errf.Name())
			return nil, fmt.Errorf("zoomfake exited before listening: %s", strings.TrimSpace(string(b)))
		}
		if err := z.parseStart(l); err != nil {
			p.kill()
			return nil, err
		}
	case <-time.After(20 * time.Second):
		p.kill()
		return nil, errors.New("zoomfake did not start within 20s")
	case <-ctx.Done():
		p.kill()
		return nil, ctx.Err()
	}
	return z, nil
}

// parseStart reads "zoomfake listening on http://ADDR account_id=ID
// client_id=ID client_secret=S".
func (z *zoomfake) parseStart(l string) error {
	f := strings.Fields(l)
	if len(f) < 7 || f[1] != "listening" {
		return fmt.Errorf("unexpected zoomfake start line (%d fields)", len(f))
	}
	z.url = f[3]
	for _, kv := range f[4:] {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "account_id":
			z.account.ID = v
		case "client_id":
			z.account.ClientID = v
		case "client_secret":
			z.account.ClientSecret = v
		}
	}
	if z.account.ID == "" || z.account.ClientID == "" || z.account.ClientSecret == "" {
		return errors.New("zoomfake start line lacks credentials")
	}
	return nil
}

// log returns the request log from index since on, and the next index.
func (z *zoomfake) log(ctx context.Context, since int) ([]zoomtest.LogEntry, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/_zoomfake/log?since=%d", z.url, since), nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := z.hc.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("zoomfake log: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("zoomfake log: %s", resp.Status)
	}
	next, err := strconv.Atoi(resp.Header.Get("X-Next-Since"))
	if err != nil {
		return nil, 0, fmt.Errorf("zoomfake log: bad X-Next-Since: %w", err)
	}
	var out []zoomtest.LogEntry
	dec := json.NewDecoder(resp.Body)
	for {
		var le zoomtest.LogEntry
		if err := dec.Decode(&le); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, 0, fmt.Errorf("zoomfake log: %w", err)
		}
		out = append(out, le)
	}
	return out, next, nil
}

// logLen returns the number of entries logged so far. It asks only for the
// entries after the count it last saw: the log only grows, and the
// emulator answers an index past its end with the whole log.
func (z *zoomfake) logLen(ctx context.Context) (int, error) {
	_, n, err := z.log(ctx, z.logSeen)
	if err == nil {
		z.logSeen = n
	}
	return n, err
}

// clearFaults stops the emulator's fault injection: Zoom recovers.
func (z *zoomfake) clearFaults(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, z.url+"/_zoomfake/faults", strings.NewReader("{}"))
	if err != nil {
		return err
	}
	resp, err := z.hc.Do(req)
	if err != nil {
		return fmt.Errorf("zoomfake faults: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("zoomfake faults: %s", resp.Status)
	}
	return nil
}

// now reads the emulator's clock.
func (z *zoomfake) now(ctx context.Context) (time.Time, error) {
	var v struct {
		Now time.Time `json:"now"`
	}
	err := z.getJSON(ctx, "/_zoomfake/clock", &v)
	return v.Now, err
}

func (z *zoomfake) getJSON(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, z.url+path, nil)
	if err != nil {
		return err
	}
	resp, err := z.hc.Do(req)
	if err != nil {
		return fmt.Errorf("zoomfake %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("zoomfake %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// benchToken is the bearer token the bench presents to dsard, as an
// operator (who may also create, get and download).
const benchToken = "dsarbench-operator-token"

// zoomAccount names an emulator account for dsard.
// The secret reaches dsard through the environment variable the entry
// names; ClientSecret itself is not written to the file.
func zoomAccount(z *zoomfake, name, plan string, a zoomtest.Account) daemon.Account {
	return daemon.Account{Name: name, Plan: plan, AccountID: a.ID, ClientID: a.ClientID,
		ClientSecretEnv: "DSARBENCH_SECRET_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")),
		APIURL:          z.url + "/v2", TokenURL: z.url + "/oauth/token", ClientSecret: a.ClientSecret}
}

// primary is the name the scenarios give the emulator's first account.
const primary = "primary"

// primaryAccount is dsard's accounts list of a single-account scenario.
func primaryAccount(z *zoomfake) []daemon.Account {
	return []daemon.Account{zoomAccount(z, primary, z.plan, z.account)}
}

// dsardConfig says how to start dsard.
type dsardConfig struct {
	dataDir  string
	accounts []daemon.Account
	tls      *certs // nil: plaintext
}

// served is a running dsard with a client dialled to it.
type served struct {
	d    *dsard
	c    *client
	from int // the emulator's log position when serve began
}

// launch starts dsard and dials it, over TLS when cfg.tls is set.
func launch(ctx context.Context, e *env, cfg dsardConfig) (*served, error) {
	d, err := startDsard(ctx, e, cfg)
	if err != nil {
		return nil, err
	}
	c, err := dial(d.addr, cfg.tls.poolOrNil())
	if err != nil {
		d.stop(10 * time.Second)
		return nil, err
	}
	return &served{d: d, c: c}, nil
}

// serve launches the dsard of one scenario over a temp directory of its
// own and notes where the emulator's log stands.
func serve(ctx context.Context, e *env, z *zoomfake, name string, accts []daemon.Account) (*served, error) {
	dir, err := e.tempDir(name)
	if err != nil {
		return nil, err
	}
	s, err := launch(ctx, e, dsardConfig{dataDir: dir + "/data", accounts: accts})
	if err != nil {
		return nil, err
	}
	if s.from, err = z.logLen(ctx); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *served) stop() {
	s.c.Close()
	s.d.stop(10 * time.Second)
}

// kill closes the client and kills dsard, as a crash would.
func (s *served) kill() {
	s.c.Close()
	s.d.kill()
}

// dsard is a running dsard process.
type dsard struct {
	*proc
	addr    string
	metrics string
	hc      *http.Client
}

// stop ends dsard and closes the bench's idle connections to it.
func (d *dsard) stop(grace time.Duration) {
	d.proc.stop(grace)
	d.hc.CloseIdleConnections()
}

// kill kills dsard and closes the bench's idle connections to it.
func (d *dsard) kill() {
	d.proc.kill()
	d.hc.CloseIdleConnections()
}

// startDsard starts dsard on free loopback ports and waits for its
// "serving" log line.
func startDsard(ctx context.Context, e *env, c dsardConfig) (*dsard, error) {
	if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
		return nil, err
	}
	cfgDir := filepath.Join(c.dataDir, "..", filepath.Base(c.dataDir)+"-config")
	if err := os.MkdirAll(cfgDir, 0o700); err != nil {
		return nil, err
	}
	accts, err := json.Marshal(c.accounts)
	if err != nil {
		return nil, err
	}
	accFile := filepath.Join(cfgDir, "accounts.json")
	tokFile := filepath.Join(cfgDir, "tokens")
	sum := sha256.Sum256([]byte(benchToken))
	if err := os.WriteFile(accFile, accts, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(tokFile, []byte("operator dsarbench "+hex.EncodeToString(sum[:])+"\n"), 0o600); err != nil {
		return nil, err
	}
	var envv []string
	for _, a := range c.accounts {
		envv = append(envv, a.ClientSecretEnv+"="+a.ClientSecret)
	}
	args := []string{"-listen", "127.0.0.1:0", "-metrics-listen", "127.0.0.1:0", "-data-dir", c.dataDir,
		"-accounts", accFile, "-tokens", tokFile, "-shutdown-grace", "2s"}
	if c.tls != nil {
		args = append(args, "-tls-cert", c.tls.certFile, "-tls-key", c.tls.keyFile)
	}
	// dsard logs JSON on stderr; its "serving" line names the addresses.
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	p, out, err := startProc(filepath.Join(e.bin, "dsard"), append(args, "-log-level", "info"), envv, pw)
	pw.Close()
	if err != nil {
		pr.Close()
		return nil, err
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	type serving struct{ addr, metrics string }
	ready := make(chan serving, 1)
	logFile, err := os.OpenFile(filepath.Join(cfgDir, "dsard.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		p.kill()
		pr.Close()
		return nil, err
	}
	go func() {
		defer pr.Close()
		defer logFile.Close()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			fmt.Fprintln(logFile, sc.Text())
			if sent {
				continue
			}
			var l struct {
				Msg     string `json:"msg"`
				Addr    string `json:"addr"`
				Metrics string `json:"metrics"`
			}
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "serving" {
				ready <- serving{l.Addr, l.Metrics}
				sent = true
			}
		}
		if !sent {
			close(ready)
		}
	}()
	select {
	case s, ok := <-ready:
		if !ok {
			p.kill()
			b, _ := os.ReadFile(logFile.Name())
			return nil, fmt.Errorf("dsard exited before serving: %s", lastLine(b))
		}
		return &dsard{proc: p, addr: s.addr, metrics: s.metrics, hc: &http.Client{Timeout: 10 * time.Second}}, nil
	case <-time.After(30 * time.Second):
		p.kill()
		return nil, errors.New("dsard did not serve within 30s")
	case <-ctx.Done():
		p.kill()
		return nil, ctx.Err()
	}
}

func lastLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// metric reads one unlabelled gauge from dsard's metrics listener.
// samplePeaks samples dsard's Go heap and goroutines every 100 ms until
// the returned function is called; it returns the peaks.
func (d *dsard) samplePeaks(ctx context.Context) func() (heap, goroutines float64) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var peakHeap, peakG float64
	wg.Go(func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if h, err := d.metric(ctx, "go_memstats_heap_alloc_bytes"); err == nil {
				peakHeap = max(peakHeap, h)
			}
			if g, err := d.metric(ctx, "go_goroutines"); err == nil {
				peakG = max(peakG, g)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	return func() (float64, float64) {
		cancel()
		wg.Wait()
		return peakHeap, peakG
	}
}

func (d *dsard) metric(ctx context.Context, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+d.metrics+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := d.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == name {
			return strconv.ParseFloat(f[1], 64)
		}
	}
	return 0, fmt.Errorf("metric %s not found", name)
}
