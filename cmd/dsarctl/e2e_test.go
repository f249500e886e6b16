package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/zoomdsar/zoom-dsar/cmd/internal/progress"
	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
	"github.com/zoomdsar/zoom-dsar/dsar/rpc/client"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// tokens of the end-to-end test, one per role.
var e2eTokens = map[string]string{"platform": "tok-platform-e2e", "operator": "tok-operator-e2e", "auditor": "tok-auditor-e2e"}

// dsard is a dsard process started by a test.
type dsard struct {
	dir  string // holds data/, dsard's data directory
	addr string
	cmd  *exec.Cmd
	logs *syncBuffer
	msgs chan string // the msg of each log line
	done chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// dsardBuild is cmd/dsard built once for the package's tests, in binDir
// (made and removed by TestMain): on a clean machine a build costs a
// minute of compiling, and parallel tests each building it would compile
// it side by side.
var (
	binDir     string
	dsardBuild = sync.OnceValues(func() (string, error) {
		bin := filepath.Join(binDir, "dsard")
		out, err := exec.Command("go", "build", "-o", bin, "github.com/zoomdsar/zoom-dsar/cmd/dsard").CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("go build dsard: %v\n%s", err, out)
		}
		return bin, nil
	})
)

// buildDsard returns the path of cmd/dsard, built once.
func buildDsard(t *testing.T) string {
	t.Helper()
	bin, err := dsardBuild()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// startDsard runs the binary with the emulator's account as "main" and
// waits until it logs that it is serving.
func startDsard(t *testing.T, bin string, zoom *zoomtest.Server) *dsard {
	t.Helper()
	a := zoom.Account()
	return startDsardWith(t, bin, []map[string]string{{
		"name": "main", "plan": string(a.Plan), "account_id": a.ID, "client_id": a.ClientID,
		"client_secret_env": "E2E_ZOOM_SECRET", "api_url": zoom.APIURL, "token_url": zoom.TokenURL,
	}}, "E2E_ZOOM_SECRET="+a.ClientSecret)
}

// startDsardWith runs the binary with the given accounts file entries and
// environment variables and waits until it logs that it is serving.
func startDsardWith(t *testing.T, bin string, accounts []map[string]string, env ...string) *dsard {
	t.Helper()
	dir := t.TempDir()
	var toks strings.Builder
	for role, tok := range e2eTokens {
		sum := sha256.Sum256([]byte(tok))
		toks.WriteString(role + " " + role + "-caller " + hex.EncodeToString(sum[:]) + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "tokens"), []byte(toks.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &dsard{dir: dir, logs: &syncBuffer{}, msgs: make(chan string, 10000), done: make(chan struct{})}
	d.writeAccounts(t, accounts)
	cmd := exec.Command(bin, "-listen", "127.0.0.1:0", "-accounts", filepath.Join(dir, "accounts.json"))
	cmd.Env = append(os.Environ(),
		"DSAR_DATA_DIR="+filepath.Join(dir, "data"), "DSAR_TOKENS="+filepath.Join(dir, "tokens"),
		"DSAR_LOG_LEVEL=debug")
	cmd.Env = append(cmd.Env, env...)
	d.cmd = cmd
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		defer close(d.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Bytes()
			d.logs.Write(append(line, '\n'))
			var m struct{ Msg, Addr string }
			if json.Unmarshal(line, &m) == nil {
				if m.Msg == "serving" {
					addr <- m.Addr
				}
				select {
				case d.msgs <- m.Msg:
				default: // no test waits for so many
				}
			}
		}
		close(addr)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-d.done
		_ = cmd.Wait()
	})
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatalf("dsard exited before serving:\n%s", d.logs.String())
		}
		d.addr = a
	case <-time.After(time.Minute):
		t.Fatalf("dsard did not start within a minute:\n%s", d.logs.String())
	}
	return d
}

// writeAccounts writes dsard's accounts file.
func (d *dsard) writeAccounts(t *testing.T, accounts []map[string]string) {
	t.Helper()
	b, err := json.Marshal(accounts)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.dir, "accounts.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// waitLog waits until dsard logs a message msg (in order: a message
// logged before an earlier waitLog returned is not seen again).
func (d *dsard) waitLog(t *testing.T, msg string) {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case m := <-d.msgs:
			if m == msg {
				return
			}
		case <-timeout:
			t.Fatalf("dsard did not log %q within a minute:\n%s", msg, d.logs.String())
		}
	}
}

// ctl runs dsarctl in-process as a role and returns its stdout.
func ctl(t *testing.T, d *dsard, role string, args ...string) (string, error) {
	t.Helper()
	env := map[string]string{"DSAR_SERVER": d.addr, "DSAR_TOKEN": e2eTokens[role]}
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), args, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
	return stdout.String(), err
}

// parseJSON reads dsarctl's -o json back into the API's message: it must
// be protojson of it.
func parseJSON(t *testing.T, out string, m proto.Message) {
	t.Helper()
	if err := protojson.Unmarshal([]byte(out), m); err != nil {
		t.Fatalf("-o json is not protojson of %T: %v\n%s", m, err, out)
	}
}

// getRequest is `dsarctl get -o json ID` as role.
func getRequest(t *testing.T, d *dsard, role, id string) *dsarv1.AccessRequest {
	t.Helper()
	var r dsarv1.AccessRequest
	parseJSON(t, mustCtl(t, d, role, "get", id, "-o", "json"), &r)
	return &r
}

func mustCtl(t *testing.T, d *dsard, role string, args ...string) string {
	t.Helper()
	out, err := ctl(t, d, role, args...)
	if err != nil {
		t.Fatalf("dsarctl %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func TestEndToEnd(t *testing.T) {
	bin := buildDsard(t)
	zoom := zoomtest.NewServer(t, zoomtest.WithDataset("reference"), zoomtest.WithLimits(zoomtest.Limits{Off: true}))
	d := startDsard(t, bin, zoom)
	dir := t.TempDir()

	id := strings.TrimSpace(mustCtl(t, d, "platform", "create", "-account", "main", zoomtest.JaneEmail))
	if id == "" || strings.ContainsAny(id, " \n") {
		t.Fatalf("create printed %q, want the id alone", id)
	}
	out := mustCtl(t, d, "platform", "watch", id)
	if !strings.Contains(out, id+"  COMPLETED") || !strings.Contains(out, "phone_call_history COMPLETE") {
		t.Errorf("watch output lacks the completion:\n%s", out)
	}
	// The pages go once the bundle is verified (TestEndToEndRetention).
	d.waitLog(t, "collected data purged")

	got := getRequest(t, d, "auditor", id)
	if got.GetState() != dsarv1.RequestState_REQUEST_STATE_COMPLETED || len(got.GetSections()) != len(dsar.Sections) || got.GetBundle() == nil {
		t.Fatalf("get -o json: %v", got)
	}

	// A download broken after its first chunk, then resumed.
	bundlePath := filepath.Join(dir, "bundle.zip")
	downloadHook = func(written int64) error {
		if written > 0 {
			return errors.New("connection reset (test)")
		}
		return nil
	}
	_, err := ctl(t, d, "auditor", "download", "-o", bundlePath, id)
	downloadHook = nil
	if err == nil || !strings.Contains(err.Error(), "-resume") {
		t.Fatalf("interrupted download: %v, want an error that suggests -resume", err)
	}
	part, err := os.Stat(bundlePath + ".part")
	if err != nil || part.Size() == 0 || part.Size() >= got.GetBundle().GetSizeBytes() || part.Mode() != 0o600 {
		t.Fatalf("partial file: %v, %v; want part of the bundle, mode 0600", part, err)
	}
	mustCtl(t, d, "auditor", "download", "-resume", "-o", bundlePath, id)
	data, err := os.ReadFile(bundlePath)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(bundlePath); err != nil || fi.Mode() != 0o600 {
		t.Errorf("bundle: %v, %v; want mode 0600", fi, err)
	}
	// Refused before dsard is asked (the audit trail below has no third
	// download): an existing file without -f, a directory.
	for target, want := range map[string]string{bundlePath: "exists; use -f", dir: "is a directory"} {
		if _, err := ctl(t, d, "auditor", "download", "-o", target, id); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("download -o %s: %v, want %q", filepath.Base(target), err, want)
		}
		if _, err := os.Lstat(target + ".part"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("download -o %s left %s.part: %v", filepath.Base(target), filepath.Base(target), err)
		}
	}
	// Never replaced, not even with -f: a device, a symlink (to the
	// bundle here). A symlink planted as the partial file is not followed:
	// the file it points to keeps its bytes.
	link := filepath.Join(dir, "link.zip")
	if err := os.Symlink(bundlePath, link); err != nil {
		t.Fatal(err)
	}
	for target, want := range map[string]string{"/dev/null": "is a device", link: "is a symlink"} {
		if _, err := ctl(t, d, "auditor", "download", "-f", "-o", target, id); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("download -f -o %s: %v, want %q", target, err, want)
		}
	}
	if fi, err := os.Lstat("/dev/null"); err != nil || fi.Mode()&os.ModeDevice == 0 {
		t.Errorf("/dev/null is no longer a device: %v, %v", fi, err)
	}
	planted := filepath.Join(dir, "planted.zip")
	if err := os.Symlink(bundlePath, planted+".part"); err != nil {
		t.Fatal(err)
	}
	for _, flags := range [][]string{nil, {"-f"}, {"-resume"}} {
		args := append(append([]string{"download"}, flags...), "-o", planted, id)
		if _, err := ctl(t, d, "auditor", args...); err == nil || !strings.Contains(err.Error(), ".part is a symlink") {
			t.Errorf("download %v over a planted .part symlink: %v, want a refusal", flags, err)
		}
	}
	if after, err := os.ReadFile(bundlePath); err != nil || !bytes.Equal(after, data) {
		t.Errorf("the file a planted .part symlink points to changed: %v", err)
	}
	sum := sha256.Sum256(data)
	if b := got.GetBundle(); hex.EncodeToString(sum[:]) != b.GetSha256() || int64(len(data)) != b.GetSizeBytes() {
		t.Fatalf("bundle sha256 %x (%d bytes), server says %s (%d bytes)", sum, len(data), b.GetSha256(), b.GetSizeBytes())
	}
	checkManifest(t, data)
	manifest, report, files := bundleCounts(t, data)
	checkCounts(t, []string{"the emulator", "dsarctl get", "dsarctl watch", "manifest.json", "index.html", "the data files"},
		emulatorCounts(zoom.Dataset().User(zoomtest.JaneEmail), zoom.Clock().Now()), getCounts(got), lastCounts(t, watchLine, out), manifest, report, files)

	checkMediaProgress(t, got, data, out)
	checkJSONAndTimes(t, d, got)

	pub := filepath.Join(dir, "signing.pub")
	mustCtl(t, d, "auditor", "key", "-o", pub)
	if out := mustCtl(t, d, "auditor", "verify", "-public-key", pub, bundlePath); !strings.HasPrefix(out, "OK ") {
		t.Errorf("verify: %s", out)
	}

	// Operator actions and their refusals.
	if _, err := ctl(t, d, "operator", "cancel", id); err == nil || !strings.Contains(err.Error(), "cannot be cancelled") {
		t.Errorf("cancel of a completed request: %v", err)
	}
	if _, err := ctl(t, d, "platform", "list"); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("list as platform: %v, want permission denied", err)
	}
	mustCtl(t, d, "operator", "extend", "-reason", "large account", id)
	var list dsarv1.ListAccessRequestsResponse
	parseJSON(t, mustCtl(t, d, "operator", "list", "-state", "completed", "-o", "json"), &list)
	if rs := list.GetAccessRequests(); len(rs) != 1 || rs[0].GetId() != id {
		t.Errorf("list -state completed: %v", rs)
	}

	checkListFilters(t, d, got)

	// The audit log names every caller.
	trail := auditTrail(t, d, id)
	want := []string{
		"CreateAccessRequest by platform-caller (platform)",
		"purge by system ()",
		"DownloadBundle by auditor-caller (auditor)",
		"DownloadBundle by auditor-caller (auditor)",
		"ExtendDeadline by operator-caller (operator)",
	}
	if strings.Join(trail, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit trail:\n%s\nwant:\n%s", strings.Join(trail, "\n"), strings.Join(want, "\n"))
	}
	// The refused list is in the whole log, by its caller.
	var evs dsarv1.ListAuditEventsResponse
	parseJSON(t, mustCtl(t, d, "auditor", "audit", "-o", "json"), &evs)
	var refused bool
	for _, ev := range evs.GetAuditEvents() {
		refused = refused || (ev.GetAction() == "CallDenied" && ev.GetCaller() == "platform-caller" && ev.GetRole() == "platform" &&
			strings.Contains(ev.GetDetail(), "ListAccessRequests"))
	}
	if !refused {
		t.Errorf("the audit log has no CallDenied of ListAccessRequests by platform-caller: %v", evs.GetAuditEvents())
	}

	checkReflectionAndHealth(t, d.addr)

	// SIGTERM: a graceful stop.
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-d.done
	if err := d.cmd.Wait(); err != nil {
		t.Errorf("dsard after SIGTERM: %v", err)
	}
	logs := d.logs.String()
	if !strings.Contains(logs, `"msg":"stopped"`) {
		t.Errorf("dsard did not log its stop")
	}
	u := zoom.Dataset().User(zoomtest.JaneEmail)
	for what, v := range map[string]string{"email": zoomtest.JaneEmail, "first name": u.FirstName, "last name": u.LastName,
		"client secret": zoom.Account().ClientSecret, "token": e2eTokens["auditor"]} {
		if strings.Contains(logs, v) {
			t.Errorf("dsard's logs contain the %s", what)
		}
	}
}

// checkMediaProgress checks the media progress of a completed request
// against its bundle: in each section, every file done, as many files
// and bytes as the bundle's media entries, and watch's last line of the
// section says so.
func checkMediaProgress(t *testing.T, r *dsarv1.AccessRequest, bundleZip []byte, watchOut string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(bundleZip), int64(len(bundleZip)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zr.Open(bundle.ManifestPath)
	if err != nil {
		t.Fatal(err)
	}
	var m bundle.Manifest
	err = json.NewDecoder(f).Decode(&m)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	files, size := map[string]int64{}, map[string]int64{}
	for _, e := range m.Entries {
		if rest, ok := strings.CutPrefix(e.Path, "media/"); ok {
			sec, _, _ := strings.Cut(rest, "/")
			files[sec]++
			size[sec] += e.Size
		}
	}
	if len(files) == 0 {
		t.Fatal("the bundle has no media entries: nothing to check the progress against")
	}
	lines := map[string]string{}
	for _, l := range strings.Split(watchOut, "\n") {
		if name, _, ok := strings.Cut(strings.TrimPrefix(l, "  "), " "); ok && strings.HasPrefix(l, "  ") {
			lines[name] = l // the last line of each section
		}
	}
	for _, s := range r.GetSections() {
		n := s.GetName()
		if s.GetMediaFilesDone() != files[n] || s.GetMediaFilesTotal() != files[n] || s.GetMediaBytesDone() != size[n] || s.GetMediaBytesTotal() != size[n] {
			t.Errorf("%s: media %d/%d files, %d/%d bytes; the bundle holds %d files, %d bytes", n,
				s.GetMediaFilesDone(), s.GetMediaFilesTotal(), s.GetMediaBytesDone(), s.GetMediaBytesTotal(), files[n], size[n])
		}
		if want := fmt.Sprintf(" media=%d/%d files (%s/%s)", files[n], files[n], progress.Size(size[n]), progress.Size(size[n])); files[n] > 0 && !strings.HasSuffix(lines[n], want) {
			t.Errorf("watch's last line of %s is %q, want it to end in %q", n, lines[n], want)
		}
	}
}

// checkJSONAndTimes: -o json is the API's message itself, and the tables
// print times in RFC 3339 with the zone: the local one, or UTC with -utc.
func checkJSONAndTimes(t *testing.T, d *dsard, got *dsarv1.AccessRequest) {
	t.Helper()
	cl, err := client.Dial(client.Config{Addr: d.addr, Token: e2eTokens["auditor"]})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Conn.Close()
	resp, err := cl.GetAccessRequest(t.Context(), &dsarv1.GetAccessRequestRequest{Id: got.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	// got is older than the downloads since: the same request is asked
	// of dsarctl again, right after the API.
	if again := getRequest(t, d, "auditor", got.GetId()); !proto.Equal(resp.GetAccessRequest(), again) {
		t.Errorf("get -o json differs from the API's message:\n got %v\nwant %v", again, resp.GetAccessRequest())
	}
	zoned := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$`)
	row := func(out, key string) string {
		m := regexp.MustCompile(`(?m)^` + key + ` +(\S+)$`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no %s row in:\n%s", key, out)
		}
		return m[1]
	}
	created := got.GetCreateTime().AsTime()
	out := mustCtl(t, d, "auditor", "get", got.GetId())
	if c := row(out, "created"); !zoned.MatchString(c) || c != created.Local().Format(time.RFC3339) {
		t.Errorf("get: created %q, want %s in RFC 3339 with the local zone", c, created)
	}
	out = mustCtl(t, d, "auditor", "get", "-utc", got.GetId())
	if c := row(out, "created"); c != created.UTC().Format(time.RFC3339) || !strings.HasSuffix(c, "Z") {
		t.Errorf("get -utc: created %q, want %s in UTC", c, created)
	}
	out = mustCtl(t, d, "operator", "list", "-utc")
	due := got.GetDueTime().AsTime().UTC().Format(time.RFC3339)
	if !regexp.MustCompile(`(?m)^` + got.GetId() + ` +COMPLETED +main +` + regexp.QuoteMeta(zoomtest.JaneEmail) + ` +USER_FOUND +` +
		regexp.QuoteMeta(created.UTC().Format(time.RFC3339)) + ` +` + regexp.QuoteMeta(due) + ` *$`).MatchString(out) {
		t.Errorf("list -utc: no row of %s with its email, outcome, created and due times in UTC:\n%s", got.GetId(), out)
	}
}

// checkListFilters: list matches an email in any case, and an account
// dsard does not have is an error, not an empty list.
func checkListFilters(t *testing.T, d *dsard, got *dsarv1.AccessRequest) {
	t.Helper()
	for email, want := range map[string]int{strings.ToUpper(zoomtest.JaneEmail): 1, zoomtest.JaneEmail: 1, "nobody@example.com": 0} {
		var list dsarv1.ListAccessRequestsResponse
		parseJSON(t, mustCtl(t, d, "operator", "list", "-email", email, "-o", "json"), &list)
		if rs := list.GetAccessRequests(); len(rs) != want || (want == 1 && rs[0].GetId() != got.GetId()) {
			t.Errorf("list -email %s: %d requests, want %d", email, len(rs), want)
		}
	}
	_, err := ctl(t, d, "operator", "list", "-account", "nosuch")
	if err == nil || !strings.Contains(err.Error(), `not found: account "nosuch" is not configured`) || exitCode(err) != 1 {
		t.Errorf("list -account nosuch: %v, want not found", err)
	}
}

// TestEndToEndWrongAPIURL: an account whose api_url lacks /v2 gets Zoom's
// 404 for a route that does not exist. The request fails with a reason
// that names the fix; it is never completed as "no Zoom user".
// auditTrail returns a request's audit events but its state changes, as
// "Action by caller (role)".
func auditTrail(t *testing.T, d *dsard, id string) []string {
	t.Helper()
	var evs dsarv1.ListAuditEventsResponse
	parseJSON(t, mustCtl(t, d, "auditor", "audit", id, "-o", "json"), &evs)
	var trail []string
	for _, ev := range evs.GetAuditEvents() {
		if ev.GetAction() != "StateChange" {
			trail = append(trail, ev.GetAction()+" by "+ev.GetCaller()+" ("+ev.GetRole()+")")
		}
	}
	return trail
}

// checkManifest checks every entry of the bundle against manifest.json.
func checkManifest(t *testing.T, data []byte) *bundle.Manifest {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]*zip.File{}
	for _, f := range zr.File {
		entries[f.Name] = f
	}
	mf, ok := entries[bundle.ManifestPath]
	if !ok {
		t.Fatal("no manifest.json")
	}
	rc, err := mf.Open()
	if err != nil {
		t.Fatal(err)
	}
	var m bundle.Manifest
	err = json.NewDecoder(rc).Decode(&m)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Entries) == 0 {
		t.Fatal("the manifest lists no entries")
	}
	for _, e := range m.Entries {
		f, ok := entries[e.Path]
		if !ok {
			t.Errorf("manifest entry %s is not in the zip", e.Path)
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		n, err := io.Copy(h, rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != e.SHA256 || n != e.Size {
			t.Errorf("%s: sha256 %s, %d bytes; manifest says %s, %d", e.Path, got, n, e.SHA256, e.Size)
		}
	}
	return &m
}

// checkReflectionAndHealth lists dsard's services by reflection, without
// credentials, as grpcurl does, and checks that it is SERVING.
func checkReflectionAndHealth(t *testing.T, addr string) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	st, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	r, err := st.Recv()
	if err != nil {
		t.Fatal(err)
	}
	_ = st.CloseSend()
	var names []string
	for _, s := range r.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	if !strings.Contains(strings.Join(names, " "), dsarv1.AccessRequestService_ServiceDesc.ServiceName) {
		t.Errorf("reflection lists %v", names)
	}
	h, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: dsarv1.AccessRequestService_ServiceDesc.ServiceName})
	if err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health: %v, %v", h, err)
	}
}
