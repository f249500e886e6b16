package rpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zoomdsar/zoom-dsar/dsar"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// allCodes is every error code of package dsar.
var allCodes = []string{
	dsar.EINVALID, dsar.ENOTFOUND, dsar.ECONFLICT, dsar.EPRECONDITION,
	dsar.EUNAVAILABLE, dsar.EUNAUTHORIZED, dsar.EFORBIDDEN, dsar.EOUTOFRANGE,
	dsar.EINTERNAL, dsar.EDATALOSS, dsar.EEXHAUSTED,
}

func TestCodeTableComplete(t *testing.T) {
	seen := map[codes.Code]string{}
	for _, c := range allCodes {
		m, ok := codeTable[c]
		if !ok {
			t.Errorf("dsar code %q has no gRPC code", c)
			continue
		}
		if m.message == "" {
			t.Errorf("dsar code %q has no default message", c)
		}
		if prev, dup := seen[m.code]; dup {
			t.Errorf("dsar codes %q and %q both map to %v", prev, c, m.code)
		}
		seen[m.code] = c
	}
	if len(codeTable) != len(allCodes) {
		t.Errorf("codeTable has %d codes, allCodes %d: update the test", len(codeTable), len(allCodes))
	}
}

func TestToStatus(t *testing.T) {
	const op = "dsar.Test"
	for _, tc := range []struct {
		name     string
		err      error
		code     codes.Code
		msg      string
		logged   string // in the log; "" means nothing logged
		notShown string // must not reach the client
	}{
		{name: "invalid", err: &dsar.Error{Code: dsar.EINVALID, Op: op, Message: "email is required"}, code: codes.InvalidArgument, msg: "email is required"},
		{name: "not found", err: &dsar.Error{Code: dsar.ENOTFOUND, Op: op, Message: "no access request r1"}, code: codes.NotFound, msg: "no access request r1"},
		{name: "conflict", err: &dsar.Error{Code: dsar.ECONFLICT, Op: op, Message: "idempotency key used for another email"}, code: codes.AlreadyExists, msg: "idempotency key used for another email"},
		{name: "precondition", err: &dsar.Error{Code: dsar.EPRECONDITION, Op: op, Message: "request is COMPLETED"}, code: codes.FailedPrecondition, msg: "request is COMPLETED"},
		{name: "unavailable", err: &dsar.Error{Code: dsar.EUNAVAILABLE, Op: op, Message: "shutting down"}, code: codes.Unavailable, msg: "shutting down"},
		{name: "unauthorized", err: &dsar.Error{Code: dsar.EUNAUTHORIZED, Op: op, Message: "no token"}, code: codes.Unauthenticated, msg: "no token"},
		{name: "forbidden", err: &dsar.Error{Code: dsar.EFORBIDDEN, Op: op, Message: "operators only"}, code: codes.PermissionDenied, msg: "operators only"},
		{name: "out of range", err: &dsar.Error{Code: dsar.EOUTOFRANGE, Op: op, Message: "offset 10 past size 5"}, code: codes.OutOfRange, msg: "offset 10 past size 5"},
		{name: "data loss", err: &dsar.Error{Code: dsar.EDATALOSS, Op: op, Message: "the bundle has 10 bytes, 12 recorded"}, code: codes.DataLoss, msg: "the bundle has 10 bytes, 12 recorded"},
		{name: "exhausted", err: &dsar.Error{Code: dsar.EEXHAUSTED, Op: op, Message: "at most 2 streams"}, code: codes.ResourceExhausted, msg: "at most 2 streams"},
		{
			name: "wrapped domain error", code: codes.NotFound, msg: "no access request r1",
			err: fmt.Errorf("rpc.Get: %w", &dsar.Error{Code: dsar.ENOTFOUND, Op: op, Message: "no access request r1"}),
		},
		{
			name: "no message uses the table's", code: codes.FailedPrecondition,
			err: &dsar.Error{Code: dsar.EPRECONDITION, Op: op},
			msg: codeTable[dsar.EPRECONDITION].message,
		},
		{
			name: "cause stays in the server", code: codes.NotFound, msg: "no access request r1", notShown: "bbolt",
			err: &dsar.Error{Code: dsar.ENOTFOUND, Op: op, Message: "no access request r1", Err: errors.New("bbolt: bucket missing")},
		},
		{
			name: "internal", code: codes.Internal, msg: "internal error", logged: "disk on fire", notShown: "disk on fire",
			err: &dsar.Error{Code: dsar.EINTERNAL, Op: op, Message: "disk on fire"},
		},
		{
			name: "unknown code", code: codes.Internal, msg: "internal error", logged: "brand_new",
			err: &dsar.Error{Code: "brand_new", Op: op, Message: "what"},
		},
		{name: "plain error", err: errors.New("boom at 0x1234"), code: codes.Internal, msg: "internal error", logged: "boom at 0x1234", notShown: "0x1234"},
		{name: "status passes through", err: status.Error(codes.ResourceExhausted, "slow down"), code: codes.ResourceExhausted, msg: "slow down"},
		{name: "wrapped status", err: fmt.Errorf("send: %w", status.Error(codes.Aborted, "retry")), code: codes.Aborted, msg: "retry"},
		{name: "canceled", err: fmt.Errorf("watch: %w", context.Canceled), code: codes.Canceled, msg: "the call was cancelled"},
		{name: "deadline", err: context.DeadlineExceeded, code: codes.DeadlineExceeded},
		{
			name: "internal about a request", code: codes.Internal, logged: "no such bucket", notShown: "bucket",
			err: &requestError{id: "01abc", err: &dsar.Error{Code: dsar.EINTERNAL, Op: op, Err: errors.New("no such bucket")}},
			msg: "internal error with access request 01abc; dsard's log and dsard check say more",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := toStatus(tc.err, slog.New(slog.NewTextHandler(&buf, nil)))
			s, ok := status.FromError(err)
			if !ok {
				t.Fatalf("toStatus returned %T %v, not a status", err, err)
			}
			if s.Code() != tc.code {
				t.Errorf("code = %v, want %v", s.Code(), tc.code)
			}
			if tc.msg != "" && s.Message() != tc.msg {
				t.Errorf("message = %q, want %q", s.Message(), tc.msg)
			}
			if s.Message() == "" {
				t.Error("empty message")
			}
			if tc.notShown != "" && strings.Contains(s.Message(), tc.notShown) {
				t.Errorf("message %q shows %q", s.Message(), tc.notShown)
			}
			if tc.logged == "" && buf.Len() > 0 {
				t.Errorf("logged %q, want nothing", buf.String())
			}
			if tc.logged != "" && !strings.Contains(buf.String(), tc.logged) {
				t.Errorf("log %q does not contain %q", buf.String(), tc.logged)
			}
		})
	}
	if err := toStatus(nil, slog.Default()); err != nil {
		t.Errorf("toStatus(nil) = %v", err)
	}
}

// TestStatusInterceptor checks that the server maps the handlers' domain
// errors once, for unary and streaming methods alike: the code from the
// table, the message of the error, and an internal error about one request
// shown as "internal error" naming the request, with the detail in the log.
func TestStatusInterceptor(t *testing.T) {
	fake := newFakeProcessor()
	fake.failOn = "01broken"
	h := newHarness(t, harnessConfig{proc: fake})
	ctx := as(t.Context(), RoleOperator)
	unary := func(id string) error {
		_, err := h.client.GetAccessRequest(ctx, &dsarv1.GetAccessRequestRequest{Id: id})
		return err
	}
	watch := func(id string) error {
		st, err := h.client.WatchAccessRequest(ctx, &dsarv1.WatchAccessRequestRequest{Id: id})
		if err != nil {
			return err
		}
		_, err = st.Recv()
		return err
	}
	download := func(id string) error {
		st, err := h.client.DownloadBundle(as(t.Context(), RoleAuditor), &dsarv1.DownloadBundleRequest{Id: id})
		if err != nil {
			return err
		}
		_, err = st.Recv()
		return err
	}
	for _, call := range []struct {
		name string
		do   func(id string) error
	}{{"unary", unary}, {"watch", watch}, {"download", download}} {
		for _, tc := range []struct {
			id   string
			code codes.Code
			msg  string
		}{
			{"01nosuch", codes.NotFound, `no access request with id "01nosuch"; check the id or list the requests`},
			{"01broken", codes.Internal, "internal error with access request 01broken; dsard's log and dsard check say more"},
			{"BAD ID", codes.InvalidArgument, "id may hold only a-z, 0-9 and '-'; pass the id that CreateAccessRequest returned"},
		} {
			err := call.do(tc.id)
			if s := status.Convert(err); s.Code() != tc.code || s.Message() != tc.msg {
				t.Errorf("%s %s: %v %q, want %v %q", call.name, tc.id, s.Code(), s.Message(), tc.code, tc.msg)
			}
		}
	}
	if !strings.Contains(h.logs.String(), "record does not decode") {
		t.Errorf("the internal error's detail was not logged:\n%s", h.logs.String())
	}
}
