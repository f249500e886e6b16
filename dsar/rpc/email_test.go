package rpc

import (
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zoomdsar/zoom-dsar/dsar"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// TestEmailRuleAgrees checks that the service and the domain accept the
// same addresses. The rows marked disagreed are ones the domain used to
// accept and the service rejected.
func TestEmailRuleAgrees(t *testing.T) {
	// The service is called directly: gRPC would not carry invalid UTF-8.
	svc, err := NewService(ServiceConfig{Processor: newFakeProcessor(), SigningKey: make(ed25519.PublicKey, ed25519.PublicKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := WithCaller(t.Context(), Caller{Name: "plat", Role: RolePlatform})
	for i, tc := range []struct {
		email     string
		ok        bool
		disagreed bool
	}{
		{email: "jane.doe@example.com", ok: true},
		{email: "a+tag@sub.example.co.uk", ok: true},
		{email: "\"quoted@local\"@example.com"}, // more than one @
		{email: "jane@doe@example.com"},
		{email: "jane\u202e@example.com"},         // right-to-left override
		{email: "jane\u2066doe@example.com"},      // left-to-right isolate
		{email: "jane\u200bdoe@example.com"},      // zero-width space
		{email: "jane\u200ddoe@example.com"},      // zero-width joiner
		{email: "\ufeffjane@example.com"},         // byte order mark
		{email: "JANE.Doe@Example.com", ok: true}, // case is kept; compared without it
		{email: "ünï@example.com", ok: true},
		{email: strings.Repeat("a", 242) + "@example.com", ok: true}, // 254
		{email: ""},
		{email: "example.com"},
		{email: "@example.com"},
		{email: "jane@"},
		{email: "jane doe@example.com"},
		{email: "jane\t@example.com"},
		{email: "jane\x00@example.com"},
		{email: strings.Repeat("a", 243) + "@example.com"}, // 255
		{email: "jane@localhost", disagreed: true},
		{email: "jane@b", disagreed: true},
		{email: "jane@.example.com", disagreed: true},
		{email: "jane@example.com.", disagreed: true},
		{email: "jane@example..com", disagreed: true},
		{email: "jane@exa(mple).com", disagreed: true},
		{email: "jane@exam;ple.com", disagreed: true},
		{email: "jane\x01@example.com", disagreed: true},
		{email: "jane\x7f@example.com", disagreed: true},
		{email: "jane\xff@example.com", disagreed: true},
	} {
		r := dsar.Request{ID: "r1", Account: "main", Email: tc.email, Regulation: dsar.GDPR, State: dsar.StateQueued}
		domainErr := r.Validate()
		_, rpcErr := svc.CreateAccessRequest(ctx, &dsarv1.CreateAccessRequestRequest{
			Email: tc.email, Account: "main", IdempotencyKey: fmt.Sprintf("k%d", i), Regulation: dsarv1.Regulation_REGULATION_GDPR,
		})
		rpcErr = toStatus(rpcErr, slog.New(slog.DiscardHandler))
		if (domainErr == nil) != tc.ok {
			t.Errorf("row %d: dsar accepts = %v, want %v (%v)", i, domainErr == nil, tc.ok, domainErr)
		}
		if (rpcErr == nil) != tc.ok {
			t.Errorf("row %d: rpc accepts = %v, want %v (%v)", i, rpcErr == nil, tc.ok, rpcErr)
		}
		if rpcErr != nil && status.Code(rpcErr) != codes.InvalidArgument {
			t.Errorf("row %d: rpc code %v, want InvalidArgument", i, status.Code(rpcErr))
		}
		if rpcErr != nil && dsar.ErrorMessage(domainErr) != status.Convert(rpcErr).Message() {
			t.Errorf("row %d: rpc says %q, dsar %q: want one rule, one message", i, status.Convert(rpcErr).Message(), dsar.ErrorMessage(domainErr))
		}
		if tc.email != "" && domainErr != nil && strings.Contains(domainErr.Error(), tc.email) {
			t.Errorf("row %d: the error repeats the address", i)
		}
	}
}
