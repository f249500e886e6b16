// Package rpc is zoom-dsar's gRPC service: it validates every call, turns
// messages into domain values and back, authenticates callers (auth.go) and
// reports health (health.go). Handlers return domain errors; one
// interceptor maps them to gRPC codes with one table (codes.go).
package rpc

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
	"github.com/zoomdsar/zoom-dsar/dsar/rpc/client"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// Processor is what the service needs of *dsar.Processor.
type Processor interface {
	Create(ctx context.Context, in dsar.CreateInput) (*dsar.Request, error)
	Request(ctx context.Context, id string) (*dsar.Request, []dsar.Section, error)
	List(ctx context.Context, f dsar.RequestFilter) ([]dsar.Request, string, error)
	Audit(ctx context.Context, f dsar.AuditFilter) ([]dsar.AuditEvent, error)
	Record(ctx context.Context, id, action, detail string) error
	Cancel(ctx context.Context, id, reason string) (*dsar.Request, error)
	Resume(ctx context.Context, id string, probe bool) (*dsar.Request, error)
	RetrySection(ctx context.Context, id, section string, fromStart bool) (*dsar.Request, error)
	Extend(ctx context.Context, id, reason string) (*dsar.Request, error)
	Rebuild(ctx context.Context, id string) (*dsar.Request, error)
	Delete(ctx context.Context, id, reason string) (*dsar.Request, error)
	Manifest(ctx context.Context, id string) ([]byte, error)
	Downloaded(ctx context.Context, id string) (*dsar.Request, error)
	BundleExpiry(r *dsar.Request) time.Time
	Watch(id string) (<-chan struct{}, func())
	Estimate(ctx context.Context, r *dsar.Request, secs []dsar.Section) (dsar.Estimate, error)
	Accounts(ctx context.Context) ([]dsar.Account, error)
	Account(ctx context.Context, name string) (dsar.Account, error)
	CheckAccount(ctx context.Context, name string) (dsar.AccountCheck, error)
	ResetQuota(ctx context.Context, name string) ([]string, error)
	StartAuthorization(ctx context.Context, name string) (authorize, redirect, state string, err error)
	CompleteAuthorization(ctx context.Context, name, code, state string) (dsar.AccountCheck, error)
}

var _ Processor = (*dsar.Processor)(nil)

// Bundles opens the bundle files of completed requests: the service opens
// no file by path. bundle.Files satisfies it.
type Bundles interface {
	// Open opens the bundle of request id and checks its size against
	// the recorded one: a missing file or another size is EDATALOSS.
	Open(id string, b dsar.Bundle) (*os.File, os.FileInfo, error)
	// CheckSum reads an opened bundle whole and checks its SHA-256
	// against the recorded one: another is EDATALOSS.
	CheckSum(ctx context.Context, f io.ReaderAt, id string, b dsar.Bundle) error
}

var _ Bundles = bundle.Files{}

// Limits of the service's input.
const (
	DefaultChunkSize = 256 << 10
	defaultPageSize  = 100
	maxPageSize      = client.MaxPageSize
	maxIDLen         = 64
	maxKeyLen        = 200
	maxReasonLen     = 1000
)

// ServiceConfig configures a Service.
type ServiceConfig struct {
	Processor Processor
	// Bundles opens bundle files for DownloadBundle; nil: bundle.Files.
	Bundles Bundles
	// SigningKey is the public key that signs bundle manifests.
	SigningKey ed25519.PublicKey
	// Windows gives windows_total; nil leaves it unknown.
	Windows WindowsFunc
	Clock   dsar.Clock   // nil: the system clock
	Logger  *slog.Logger // nil: discard
	// ChunkSize is the size of a DownloadBundle chunk; default 256 KiB.
	ChunkSize int
	// Served, if set, is called with the size of every chunk of a bundle
	// sent (for metrics). It must not block.
	Served func(n int)
}

// Service implements dsar.v1.AccessRequestService over a Processor.
type Service struct {
	dsarv1.UnimplementedAccessRequestServiceServer

	cfg         ServiceConfig
	log         *slog.Logger
	conv        converter
	fingerprint string // of the signing key
	closing     chan struct{}
	once        sync.Once
	bufs        sync.Pool

	mu       sync.Mutex
	verified map[string]verifiedFile // bundle files hashed since start, by request id
}

// verifiedFile is a bundle file whose SHA-256 was found to be the recorded
// one: it is not hashed again while it is the same file (inode) with the
// same size and modification time.
type verifiedFile struct {
	info   os.FileInfo
	sha256 string
}

// NewService returns the service.
func NewService(cfg ServiceConfig) (*Service, error) {
	if cfg.Processor == nil {
		return nil, errors.New("rpc.NewService: no processor")
	}
	if len(cfg.SigningKey) != ed25519.PublicKeySize {
		return nil, errors.New("rpc.NewService: the signing public key must be a 32-byte Ed25519 key")
	}
	if cfg.Clock == nil {
		cfg.Clock = dsar.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ChunkSize <= 0 {
		cfg.ChunkSize = DefaultChunkSize
	}
	if cfg.Bundles == nil {
		cfg.Bundles = bundle.Files{}
	}
	s := &Service{
		cfg:         cfg,
		log:         cfg.Logger,
		conv:        converter{windows: cfg.Windows, expiry: cfg.Processor.BundleExpiry},
		fingerprint: bundle.Fingerprint(cfg.SigningKey),
		closing:     make(chan struct{}),
		verified:    make(map[string]verifiedFile),
	}
	size := cfg.ChunkSize
	s.bufs.New = func() any { b := make([]byte, size); return &b }
	return s, nil
}

// Close ends every WatchAccessRequest stream with UNAVAILABLE so that a
// graceful stop of the server does not wait for watchers; downloads in
// flight go on.
func (s *Service) Close() { s.once.Do(func() { close(s.closing) }) }

// Register registers the service on a gRPC server.
func (s *Service) Register(r grpc.ServiceRegistrar) {
	dsarv1.RegisterAccessRequestServiceServer(r, s)
}

// actor puts the authenticated caller into ctx for the audit log.
func actor(ctx context.Context) context.Context {
	c, ok := CallerFrom(ctx)
	if !ok {
		return dsar.WithActor(ctx, dsar.Actor{Name: "anonymous"})
	}
	return dsar.WithActor(ctx, dsar.Actor{Name: c.Name, Role: string(c.Role)})
}

func invalid(op, format string, args ...any) error {
	return &dsar.Error{Code: dsar.EINVALID, Op: op, Message: fmt.Sprintf(format, args...)}
}

// checkID validates a request id: ids are lower-case letters, digits and
// dashes (dsar.NewID).
func checkID(op, id string) error {
	switch {
	case id == "":
		return invalid(op, "id is empty; pass the id that CreateAccessRequest returned")
	case len(id) > maxIDLen:
		return invalid(op, "id is longer than %d characters; pass the id that CreateAccessRequest returned", maxIDLen)
	}
	for _, c := range []byte(id) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return invalid(op, "id may hold only a-z, 0-9 and '-'; pass the id that CreateAccessRequest returned")
		}
	}
	return nil
}

func checkText(op, field, s string, max int) error {
	switch {
	case len(s) > max:
		return invalid(op, "%s is longer than %d characters", field, max)
	case !utf8.ValidString(s):
		return invalid(op, "%s is not valid UTF-8", field)
	case strings.ContainsRune(s, 0):
		return invalid(op, "%s contains a zero byte", field)
	}
	return nil
}

// request reads a request, naming the id when there is no such request.
func (s *Service) request(ctx context.Context, op, id string) (*dsar.Request, []dsar.Section, error) {
	r, secs, err := s.cfg.Processor.Request(ctx, id)
	return r, secs, named(op, id, err)
}

// named gives a not-found error of the processor a message that names the
// id the client sent; other errors pass unchanged.
func named(op, id string, err error) error {
	switch dsar.ErrorCode(err) {
	case dsar.ENOTFOUND:
		return &dsar.Error{Code: dsar.ENOTFOUND, Op: op, Err: err,
			Message: fmt.Sprintf("no access request with id %q; check the id or list the requests", id)}
	case dsar.EINTERNAL:
		return &requestError{id: id, err: err}
	}
	return err
}

// requestError is an internal error about one access request (such as a
// record that does not decode): the client learns which request, so that an
// operator can look for it in the log and with dsard check, and nothing else.
type requestError struct {
	id  string
	err error
}

func (e *requestError) Error() string { return "access request " + e.id + ": " + e.err.Error() }
func (e *requestError) Unwrap() error { return e.err }

// reply reads a request again after a change and converts it.
func (s *Service) reply(ctx context.Context, op string, r *dsar.Request) (*dsarv1.AccessRequest, error) {
	r2, secs, err := s.request(ctx, op, r.ID)
	if err != nil {
		return nil, err
	}
	ar := s.conv.request(r2, secs)
	ar.Estimate = s.estimate(ctx, r2, secs)
	return ar, nil
}

// estimate returns the processor's estimate of a request, nil if it has
// none. An estimate that fails is logged and left out: the request is
// still there to see.
func (s *Service) estimate(ctx context.Context, r *dsar.Request, secs []dsar.Section) *dsarv1.Estimate {
	e, err := s.cfg.Processor.Estimate(ctx, r, secs)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("estimate a request", "request", r.ID, "err", err)
		}
		return nil
	}
	return estimate(e)
}

// CreateAccessRequest validates the input and creates (or, for a used
// idempotency key, returns) a request.
func (s *Service) CreateAccessRequest(ctx context.Context, req *dsarv1.CreateAccessRequestRequest) (*dsarv1.CreateAccessRequestResponse, error) {
	const op = "rpc.CreateAccessRequest"
	ctx = actor(ctx)
	email := strings.TrimSpace(req.GetEmail())
	if err := dsar.CheckEmail(email); err != nil {
		return nil, err
	}
	if req.GetAccount() == "" {
		return nil, invalid(op, "account is empty; name a Zoom account of dsard's accounts config")
	}
	if err := checkText(op, "account", req.GetAccount(), 100); err != nil {
		return nil, err
	}
	key := req.GetIdempotencyKey()
	if strings.TrimSpace(key) == "" {
		return nil, invalid(op, "idempotency_key is empty; choose a unique key so that a retry returns the same request")
	}
	if err := checkText(op, "idempotency_key", key, maxKeyLen); err != nil {
		return nil, err
	}
	reg, ok := regulationFromProto(req.GetRegulation())
	if !ok {
		return nil, invalid(op, "regulation is required: REGULATION_GDPR or REGULATION_CCPA")
	}
	r, err := s.cfg.Processor.Create(ctx, dsar.CreateInput{
		Email: email, Account: req.GetAccount(), IdempotencyKey: key, Regulation: reg,
	})
	if err != nil {
		return nil, err
	}
	ar, err := s.reply(ctx, op, r)
	if err != nil {
		return nil, err
	}
	return &dsarv1.CreateAccessRequestResponse{AccessRequest: ar}, nil
}

// GetAccessRequest returns one request with its sections.
func (s *Service) GetAccessRequest(ctx context.Context, req *dsarv1.GetAccessRequestRequest) (*dsarv1.GetAccessRequestResponse, error) {
	const op = "rpc.GetAccessRequest"
	ctx = actor(ctx)
	if err := checkID(op, req.GetId()); err != nil {
		return nil, err
	}
	r, secs, err := s.request(ctx, op, req.GetId())
	if err != nil {
		return nil, err
	}
	ar := s.conv.request(r, secs)
	ar.Estimate = s.estimate(ctx, r, secs)
	return &dsarv1.GetAccessRequestResponse{AccessRequest: ar}, nil
}

// ListAccessRequests lists requests, without their sections.
func (s *Service) ListAccessRequests(ctx context.Context, req *dsarv1.ListAccessRequestsRequest) (*dsarv1.ListAccessRequestsResponse, error) {
	const op = "rpc.ListAccessRequests"
	ctx = actor(ctx)
	f, err := s.requestFilter(op, req)
	if err != nil {
		return nil, err
	}
	reqs, next, err := s.cfg.Processor.List(ctx, f)
	if err != nil {
		return nil, err
	}
	out := &dsarv1.ListAccessRequestsResponse{NextPageToken: next}
	for i := range reqs {
		out.AccessRequests = append(out.AccessRequests, s.conv.request(&reqs[i], nil))
	}
	return out, nil
}

func (s *Service) requestFilter(op string, req *dsarv1.ListAccessRequestsRequest) (dsar.RequestFilter, error) {
	var f dsar.RequestFilter
	for _, st := range req.GetStates() {
		d, ok := stateFromProto(st)
		if !ok {
			return f, invalid(op, "states: %v is not a request state", st)
		}
		if !slices.Contains(f.States, d) {
			f.States = append(f.States, d)
		}
	}
	if err := checkText(op, "account", req.GetAccount(), 100); err != nil {
		return f, err
	}
	f.Account = req.GetAccount()
	if err := checkText(op, "email", req.GetEmail(), 320); err != nil {
		return f, err
	}
	f.Email = strings.TrimSpace(req.GetEmail())
	if t := req.GetCreatedAfter(); t != nil {
		if err := t.CheckValid(); err != nil {
			return f, invalid(op, "created_after is not a valid time")
		}
		// The domain's bound is exclusive; the API's is inclusive.
		f.CreatedAfter = t.AsTime().Add(-time.Nanosecond)
	}
	if t := req.GetCreatedBefore(); t != nil {
		if err := t.CheckValid(); err != nil {
			return f, invalid(op, "created_before is not a valid time")
		}
		f.CreatedBefore = t.AsTime()
	}
	if !f.CreatedBefore.IsZero() && !f.CreatedAfter.IsZero() && !f.CreatedAfter.Before(f.CreatedBefore) {
		return f, invalid(op, "created_after must be before created_before")
	}
	if d := req.GetDueWithin(); d != nil {
		if err := d.CheckValid(); err != nil || d.AsDuration() < 0 {
			return f, invalid(op, "due_within must be a duration of zero or more")
		}
		f.DueBefore = s.cfg.Clock.Now().Add(d.AsDuration())
	}
	n, err := pageSize(op, req.GetPageSize())
	if err != nil {
		return f, err
	}
	f.Limit = n
	// The token is the last id of the previous page (store.ListRequests).
	tok := req.GetPageToken()
	if tok != "" && checkID(op, tok) != nil {
		return f, invalid(op, "page_token is malformed; pass next_page_token of the previous response")
	}
	f.PageToken = tok
	return f, nil
}

func pageSize(op string, n int32) (int, error) {
	switch {
	case n < 0:
		return 0, invalid(op, "page_size must not be negative")
	case n == 0:
		return defaultPageSize, nil
	}
	return min(int(n), maxPageSize), nil
}

// WatchAccessRequest sends the request now and after every change, until
// it is final, the client goes away or the server shuts down.
func (s *Service) WatchAccessRequest(req *dsarv1.WatchAccessRequestRequest, ss grpc.ServerStreamingServer[dsarv1.WatchAccessRequestResponse]) error {
	const op = "rpc.WatchAccessRequest"
	ctx := actor(ss.Context())
	id := req.GetId()
	if err := checkID(op, id); err != nil {
		return err
	}
	// Subscribe before the first read, so no change falls between them.
	changed, stop := s.cfg.Processor.Watch(id)
	defer stop()
	var last *dsarv1.AccessRequest
	for {
		r, secs, err := s.request(ctx, op, id)
		if err != nil {
			return err
		}
		// A wake-up that changed nothing the client sees sends nothing;
		// the estimate, which moves with the clock, is not compared: the
		// new message borrows the last one's for the comparison. Each
		// message is new, sent once and never changed after, so none is
		// copied.
		ar := s.conv.request(r, secs)
		ar.Estimate = last.GetEstimate()
		if last == nil || !proto.Equal(last, ar) {
			ar.Estimate = s.estimate(ctx, r, secs)
			last = ar
			err := ss.Send(&dsarv1.WatchAccessRequestResponse{
				AccessRequest:           ar,
				EstimatedCompletionTime: ar.GetEstimate().GetCompletionTime(),
			})
			if err != nil {
				return err
			}
		}
		if r.State.Final() {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.closing:
			return &dsar.Error{Code: dsar.EUNAVAILABLE, Op: op, Message: "the server is shutting down; watch again in a moment"}
		}
	}
}

// CancelAccessRequest stops a request for good.
func (s *Service) CancelAccessRequest(ctx context.Context, req *dsarv1.CancelAccessRequestRequest) (*dsarv1.CancelAccessRequestResponse, error) {
	const op = "rpc.CancelAccessRequest"
	ctx = actor(ctx)
	if err := checkID(op, req.GetId()); err != nil {
		return nil, err
	}
	if err := checkText(op, "reason", req.GetReason(), maxReasonLen); err != nil {
		return nil, err
	}
	r, err := s.cfg.Processor.Cancel(ctx, req.GetId(), req.GetReason())
	if err != nil {
		return nil, named(op, req.GetId(), err)
	}
	ar, err := s.reply(ctx, op, r)
	if err != nil {
		return nil, err
	}
	return &dsarv1.CancelAccessRequestResponse{AccessRequest: ar}, nil
}

// DeleteAccessRequest removes a request's bundle and collected data at
// once, cancelling it first if it is in progress.
func (s *Service) DeleteAccessRequest(ctx context.Context, req *dsarv1.DeleteAccessRequestRequest) (*dsarv1.DeleteAccessRequestResponse, error) {
	const op = "rpc.DeleteAccessRequest"
	ctx = actor(ctx)
	if err := checkID(op, req.GetId()); err != nil {
		return nil, err
	}
	if err := checkText(op, "reason", req.GetReason(), maxReasonLen); err != nil {
		return nil, err
	}
	r, err := s.cfg.Processor.Delete(ctx, req.GetId(), req.GetReason())
	if err != nil {
		return nil, named(op, req.GetId(), err)
	}
	ar, err := s.reply(ctx, op, r)
	if err != nil {
		return nil, err
	}
	return &dsarv1.DeleteAccessRequestResponse{AccessRequest: ar}, nil
}

// ResumeAccessRequest goes on with a request from its checkpoints.
func (s *Service) ResumeAccessRequest(ctx context.Context, req *dsarv1.ResumeAccessRequestRequest) (*dsarv1.ResumeAccessRequestResponse, error) {
	const op = "rpc.ResumeAccessRequest"
	ctx = actor(ctx)
	if err := checkID(op, req.GetId()); err != nil {
		return nil, err
	}
	r, err := s.cfg.Processor.Resume(ctx, req.GetId(), req.GetProbe())
	if err != nil {
		return nil, named(op, req.GetId(), err)
	}
	ar, err := s.reply(ctx, op, r)
	if err != nil {
		return nil, err
	}
	return &dsarv1.ResumeAccessRequestResponse{AccessRequest: ar}, nil
}

// RetrySection fetches one section again.
func (s *Service) RetrySection(ctx context.Context, req *dsarv1.RetrySectionRequest) (*dsarv1.RetrySectionResponse, error) {
	const op = "rpc.RetrySection"
	ctx = actor(ctx)
	if err := checkID(op, req.GetId()); err != nil {
		return nil, err
	}
	if !slices.Contains(dsar.Sections, req.GetSection()) {
		return nil, invalid(op, "section must be one of %s", strings.Join(dsar.Sections, ", "))
	}
	r, err := s.cfg.Processor.RetrySection(ctx, req.GetId(), req.GetSection(), req.GetFromStart())
	if err != nil {
		return nil, named(op, req.GetId(), err)
	}
	ar, err := s.reply(ctx, op, r)
	if err != nil {
		return nil, err
	}
	return &dsarv1.RetrySectionResponse{AccessRequest: ar}, nil
}

// ExtendDeadline extends a request's due time once, by what its regulation
// allows.
func (s *Service) ExtendDeadline(ctx context.Context, req *dsarv1.ExtendDeadlineRequest) (*dsarv1.ExtendDeadlineResponse, error) {
	const op = "rpc.ExtendDeadline"
	ctx = actor(ctx)
	if err := checkID(op, req.GetId()); err != nil {
		return nil, err
	}
	if strings.TrimSpace(req.GetReason()) == "" {
		return nil, invalid(op, "reason is required: say why the request needs more time")
	}
	if err := checkText(op, "reason", req.GetReason(), maxReasonLen); err != nil {
		return nil, err
	}
	// The days come from the request's regulation (dsar.Deadlines).
	r, err := s.cfg.Processor.Extend(ctx, req.GetId(), req.GetReason())
	if err != nil {
		return nil, named(op, req.GetId(), err)
	}
	ar, err := s.reply(ctx, op, r)
	if err != nil {
		return nil, err
	}
	return &dsarv1.ExtendDeadlineResponse{AccessRequest: ar}, nil
}

// DownloadBundle streams a completed request's bundle from an offset and
// records the download, with the caller, in the audit log first: a bundle
// that cannot be audited is not served.
func (s *Service) DownloadBundle(req *dsarv1.DownloadBundleRequest, ss grpc.ServerStreamingServer[dsarv1.DownloadBundleResponse]) error {
	const op = "rpc.DownloadBundle"
	ctx := actor(ss.Context())
	id, off, want := req.GetId(), req.GetOffset(), req.GetExpectedSha256()
	if err := checkID(op, id); err != nil {
		return err
	}
	if off < 0 {
		return invalid(op, "offset must not be negative")
	}
	if want != "" && !isSHA256Hex(want) {
		return invalid(op, "expected_sha256 must be 64 lower-case hex digits")
	}
	r, _, err := s.request(ctx, op, id)
	if err != nil {
		return err
	}
	b := r.Bundle
	switch {
	case r.Purged():
		return &dsar.Error{Code: dsar.EPRECONDITION, Op: op, Message: fmt.Sprintf("the bundle of request %s was %s", id, r.Purge.Text())}
	case r.State != dsar.StateCompleted:
		return &dsar.Error{Code: dsar.EPRECONDITION, Op: op, Message: fmt.Sprintf("the request is %s; its bundle can be downloaded once it is COMPLETED", r.State)}
	case b.Path == "" || b.SHA256 == "":
		return &dsar.Error{Code: dsar.EINTERNAL, Op: op, Message: fmt.Sprintf("completed request %s has no bundle", id)}
	case want != "" && want != b.SHA256:
		return &dsar.Error{Code: dsar.EPRECONDITION, Op: op, Message: fmt.Sprintf("the bundle's SHA-256 is %s, not the expected %s; download it again from offset 0", b.SHA256, want)}
	case off > b.Size:
		return &dsar.Error{Code: dsar.EOUTOFRANGE, Op: op, Message: fmt.Sprintf("offset %d is past the end of the %d-byte bundle", off, b.Size)}
	}
	f, err := s.openBundle(ctx, id, b)
	if err != nil {
		return err
	}
	defer f.Close()
	detail := fmt.Sprintf("bytes %d-%d of %d, sha256 %s", off, b.Size, b.Size, b.SHA256)
	if err := s.cfg.Processor.Record(ctx, id, dsar.ActionDownload, detail); err != nil {
		return err
	}
	hdr := &dsarv1.DownloadBundleResponse{Part: &dsarv1.DownloadBundleResponse_Header{
		Header: &dsarv1.DownloadBundleHeader{SizeBytes: b.Size, Sha256: b.SHA256, Offset: off},
	}}
	if err := ss.Send(hdr); err != nil {
		return err
	}
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	buf := *bp
	chunk := &dsarv1.DownloadBundleResponse_Chunk{}
	msg := &dsarv1.DownloadBundleResponse{Part: chunk}
	whole := off < b.Size // a call that sends the last byte is a whole download
	for off < b.Size {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), b.Size-off)], off)
		if n == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				s.mu.Lock()
				delete(s.verified, id)
				s.mu.Unlock()
				err := &dsar.Error{Code: dsar.EDATALOSS, Op: op, Message: fmt.Sprintf("the bundle file of request %s shrank to %d bytes while it was sent; an operator can rebuild it: dsarctl rebuild %s", id, off, id)}
				s.log.Error("bundle damaged; not served", "request", id, "err", err)
				return err
			}
			return &dsar.Error{Code: dsar.EINTERNAL, Op: op, Err: fmt.Errorf("read bundle of %s: %w", id, err)}
		}
		// SendMsg serialises the message before it returns, so buf may be
		// reused for the next chunk.
		chunk.Chunk = buf[:n]
		if err := ss.Send(msg); err != nil {
			return err
		}
		if s.cfg.Served != nil {
			s.cfg.Served(n)
		}
		off += int64(n)
	}
	if whole {
		// The client has every byte: a failure to count it is the
		// server's to log, not the download's.
		if _, err := s.cfg.Processor.Downloaded(context.WithoutCancel(ctx), id); err != nil {
			s.log.Error("count a whole download", "request", id, "err", err)
		}
	}
	return nil
}

// openBundle opens a completed request's bundle file after checking it
// against what was recorded at assembly: its size on every call, its
// SHA-256 once after start and again whenever the file changed. A damaged
// or missing file is DATA_LOSS with the reason, and logged for operators.
func (s *Service) openBundle(ctx context.Context, id string, b dsar.Bundle) (*os.File, error) {
	f, fi, err := s.cfg.Bundles.Open(id, b)
	if err == nil && !s.isVerified(id, b, fi) {
		if err = s.cfg.Bundles.CheckSum(ctx, f, id, b); err == nil {
			s.mu.Lock()
			s.verified[id] = verifiedFile{info: fi, sha256: b.SHA256}
			s.mu.Unlock()
		}
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		s.mu.Lock()
		delete(s.verified, id)
		s.mu.Unlock()
		if dsar.ErrorCode(err) == dsar.EDATALOSS {
			s.log.Error("bundle damaged; not served", "request", id, "err", err)
		}
		return nil, err
	}
	return f, nil
}

func (s *Service) isVerified(id string, b dsar.Bundle, fi os.FileInfo) bool {
	s.mu.Lock()
	v, ok := s.verified[id]
	s.mu.Unlock()
	return ok && v.sha256 == b.SHA256 && os.SameFile(v.info, fi) &&
		v.info.Size() == fi.Size() && v.info.ModTime().Equal(fi.ModTime())
}

// RebuildBundle writes a completed request's damaged or missing bundle
// again from its stored pages, byte for byte the recorded one.
func (s *Service) RebuildBundle(ctx context.Context, req *dsarv1.RebuildBundleRequest) (*dsarv1.RebuildBundleResponse, error) {
	const op = "rpc.RebuildBundle"
	ctx = actor(ctx)
	if err := checkID(op, req.GetId()); err != nil {
		return nil, err
	}
	r, err := s.cfg.Processor.Rebuild(ctx, req.GetId())
	if err != nil {
		return nil, named(op, req.GetId(), err)
	}
	ar, err := s.reply(ctx, op, r)
	if err != nil {
		return nil, err
	}
	return &dsarv1.RebuildBundleResponse{AccessRequest: ar}, nil
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ListAuditEvents lists the audit log, oldest first. The page token is the
// sequence number of the last event returned.
func (s *Service) ListAuditEvents(ctx context.Context, req *dsarv1.ListAuditEventsRequest) (*dsarv1.ListAuditEventsResponse, error) {
	const op = "rpc.ListAuditEvents"
	ctx = actor(ctx)
	if id := req.GetRequestId(); id != "" {
		if err := checkID(op, id); err != nil {
			return nil, err
		}
	}
	n, err := pageSize(op, req.GetPageSize())
	if err != nil {
		return nil, err
	}
	var after uint64
	if tok := req.GetPageToken(); tok != "" {
		if after, err = strconv.ParseUint(tok, 10, 64); err != nil {
			return nil, invalid(op, "page_token is malformed; pass next_page_token of the previous response")
		}
	}
	f := dsar.AuditFilter{Request: req.GetRequestId(), After: after, Limit: n}
	if t := req.GetStartTime(); t != nil {
		if t.CheckValid() != nil {
			return nil, invalid(op, "start_time is not a valid time")
		}
		f.Since = t.AsTime()
	}
	if t := req.GetEndTime(); t != nil {
		if t.CheckValid() != nil {
			return nil, invalid(op, "end_time is not a valid time")
		}
		f.Until = t.AsTime()
	}
	evs, err := s.cfg.Processor.Audit(ctx, f)
	if err != nil {
		return nil, err
	}
	out := &dsarv1.ListAuditEventsResponse{}
	for i := range evs {
		out.AuditEvents = append(out.AuditEvents, auditEvent(&evs[i]))
	}
	if len(evs) == n {
		out.NextPageToken = strconv.FormatUint(evs[len(evs)-1].Seq, 10)
	}
	return out, nil
}

// GetManifest returns the manifest of a completed request's bundle, its
// subject replaced by the email's keyed hash, before and after the purge.
func (s *Service) GetManifest(ctx context.Context, req *dsarv1.GetManifestRequest) (*dsarv1.GetManifestResponse, error) {
	const op = "rpc.GetManifest"
	ctx = actor(ctx)
	if err := checkID(op, req.GetId()); err != nil {
		return nil, err
	}
	m, err := s.cfg.Processor.Manifest(ctx, req.GetId())
	switch dsar.ErrorCode(err) {
	case "":
	case dsar.ENOTFOUND:
		// No such request, or a purged one that keeps no manifest: only
		// then is the request read, to tell which.
		if _, _, rerr := s.request(ctx, op, req.GetId()); rerr != nil {
			return nil, rerr
		}
		return nil, err
	case dsar.EINTERNAL:
		return nil, named(op, req.GetId(), err)
	default:
		return nil, err
	}
	return &dsarv1.GetManifestResponse{Manifest: m}, nil
}

// GetSigningKey returns the public key of the bundle signatures.
func (s *Service) GetSigningKey(context.Context, *dsarv1.GetSigningKeyRequest) (*dsarv1.GetSigningKeyResponse, error) {
	return &dsarv1.GetSigningKeyResponse{
		PublicKey:   slices.Clone(s.cfg.SigningKey),
		Fingerprint: s.fingerprint,
	}, nil
}
