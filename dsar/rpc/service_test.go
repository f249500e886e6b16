package rpc

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
	"github.com/zoomdsar/zoom-dsar/store"
	"github.com/zoomdsar/zoom-dsar/zoomclient"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// syncBuffer is a log sink safe for the server's goroutines.
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

// harness is the real service over the real processor, store and the Zoom
// emulator, served over bufconn with NewServer's interceptors.
type harness struct {
	zoom   *zoomtest.Server
	svc    *Service
	health *Health
	logs   *syncBuffer
	pub    ed25519.PublicKey
	client dsarv1.AccessRequestServiceClient
	conn   *grpc.ClientConn
	proc   Processor
	dir    string // the real processor's data directory
}

type harnessConfig struct {
	proc       Processor // instead of the real one
	chunkSize  int
	maxStreams uint32
	maxWatches int
	// keepCollected keeps the real processor's stored pages once a
	// bundle is verified, for a rebuild.
	keepCollected bool
}

func newHarness(t testing.TB, hc harnessConfig) *harness {
	t.Helper()
	h := &harness{logs: &syncBuffer{}}
	log := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h.pub = pub
	proc := hc.proc
	var zooms map[string]dsar.Zoom
	if proc == nil {
		h.zoom = zoomtest.NewServer(t, zoomtest.WithLimits(zoomtest.Limits{Off: true}))
		dir := t.TempDir()
		h.dir = dir
		db, err := store.Open(filepath.Join(dir, "dsar.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		a := h.zoom.Account()
		tr := http.DefaultTransport.(*http.Transport).Clone()
		t.Cleanup(tr.CloseIdleConnections)
		c, err := zoomclient.New(zoomclient.Config{
			AccountID: a.ID, ClientID: a.ClientID, ClientSecret: a.ClientSecret, Plan: string(a.Plan),
			APIURL: h.zoom.APIURL, TokenURL: h.zoom.TokenURL, Logger: log,
			HTTPClient: &http.Client{Transport: tr},
		})
		if err != nil {
			t.Fatal(err)
		}
		zooms = map[string]dsar.Zoom{"main": zoomclient.NewSource(c)}
		p, err := dsar.NewProcessor(dsar.Config{
			Store: db, Accounts: zooms, Logger: log, Owner: "test",
			Assembler: &bundle.Assembler{Store: db, Dir: filepath.Join(dir, "bundles"), Key: key, Version: "test"},
			Retention: dsar.Retention{KeepCollected: hc.keepCollected},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		proc = p
	}
	h.proc = proc
	h.svc, err = NewService(ServiceConfig{
		Processor: proc, SigningKey: pub, Logger: log, ChunkSize: hc.chunkSize,
		Windows: func(account, section, part string, start time.Time) []dsar.Span {
			if z := zooms[account]; z != nil {
				return z.Windows(section, part, start)
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.health = NewHealth()
	toks, err := ParseTokens(strings.NewReader(
		"platform plat " + hashHex("tok-p") + "\n" +
			"operator ops " + hashHex("tok-o") + "\n" +
			"auditor aud " + hashHex("tok-a") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(ServerConfig{Service: h.svc, Auth: &Auth{Tokens: toks, Audit: proc, Logger: log}, Health: h.health, Logger: log,
		MaxStreams: hc.maxStreams, MaxWatches: hc.maxWatches})
	if err != nil {
		t.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(lis)
	}()
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		h.svc.Close()
		s.Stop()
		<-done
	})
	h.conn = conn
	h.client = dsarv1.NewAccessRequestServiceClient(conn)
	return h
}

// as returns a context that authenticates as a role's test token.
func as(ctx context.Context, role Role) context.Context {
	return withToken(ctx, map[Role]string{RolePlatform: "tok-p", RoleOperator: "tok-o", RoleAuditor: "tok-a"}[role])
}

// create opens a request for the emulator's well-known subject.
func (h *harness) create(t testing.TB, key string) *dsarv1.AccessRequest {
	t.Helper()
	resp, err := h.client.CreateAccessRequest(as(t.Context(), RolePlatform), &dsarv1.CreateAccessRequestRequest{
		Email: zoomtest.JaneEmail, Account: "main", IdempotencyKey: key, Regulation: dsarv1.Regulation_REGULATION_GDPR,
	})
	if err != nil {
		t.Fatalf("CreateAccessRequest: %v", err)
	}
	return resp.GetAccessRequest()
}

// watch follows a request to its end and returns every message.
func (h *harness) watch(t testing.TB, id string) []*dsarv1.WatchAccessRequestResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(as(t.Context(), RolePlatform), 2*time.Minute)
	defer cancel()
	st, err := h.client.WatchAccessRequest(ctx, &dsarv1.WatchAccessRequestRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []*dsarv1.WatchAccessRequestResponse
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return msgs
		}
		if err != nil {
			t.Fatalf("watch: %v", err)
		}
		msgs = append(msgs, m)
	}
}

// completed creates a request and waits for its bundle.
func (h *harness) completed(t testing.TB) *dsarv1.AccessRequest {
	t.Helper()
	r := h.create(t, "k-"+rand.Text())
	msgs := h.watch(t, r.GetId())
	last := msgs[len(msgs)-1].GetAccessRequest()
	if last.GetState() != dsarv1.RequestState_REQUEST_STATE_COMPLETED {
		t.Fatalf("request ended %v (%s)", last.GetState(), last.GetReason())
	}
	return last
}

// download reads a bundle from off and returns the header and the bytes.
func download(ctx context.Context, c dsarv1.AccessRequestServiceClient, req *dsarv1.DownloadBundleRequest) (*dsarv1.DownloadBundleHeader, []byte, error) {
	st, err := c.DownloadBundle(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	var hdr *dsarv1.DownloadBundleHeader
	var data []byte
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return hdr, data, nil
		}
		if err != nil {
			return hdr, data, err
		}
		if m.GetHeader() != nil {
			hdr = m.GetHeader()
		}
		data = append(data, m.GetChunk()...)
	}
}

func TestServiceFlow(t *testing.T) {
	h := newHarness(t, harnessConfig{chunkSize: 16 << 10})
	r := h.create(t, "flow")
	if r.GetState() == dsarv1.RequestState_REQUEST_STATE_UNSPECIFIED || len(r.GetSections()) != len(dsar.Sections) {
		t.Fatalf("created %v with %d sections", r.GetState(), len(r.GetSections()))
	}
	again := h.create(t, "flow")
	if again.GetId() != r.GetId() {
		t.Errorf("same idempotency key gave %s, then %s", r.GetId(), again.GetId())
	}
	msgs := h.watch(t, r.GetId())
	if len(msgs) < 2 {
		t.Errorf("watch sent %d messages, want the first state and at least one change", len(msgs))
	}
	last := msgs[len(msgs)-1].GetAccessRequest()
	if last.GetState() != dsarv1.RequestState_REQUEST_STATE_COMPLETED {
		t.Fatalf("watch ended with %v (%s)", last.GetState(), last.GetReason())
	}
	if last.GetOutcome() != dsarv1.Outcome_OUTCOME_USER_FOUND {
		t.Errorf("outcome %v, want USER_FOUND", last.GetOutcome())
	}
	for _, s := range last.GetSections() {
		if s.GetWindowsTotal() > 0 && s.GetState() == dsarv1.SectionState_SECTION_STATE_COMPLETE && s.GetWindowsDone() != s.GetWindowsTotal() {
			t.Errorf("section %s complete with %d of %d windows", s.GetName(), s.GetWindowsDone(), s.GetWindowsTotal())
		}
	}
	b := last.GetBundle()
	if b.GetSizeBytes() == 0 || b.GetKeyFingerprint() != bundle.Fingerprint(h.pub) {
		t.Fatalf("bundle %v, want a size and the fingerprint %s", b, bundle.Fingerprint(h.pub))
	}

	hdr, data, err := download(as(t.Context(), RoleAuditor), h.client, &dsarv1.DownloadBundleRequest{Id: r.GetId()})
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != b.GetSha256() || hdr.GetSha256() != got || int64(len(data)) != hdr.GetSizeBytes() {
		t.Fatalf("downloaded %d bytes with sha256 %s; header %v; bundle %v", len(data), got, hdr, b)
	}
	if _, err := bundle.Verify(bytes.NewReader(data), int64(len(data)), h.pub); err != nil {
		t.Errorf("downloaded bundle does not verify: %v", err)
	}

	// Resume from the middle: the two halves make the whole.
	half := int64(len(data) / 2)
	hdr2, rest, err := download(as(t.Context(), RolePlatform), h.client,
		&dsarv1.DownloadBundleRequest{Id: r.GetId(), Offset: half, ExpectedSha256: b.GetSha256()})
	if err != nil {
		t.Fatalf("resumed download: %v", err)
	}
	if hdr2.GetOffset() != half || !bytes.Equal(rest, data[half:]) {
		t.Errorf("resume from %d: header offset %d, %d bytes; want the rest (%d bytes)", half, hdr2.GetOffset(), len(rest), len(data)-int(half))
	}
	// At the very end: a header and no bytes.
	hdr3, none, err := download(as(t.Context(), RolePlatform), h.client,
		&dsarv1.DownloadBundleRequest{Id: r.GetId(), Offset: int64(len(data))})
	if err != nil || hdr3 == nil || len(none) != 0 {
		t.Errorf("download at the end: header %v, %d bytes, %v; want a header only", hdr3, len(none), err)
	}

	// The audit log names every caller.
	resp, err := h.client.ListAuditEvents(as(t.Context(), RoleOperator), &dsarv1.ListAuditEventsRequest{RequestId: r.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	var downloads []string
	var createdBy string
	for _, ev := range resp.GetAuditEvents() {
		switch ev.GetAction() {
		case "DownloadBundle":
			downloads = append(downloads, ev.GetCaller()+"/"+ev.GetRole())
		case "CreateAccessRequest":
			createdBy = ev.GetCaller()
		}
	}
	if want := []string{"aud/auditor", "plat/platform", "plat/platform"}; strings.Join(downloads, ",") != strings.Join(want, ",") {
		t.Errorf("download audit events by %v, want %v", downloads, want)
	}
	if createdBy != "plat" {
		t.Errorf("create audited as by %q, want plat", createdBy)
	}
	if logs := h.logs.String(); strings.Contains(logs, zoomtest.JaneEmail) {
		t.Errorf("the logs name the subject's email")
	}
}

func TestOperatorActions(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	r := h.completed(t)
	ctx := as(t.Context(), RoleOperator)
	ext, err := h.client.ExtendDeadline(ctx, &dsarv1.ExtendDeadlineRequest{Id: r.GetId(), Reason: "complex request"})
	if err != nil {
		t.Fatalf("ExtendDeadline: %v", err)
	}
	x := ext.GetAccessRequest().GetExtension()
	wantDue := r.GetDueTime().AsTime().AddDate(0, 0, 60)
	if x.GetExtendedBy() != "ops" || x.GetReason() != "complex request" ||
		!ext.GetAccessRequest().GetDueTime().AsTime().Equal(wantDue) || !x.GetPreviousDueTime().AsTime().Equal(r.GetDueTime().AsTime()) {
		t.Errorf("extension %v, due %v; want by ops, due %v, previous due %v", x, ext.GetAccessRequest().GetDueTime().AsTime(), wantDue, r.GetDueTime().AsTime())
	}
	_, err = h.client.ExtendDeadline(ctx, &dsarv1.ExtendDeadlineRequest{Id: r.GetId(), Reason: "again"})
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("second extension: %v, want FailedPrecondition", err)
	}
	_, err = h.client.CancelAccessRequest(ctx, &dsarv1.CancelAccessRequestRequest{Id: r.GetId(), Reason: "too late"})
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("cancel of a completed request: %v, want FailedPrecondition", err)
	}
	_, err = h.client.ResumeAccessRequest(ctx, &dsarv1.ResumeAccessRequestRequest{Id: r.GetId()})
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("resume of a completed request: %v, want FailedPrecondition", err)
	}
	_, err = h.client.RetrySection(ctx, &dsarv1.RetrySectionRequest{Id: r.GetId(), Section: dsar.SectionMeetings})
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("retry of a completed request: %v, want FailedPrecondition", err)
	}
	list, err := h.client.ListAccessRequests(ctx, &dsarv1.ListAccessRequestsRequest{
		States: []dsarv1.RequestState{dsarv1.RequestState_REQUEST_STATE_COMPLETED},
	})
	if err != nil || len(list.GetAccessRequests()) != 1 || list.GetAccessRequests()[0].GetId() != r.GetId() {
		t.Errorf("list of COMPLETED: %v, %v; want the one request", list, err)
	}
	for email, want := range map[string]int{strings.ToUpper(r.GetEmail()): 1, "other@example.com": 0} {
		list, err = h.client.ListAccessRequests(ctx, &dsarv1.ListAccessRequestsRequest{Email: email})
		if err != nil || len(list.GetAccessRequests()) != want {
			t.Errorf("list of email %s: %v, %v; want %d", email, list.GetAccessRequests(), err, want)
		}
	}
	list, err = h.client.ListAccessRequests(ctx, &dsarv1.ListAccessRequestsRequest{
		States: []dsarv1.RequestState{dsarv1.RequestState_REQUEST_STATE_FAILED},
	})
	if err != nil || len(list.GetAccessRequests()) != 0 {
		t.Errorf("list of FAILED: %v, %v; want none", list, err)
	}
	evs, err := h.client.ListAuditEvents(as(t.Context(), RoleAuditor), &dsarv1.ListAuditEventsRequest{RequestId: r.GetId(), PageSize: 1})
	if err != nil || len(evs.GetAuditEvents()) != 1 || evs.GetNextPageToken() == "" {
		t.Fatalf("audit page of 1: %v, %v", evs, err)
	}
	var actions []string
	req := &dsarv1.ListAuditEventsRequest{RequestId: r.GetId(), PageSize: 1}
	for {
		evs, err := h.client.ListAuditEvents(as(t.Context(), RoleAuditor), req)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs.GetAuditEvents() {
			actions = append(actions, ev.GetAction()+" by "+ev.GetCaller())
		}
		if evs.GetNextPageToken() == "" {
			break
		}
		req.PageToken = evs.GetNextPageToken()
	}
	if !strings.Contains(strings.Join(actions, ";"), "ExtendDeadline by ops") {
		t.Errorf("audit log %v has no extension by ops", actions)
	}
}

func TestCancelAndDownloadRefused(t *testing.T) {
	// A processor that never runs requests: the request stays QUEUED.
	fake := newFakeProcessor()
	h := newHarness(t, harnessConfig{proc: fake})
	ctx := as(t.Context(), RoleOperator)
	r, err := h.client.CreateAccessRequest(ctx, &dsarv1.CreateAccessRequestRequest{
		Email: "someone@example.com", Account: "main", IdempotencyKey: "k", Regulation: dsarv1.Regulation_REGULATION_CCPA,
	})
	if err != nil {
		t.Fatal(err)
	}
	id := r.GetAccessRequest().GetId()
	_, _, err = download(ctx, h.client, &dsarv1.DownloadBundleRequest{Id: id})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(status.Convert(err).Message(), "COMPLETED") {
		t.Errorf("download of a QUEUED request: %v, want FailedPrecondition naming COMPLETED", err)
	}
	c, err := h.client.CancelAccessRequest(ctx, &dsarv1.CancelAccessRequestRequest{Id: id, Reason: "withdrawn"})
	if err != nil || c.GetAccessRequest().GetState() != dsarv1.RequestState_REQUEST_STATE_CANCELLED {
		t.Fatalf("cancel: %v, %v", c, err)
	}
	if got := fake.actor(); got != (dsar.Actor{Name: "ops", Role: "operator"}) {
		t.Errorf("cancel ran as %v, want ops (operator)", got)
	}
}

func TestValidation(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	done := h.completed(t)
	id, size, sum := done.GetId(), done.GetBundle().GetSizeBytes(), done.GetBundle().GetSha256()
	ctx := as(t.Context(), RoleOperator)
	c := h.client
	create := func(email, account, key string, reg dsarv1.Regulation) error {
		_, err := c.CreateAccessRequest(ctx, &dsarv1.CreateAccessRequestRequest{Email: email, Account: account, IdempotencyKey: key, Regulation: reg})
		return err
	}
	gdpr := dsarv1.Regulation_REGULATION_GDPR
	dl := func(req *dsarv1.DownloadBundleRequest) error {
		_, _, err := download(ctx, c, req)
		return err
	}
	for _, tc := range []struct {
		name string
		call func() error
		want codes.Code
	}{
		{"create: empty email", func() error { return create("", "main", "k", gdpr) }, codes.InvalidArgument},
		{"create: malformed email", func() error { return create("jane.doe.example.com", "main", "k", gdpr) }, codes.InvalidArgument},
		{"create: email without domain", func() error { return create("jane@", "main", "k", gdpr) }, codes.InvalidArgument},
		{"create: email with space", func() error { return create("jane doe@example.com", "main", "k", gdpr) }, codes.InvalidArgument},
		{"create: email domain without dot", func() error { return create("jane@localhost", "main", "k", gdpr) }, codes.InvalidArgument},
		{"create: email too long", func() error { return create(strings.Repeat("a", 250)+"@example.com", "main", "k", gdpr) }, codes.InvalidArgument},
		{"create: empty account", func() error { return create("x@example.com", "", "k", gdpr) }, codes.InvalidArgument},
		{"create: unknown account", func() error { return create("x@example.com", "nope", "k", gdpr) }, codes.NotFound},
		{"create: empty key", func() error { return create("x@example.com", "main", "", gdpr) }, codes.InvalidArgument},
		{"create: blank key", func() error { return create("x@example.com", "main", "  ", gdpr) }, codes.InvalidArgument},
		{"create: key too long", func() error { return create("x@example.com", "main", strings.Repeat("k", 201), gdpr) }, codes.InvalidArgument},
		{"create: no regulation", func() error { return create("x@example.com", "main", "k", 0) }, codes.InvalidArgument},
		{"create: unknown regulation", func() error { return create("x@example.com", "main", "k", 42) }, codes.InvalidArgument},
		{"create: key reused with another email", func() error {
			if err := create("first@example.com", "main", "reused", gdpr); err != nil {
				return err
			}
			return create("second@example.com", "main", "reused", gdpr)
		}, codes.AlreadyExists},
		{"get: empty id", func() error {
			_, err := c.GetAccessRequest(ctx, &dsarv1.GetAccessRequestRequest{})
			return err
		}, codes.InvalidArgument},
		{"get: malformed id", func() error {
			_, err := c.GetAccessRequest(ctx, &dsarv1.GetAccessRequestRequest{Id: "../etc/passwd"})
			return err
		}, codes.InvalidArgument},
		{"get: id too long", func() error {
			_, err := c.GetAccessRequest(ctx, &dsarv1.GetAccessRequestRequest{Id: strings.Repeat("a", 65)})
			return err
		}, codes.InvalidArgument},
		{"get: unknown id", func() error {
			_, err := c.GetAccessRequest(ctx, &dsarv1.GetAccessRequestRequest{Id: "01nosuchrequest"})
			return err
		}, codes.NotFound},
		{"list: unknown account", func() error {
			_, err := c.ListAccessRequests(ctx, &dsarv1.ListAccessRequestsRequest{Account: "nosuch"})
			return err
		}, codes.NotFound},
		{"list: email too long", func() error {
			_, err := c.ListAccessRequests(ctx, &dsarv1.ListAccessRequestsRequest{Email: strings.Repeat("a", 321)})
			return err
		}, codes.InvalidArgument},
		{"list: negative page size", func() error {
			_, err := c.ListAccessRequests(ctx, &dsarv1.ListAccessRequestsRequest{PageSize: -1})
			return err
		}, codes.InvalidArgument},
		{"list: unknown state", func() error {
			_, err := c.ListAccessRequests(ctx, &dsarv1.ListAccessRequestsRequest{States: []dsarv1.RequestState{99}})
			return err
		}, codes.InvalidArgument},
		{"list: unspecified state", func() error {
			_, err := c.ListAccessRequests(ctx, &dsarv1.ListAccessRequestsRequest{States: []dsarv1.RequestState{0}})
			return err
		}, codes.InvalidArgument},
		{"list: negative due_within", func() error {
			_, err := c.ListAccessRequests(ctx, &dsarv1.ListAccessRequestsRequest{DueWithin: durationpb.New(-time.Hour)})
			return err
		}, codes.InvalidArgument},
		{"list: created_after after created_before", func() error {
			now := time.Now()
			_, err := c.ListAccessRequests(ctx, &dsarv1.ListAccessRequestsRequest{
				CreatedAfter: timestamppb.New(now), CreatedBefore: timestamppb.New(now.Add(-time.Hour))})
			return err
		}, codes.InvalidArgument},
		{"list: invalid timestamp", func() error {
			_, err := c.ListAccessRequests(ctx, &dsarv1.ListAccessRequestsRequest{CreatedAfter: &timestamppb.Timestamp{Nanos: -1}})
			return err
		}, codes.InvalidArgument},
		{"watch: malformed id", func() error {
			st, err := c.WatchAccessRequest(ctx, &dsarv1.WatchAccessRequestRequest{Id: "A B"})
			if err != nil {
				return err
			}
			_, err = st.Recv()
			return err
		}, codes.InvalidArgument},
		{"watch: unknown id", func() error {
			st, err := c.WatchAccessRequest(ctx, &dsarv1.WatchAccessRequestRequest{Id: "01nosuchrequest"})
			if err != nil {
				return err
			}
			_, err = st.Recv()
			return err
		}, codes.NotFound},
		{"cancel: unknown id", func() error {
			_, err := c.CancelAccessRequest(ctx, &dsarv1.CancelAccessRequestRequest{Id: "01nosuchrequest"})
			return err
		}, codes.NotFound},
		{"cancel: reason too long", func() error {
			_, err := c.CancelAccessRequest(ctx, &dsarv1.CancelAccessRequestRequest{Id: id, Reason: strings.Repeat("r", 1001)})
			return err
		}, codes.InvalidArgument},
		{"resume: empty id", func() error {
			_, err := c.ResumeAccessRequest(ctx, &dsarv1.ResumeAccessRequestRequest{})
			return err
		}, codes.InvalidArgument},
		{"resume: unknown id", func() error {
			_, err := c.ResumeAccessRequest(ctx, &dsarv1.ResumeAccessRequestRequest{Id: "01nosuchrequest"})
			return err
		}, codes.NotFound},
		{"retry: unknown id", func() error {
			_, err := c.RetrySection(ctx, &dsarv1.RetrySectionRequest{Id: "01nosuchrequest", Section: dsar.SectionMeetings})
			return err
		}, codes.NotFound},
		{"retry: unknown section", func() error {
			_, err := c.RetrySection(ctx, &dsarv1.RetrySectionRequest{Id: id, Section: "chat"})
			return err
		}, codes.InvalidArgument},
		{"retry: empty section", func() error {
			_, err := c.RetrySection(ctx, &dsarv1.RetrySectionRequest{Id: id})
			return err
		}, codes.InvalidArgument},
		{"extend: no reason", func() error {
			_, err := c.ExtendDeadline(ctx, &dsarv1.ExtendDeadlineRequest{Id: id, Reason: " "})
			return err
		}, codes.InvalidArgument},
		{"extend: unknown id", func() error {
			_, err := c.ExtendDeadline(ctx, &dsarv1.ExtendDeadlineRequest{Id: "01nosuchrequest", Reason: "r"})
			return err
		}, codes.NotFound},
		{"download: empty id", func() error { return dl(&dsarv1.DownloadBundleRequest{}) }, codes.InvalidArgument},
		{"download: unknown id", func() error { return dl(&dsarv1.DownloadBundleRequest{Id: "01nosuchrequest"}) }, codes.NotFound},
		{"download: negative offset", func() error { return dl(&dsarv1.DownloadBundleRequest{Id: id, Offset: -1}) }, codes.InvalidArgument},
		{"download: offset past the end", func() error { return dl(&dsarv1.DownloadBundleRequest{Id: id, Offset: size + 1}) }, codes.OutOfRange},
		{"download: malformed sha256", func() error { return dl(&dsarv1.DownloadBundleRequest{Id: id, ExpectedSha256: "ABC"}) }, codes.InvalidArgument},
		{"download: upper-case sha256", func() error {
			return dl(&dsarv1.DownloadBundleRequest{Id: id, ExpectedSha256: strings.ToUpper(sum)})
		}, codes.InvalidArgument},
		{"download: another bundle's sha256", func() error {
			return dl(&dsarv1.DownloadBundleRequest{Id: id, ExpectedSha256: strings.Repeat("0", 64)})
		}, codes.FailedPrecondition},
		{"audit: malformed page token", func() error {
			_, err := c.ListAuditEvents(ctx, &dsarv1.ListAuditEventsRequest{PageToken: "x"})
			return err
		}, codes.InvalidArgument},
		{"audit: overflowing page token", func() error {
			_, err := c.ListAuditEvents(ctx, &dsarv1.ListAuditEventsRequest{PageToken: "18446744073709551616"})
			return err
		}, codes.InvalidArgument},
		{"audit: negative page token", func() error {
			_, err := c.ListAuditEvents(ctx, &dsarv1.ListAuditEventsRequest{PageToken: "-1"})
			return err
		}, codes.InvalidArgument},
		{"list: garbage page token", func() error {
			_, err := c.ListAccessRequests(ctx, &dsarv1.ListAccessRequestsRequest{PageToken: "../\x00garbage"})
			return err
		}, codes.InvalidArgument},
		{"list: overlong page token", func() error {
			_, err := c.ListAccessRequests(ctx, &dsarv1.ListAccessRequestsRequest{PageToken: strings.Repeat("9", 1000)})
			return err
		}, codes.InvalidArgument},
		{"audit: malformed request id", func() error {
			_, err := c.ListAuditEvents(ctx, &dsarv1.ListAuditEventsRequest{RequestId: "A"})
			return err
		}, codes.InvalidArgument},
		{"audit: negative page size", func() error {
			_, err := c.ListAuditEvents(ctx, &dsarv1.ListAuditEventsRequest{PageSize: -5})
			return err
		}, codes.InvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if got := status.Code(err); got != tc.want {
				t.Fatalf("code %v (%v), want %v", got, err, tc.want)
			}
			msg := status.Convert(err).Message()
			if msg == "" || msg == internalMessage {
				t.Errorf("message %q says nothing a person can act on", msg)
			}
			if strings.HasSuffix(tc.name, "unknown id") && !strings.Contains(msg, "01nosuchrequest") {
				t.Errorf("message %q does not name the unknown id", msg)
			}
			for _, pii := range []string{"jane.doe", "first@example.com", "second@example.com", "x@example.com"} {
				if strings.Contains(msg, pii) {
					t.Errorf("message %q repeats the email", msg)
				}
			}
		})
	}
}

// TestRoles calls every method of the service with every role and checks
// that exactly the roles of methodRoles get past authorisation.
func TestRoles(t *testing.T) {
	h := newHarness(t, harnessConfig{proc: newFakeProcessor()})
	c := h.client
	id := "01abc"
	calls := map[string]func(ctx context.Context) error{
		dsarv1.AccessRequestService_CreateAccessRequest_FullMethodName: func(ctx context.Context) error {
			_, err := c.CreateAccessRequest(ctx, &dsarv1.CreateAccessRequestRequest{Email: "a@example.com", Account: "main", IdempotencyKey: "k", Regulation: 1})
			return err
		},
		dsarv1.AccessRequestService_GetAccessRequest_FullMethodName: func(ctx context.Context) error {
			_, err := c.GetAccessRequest(ctx, &dsarv1.GetAccessRequestRequest{Id: id})
			return err
		},
		dsarv1.AccessRequestService_ListAccessRequests_FullMethodName: func(ctx context.Context) error {
			_, err := c.ListAccessRequests(ctx, &dsarv1.ListAccessRequestsRequest{})
			return err
		},
		dsarv1.AccessRequestService_WatchAccessRequest_FullMethodName: func(ctx context.Context) error {
			st, err := c.WatchAccessRequest(ctx, &dsarv1.WatchAccessRequestRequest{Id: id})
			if err != nil {
				return err
			}
			_, err = st.Recv()
			return err
		},
		dsarv1.AccessRequestService_CancelAccessRequest_FullMethodName: func(ctx context.Context) error {
			_, err := c.CancelAccessRequest(ctx, &dsarv1.CancelAccessRequestRequest{Id: id})
			return err
		},
		dsarv1.AccessRequestService_ResumeAccessRequest_FullMethodName: func(ctx context.Context) error {
			_, err := c.ResumeAccessRequest(ctx, &dsarv1.ResumeAccessRequestRequest{Id: id})
			return err
		},
		dsarv1.AccessRequestService_RetrySection_FullMethodName: func(ctx context.Context) error {
			_, err := c.RetrySection(ctx, &dsarv1.RetrySectionRequest{Id: id, Section: dsar.SectionProfile})
			return err
		},
		dsarv1.AccessRequestService_ExtendDeadline_FullMethodName: func(ctx context.Context) error {
			_, err := c.ExtendDeadline(ctx, &dsarv1.ExtendDeadlineRequest{Id: id, Reason: "r"})
			return err
		},
		dsarv1.AccessRequestService_DownloadBundle_FullMethodName: func(ctx context.Context) error {
			_, _, err := download(ctx, c, &dsarv1.DownloadBundleRequest{Id: id})
			return err
		},
		dsarv1.AccessRequestService_RebuildBundle_FullMethodName: func(ctx context.Context) error {
			_, err := c.RebuildBundle(ctx, &dsarv1.RebuildBundleRequest{Id: id})
			return err
		},
		dsarv1.AccessRequestService_DeleteAccessRequest_FullMethodName: func(ctx context.Context) error {
			_, err := c.DeleteAccessRequest(ctx, &dsarv1.DeleteAccessRequestRequest{Id: id})
			return err
		},
		dsarv1.AccessRequestService_ListAuditEvents_FullMethodName: func(ctx context.Context) error {
			_, err := c.ListAuditEvents(ctx, &dsarv1.ListAuditEventsRequest{})
			return err
		},
		dsarv1.AccessRequestService_GetManifest_FullMethodName: func(ctx context.Context) error {
			_, err := c.GetManifest(ctx, &dsarv1.GetManifestRequest{Id: id})
			return err
		},
		dsarv1.AccessRequestService_GetSigningKey_FullMethodName: func(ctx context.Context) error {
			_, err := c.GetSigningKey(ctx, &dsarv1.GetSigningKeyRequest{})
			return err
		},
		dsarv1.AccessRequestService_ListAccounts_FullMethodName: func(ctx context.Context) error {
			_, err := c.ListAccounts(ctx, &dsarv1.ListAccountsRequest{})
			return err
		},
		dsarv1.AccessRequestService_CheckAccount_FullMethodName: func(ctx context.Context) error {
			_, err := c.CheckAccount(ctx, &dsarv1.CheckAccountRequest{Name: "main"})
			return err
		},
		dsarv1.AccessRequestService_ResetAccountQuota_FullMethodName: func(ctx context.Context) error {
			_, err := c.ResetAccountQuota(ctx, &dsarv1.ResetAccountQuotaRequest{Name: "main"})
			return err
		},
		dsarv1.AccessRequestService_StartAccountAuthorization_FullMethodName: func(ctx context.Context) error {
			_, err := c.StartAccountAuthorization(ctx, &dsarv1.StartAccountAuthorizationRequest{Name: "main"})
			return err
		},
		dsarv1.AccessRequestService_CompleteAccountAuthorization_FullMethodName: func(ctx context.Context) error {
			_, err := c.CompleteAccountAuthorization(ctx, &dsarv1.CompleteAccountAuthorizationRequest{Name: "main", Code: "c", State: "s"})
			return err
		},
	}
	for _, m := range dsarv1.AccessRequestService_ServiceDesc.Methods {
		if calls["/"+dsarv1.AccessRequestService_ServiceDesc.ServiceName+"/"+m.MethodName] == nil {
			t.Errorf("no call for method %s", m.MethodName)
		}
	}
	for method, call := range calls {
		for _, role := range Roles {
			t.Run(method[strings.LastIndexByte(method, '/')+1:]+"/"+string(role), func(t *testing.T) {
				err := call(as(t.Context(), role))
				denied := status.Code(err) == codes.PermissionDenied
				if allowed := Allowed(role, method); denied == allowed {
					t.Errorf("role %s: %v; allowed by the table: %v", role, err, allowed)
				}
			})
		}
		t.Run(method[strings.LastIndexByte(method, '/')+1:]+"/anonymous", func(t *testing.T) {
			if err := call(t.Context()); status.Code(err) != codes.Unauthenticated {
				t.Errorf("no token: %v, want Unauthenticated", err)
			}
		})
	}
}

func TestWatchEndsOnClose(t *testing.T) {
	fake := newFakeProcessor()
	h := newHarness(t, harnessConfig{proc: fake})
	ctx := as(t.Context(), RolePlatform)
	r, err := h.client.CreateAccessRequest(ctx, &dsarv1.CreateAccessRequestRequest{
		Email: "a@example.com", Account: "main", IdempotencyKey: "k", Regulation: 1})
	if err != nil {
		t.Fatal(err)
	}
	st, err := h.client.WatchAccessRequest(ctx, &dsarv1.WatchAccessRequestRequest{Id: r.GetAccessRequest().GetId()})
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.Recv()
	if err != nil || m.GetAccessRequest().GetState() != dsarv1.RequestState_REQUEST_STATE_QUEUED {
		t.Fatalf("first message %v, %v; want the QUEUED request", m, err)
	}
	fake.setState(r.GetAccessRequest().GetId(), dsar.StateRunning)
	m, err = st.Recv()
	if err != nil || m.GetAccessRequest().GetState() != dsarv1.RequestState_REQUEST_STATE_RUNNING {
		t.Fatalf("after a change %v, %v; want RUNNING", m, err)
	}
	h.svc.Close()
	if _, err := st.Recv(); status.Code(err) != codes.Unavailable {
		t.Errorf("after Close: %v, want Unavailable", err)
	}
}

func TestPanicIsInternal(t *testing.T) {
	fake := newFakeProcessor()
	fake.panicOn = "01panic"
	h := newHarness(t, harnessConfig{proc: fake})
	_, err := h.client.GetAccessRequest(as(t.Context(), RoleOperator), &dsarv1.GetAccessRequestRequest{Id: "01panic"})
	if status.Code(err) != codes.Internal || status.Convert(err).Message() != internalMessage {
		t.Errorf("panic: %v, want Internal %q", err, internalMessage)
	}
	// The server goes on serving.
	if _, err := h.client.GetSigningKey(as(t.Context(), RoleOperator), &dsarv1.GetSigningKeyRequest{}); err != nil {
		t.Errorf("after a panic: %v", err)
	}
	if !strings.Contains(h.logs.String(), "panic in handler") {
		t.Errorf("the panic was not logged")
	}
}

func TestLogLines(t *testing.T) {
	fake := newFakeProcessor()
	h := newHarness(t, harnessConfig{proc: fake})
	r, err := h.client.CreateAccessRequest(as(t.Context(), RolePlatform), &dsarv1.CreateAccessRequestRequest{
		Email: "secret.person@example.com", Account: "main", IdempotencyKey: "k", Regulation: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = h.client.GetAccessRequest(as(t.Context(), RoleAuditor), &dsarv1.GetAccessRequestRequest{Id: "01nosuch"})
	// An email sent as an id, with and without credentials, is not an id
	// and is not logged.
	_, _ = h.client.GetAccessRequest(as(t.Context(), RoleAuditor), &dsarv1.GetAccessRequestRequest{Id: "secret.person@example.com"})
	_, _ = h.client.GetAccessRequest(t.Context(), &dsarv1.GetAccessRequestRequest{Id: "secret.person@example.com"})
	logs := h.logs.String()
	for _, want := range []string{
		`"method":"/dsar.v1.AccessRequestService/CreateAccessRequest","code":"OK"`,
		`"request":"` + r.GetAccessRequest().GetId() + `","caller":"plat","role":"platform"`,
		`"code":"NotFound"`, `"request":"01nosuch","caller":"aud"`,
		`"request":"invalid","caller":"aud"`, `"code":"Unauthenticated"`, `"error":"missing credentials`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	// Before authentication nothing of the call is logged, not even a
	// valid id.
	_, _ = h.client.GetAccessRequest(t.Context(), &dsarv1.GetAccessRequestRequest{Id: "01validbutanonymous"})
	if strings.Contains(h.logs.String(), "01validbutanonymous") {
		t.Errorf("an unauthenticated call's id is logged")
	}
	if strings.Contains(logs, "secret.person") {
		t.Errorf("logs name the subject")
	}
}

func FuzzValidation(f *testing.F) {
	f.Add("jane.doe@example.com", "main", "key", int32(1), "01abc", int64(0), "")
	f.Add("", "", "", int32(0), "", int64(-1), "x")
	f.Add("a@b", "nope", " ", int32(3), "A B", int64(1<<62), strings.Repeat("f", 64))
	f.Add("x\x00y@example.com", "main", strings.Repeat("k", 300), int32(-1), "../x", int64(5), "zz")
	fake := newFakeProcessor()
	svc, err := NewService(ServiceConfig{Processor: fake, SigningKey: make(ed25519.PublicKey, ed25519.PublicKeySize)})
	if err != nil {
		f.Fatal(err)
	}
	allowed := map[codes.Code]bool{codes.OK: true, codes.InvalidArgument: true, codes.NotFound: true,
		codes.FailedPrecondition: true, codes.OutOfRange: true, codes.AlreadyExists: true}
	f.Fuzz(func(t *testing.T, email, account, key string, reg int32, id string, off int64, sum string) {
		ctx := WithCaller(context.Background(), Caller{Name: "fuzz", Role: RoleOperator})
		check := func(what string, err error) {
			st := status.Convert(toStatus(err, slog.New(slog.DiscardHandler)))
			if !allowed[st.Code()] {
				t.Errorf("%s: code %v (%v)", what, st.Code(), err)
			}
			if len(email) >= 6 && strings.Contains(email, "@") && strings.Contains(st.Message(), email) {
				t.Errorf("%s: message %q repeats the email", what, st.Message())
			}
		}
		_, err := svc.CreateAccessRequest(ctx, &dsarv1.CreateAccessRequestRequest{Email: email, Account: account, IdempotencyKey: key, Regulation: dsarv1.Regulation(reg)})
		check("create", err)
		if err == nil && dsar.CheckEmail(strings.TrimSpace(email)) != nil {
			t.Errorf("create accepted a malformed email")
		}
		_, err = svc.GetAccessRequest(ctx, &dsarv1.GetAccessRequestRequest{Id: id})
		check("get", err)
		_, err = svc.ListAccessRequests(ctx, &dsarv1.ListAccessRequestsRequest{Account: account, PageSize: reg, PageToken: key,
			States: []dsarv1.RequestState{dsarv1.RequestState(reg)}})
		check("list", err)
		_, err = svc.RetrySection(ctx, &dsarv1.RetrySectionRequest{Id: id, Section: account})
		check("retry", err)
		_, err = svc.ListAuditEvents(ctx, &dsarv1.ListAuditEventsRequest{RequestId: id, PageToken: key, PageSize: reg})
		check("audit", err)
		err = svc.DownloadBundle(&dsarv1.DownloadBundleRequest{Id: id, Offset: off, ExpectedSha256: sum}, discardStream{ctx: ctx})
		check("download", err)
	})
}

// discardStream is a DownloadBundle stream that drops what is sent.
type discardStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (discardStream) Send(*dsarv1.DownloadBundleResponse) error { return nil }
func (s discardStream) Context() context.Context                { return s.ctx }

// TestAuditFilterPassed checks that ListAuditEvents hands every bound to
// the processor's (the store's) filter rather than filtering what it read.
func TestAuditFilterPassed(t *testing.T) {
	fake := newFakeProcessor()
	h := newHarness(t, harnessConfig{proc: fake})
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	end := start.Add(24 * time.Hour)
	resp, err := h.client.ListAuditEvents(as(t.Context(), RoleAuditor), &dsarv1.ListAuditEventsRequest{
		RequestId: "01abc", StartTime: timestamppb.New(start), EndTime: timestamppb.New(end), PageSize: 3, PageToken: "7",
	})
	if err != nil {
		t.Fatal(err)
	}
	fake.mu.Lock()
	got := fake.audit
	fake.mu.Unlock()
	want := dsar.AuditFilter{Request: "01abc", After: 7, Since: start, Until: end, Limit: 3}
	if got != want {
		t.Errorf("filter %+v, want %+v", got, want)
	}
	if n, next := len(resp.GetAuditEvents()), resp.GetNextPageToken(); n != 3 || next != "10" {
		t.Errorf("%d events, next page %q; want 3, \"10\"", n, next)
	}
}

// TestIdempotencyKeyPerCaller goes through the real processor and store:
// the platform's key does not answer the operator's call with the same
// key, and the platform's own retry with the email in another case gets
// its request back.
func TestIdempotencyKeyPerCaller(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	create := func(ctx context.Context, email string) (*dsarv1.AccessRequest, error) {
		r, err := h.client.CreateAccessRequest(ctx, &dsarv1.CreateAccessRequestRequest{
			Email: email, Account: "main", IdempotencyKey: "same-key", Regulation: dsarv1.Regulation_REGULATION_GDPR})
		return r.GetAccessRequest(), err
	}
	first, err := create(as(t.Context(), RolePlatform), "first@example.com")
	if err != nil {
		t.Fatal(err)
	}
	other, err := create(as(t.Context(), RoleOperator), "second@example.com")
	if err != nil || other.GetId() == first.GetId() {
		t.Fatalf("the operator's call with the platform's key: %v, %v; want a request of its own", other.GetId(), err)
	}
	again, err := create(as(t.Context(), RolePlatform), "First@Example.com")
	if err != nil || again.GetId() != first.GetId() {
		t.Errorf("the platform's retry, the email in another case: %v, %v; want %s", again.GetId(), err, first.GetId())
	}
	if _, err := create(as(t.Context(), RolePlatform), "second@example.com"); status.Code(err) != codes.AlreadyExists {
		t.Errorf("the platform's key with another email: %v, want AlreadyExists", err)
	}
}

// TestEstimateInAPI: Create, Get and Watch carry the processor's
// estimate; Watch's estimated_completion_time is its completion time.
func TestEstimateInAPI(t *testing.T) {
	fake := newFakeProcessor() // its estimate: 3 Medium calls, done a day before the due date
	h := newHarness(t, harnessConfig{proc: fake})
	ctx := as(t.Context(), RolePlatform)
	r, err := h.client.CreateAccessRequest(ctx, &dsarv1.CreateAccessRequestRequest{
		Email: "a@example.com", Account: "main", IdempotencyKey: "k", Regulation: dsarv1.Regulation_REGULATION_GDPR})
	if err != nil {
		t.Fatal(err)
	}
	ar := r.GetAccessRequest()
	want := ar.GetDueTime().AsTime().AddDate(0, 0, -1)
	check := func(how string, e *dsarv1.Estimate) {
		t.Helper()
		if len(e.GetCalls()) != 1 || e.GetCalls()[0].GetBucket() != "Medium" || e.GetCalls()[0].GetCalls() != 3 ||
			!e.GetCompletionTime().AsTime().Equal(want) || e.GetAtRisk() {
			t.Errorf("%s: estimate %v, want 3 Medium calls done at %s", how, e, want)
		}
	}
	check("create", ar.GetEstimate())
	g, err := h.client.GetAccessRequest(ctx, &dsarv1.GetAccessRequestRequest{Id: ar.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	check("get", g.GetAccessRequest().GetEstimate())
	st, err := h.client.WatchAccessRequest(ctx, &dsarv1.WatchAccessRequestRequest{Id: ar.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.Recv()
	if err != nil {
		t.Fatal(err)
	}
	check("watch", m.GetAccessRequest().GetEstimate())
	if !m.GetEstimatedCompletionTime().AsTime().Equal(want) {
		t.Errorf("watch: estimated completion %v, want %s", m.GetEstimatedCompletionTime(), want)
	}
}

// TestGetManifestReadsOnlyTheManifest: GetManifest asks the processor for
// the manifest alone, so a request whose sections cannot be read (failOn
// fails Request) still gives it; only a not-found reads the request, to
// tell a request that does not exist, named as such.
func TestGetManifestReadsOnlyTheManifest(t *testing.T) {
	fake := newFakeProcessor()
	h := newHarness(t, harnessConfig{proc: fake})
	id := h.create(t, "k").GetId()
	fake.failOn = id
	ctx := as(t.Context(), RoleAuditor)
	if m, err := h.client.GetManifest(ctx, &dsarv1.GetManifestRequest{Id: id}); err != nil || string(m.GetManifest()) != "{}\n" {
		t.Errorf("GetManifest: %q, %v; want the manifest without reading the request", m.GetManifest(), err)
	}
	_, err := h.client.GetManifest(ctx, &dsarv1.GetManifestRequest{Id: "01nope"})
	if status.Code(err) != codes.NotFound || !strings.Contains(status.Convert(err).Message(), "no access request with id") {
		t.Errorf("GetManifest of no request: %v, want NotFound naming the id", err)
	}
}
