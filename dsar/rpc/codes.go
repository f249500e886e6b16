package rpc

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// codeTable is the one mapping from domain error codes to gRPC codes. The
// message is shown when the error itself carries none, so that a client
// always learns what to do next.
var codeTable = map[string]struct {
	code    codes.Code
	message string
}{
	dsar.EINVALID:      {codes.InvalidArgument, "the request is malformed; correct it and send it again"},
	dsar.ENOTFOUND:     {codes.NotFound, "not found; check the id"},
	dsar.ECONFLICT:     {codes.AlreadyExists, "conflicts with an existing access request; use a new idempotency key"},
	dsar.EPRECONDITION: {codes.FailedPrecondition, "the access request is not in a state that allows this; get it to see its state"},
	dsar.EUNAVAILABLE:  {codes.Unavailable, "temporarily unavailable; try again later"},
	dsar.EUNAUTHORIZED: {codes.Unauthenticated, "missing or invalid credentials; send a bearer token or a client certificate"},
	dsar.EFORBIDDEN:    {codes.PermissionDenied, "your role may not do this"},
	dsar.EOUTOFRANGE:   {codes.OutOfRange, "out of range"},
	dsar.EINTERNAL:     {codes.Internal, internalMessage},
	dsar.EDATALOSS:     {codes.DataLoss, "the stored bundle is damaged; an operator can rebuild it (dsarctl rebuild)"},
	dsar.EEXHAUSTED:    {codes.ResourceExhausted, "a limit is reached; try again later"},
}

const internalMessage = "internal error"

// toStatus turns an error of the service into the gRPC status the client
// sees. Domain errors keep their message (written for a person, free of
// personal data); internal errors and unknown codes are logged with their
// detail and shown only as "internal error". Errors that already are gRPC
// statuses and context errors pass through with their own codes.
func toStatus(err error, log *slog.Logger) error {
	if err == nil {
		return nil
	}
	var de *dsar.Error
	if !errors.As(err, &de) {
		var se interface{ GRPCStatus() *status.Status }
		if errors.As(err, &se) {
			// The status itself, without the wrapping text.
			return se.GRPCStatus().Err()
		}
		switch {
		case errors.Is(err, context.Canceled):
			return status.Error(codes.Canceled, "the call was cancelled")
		case errors.Is(err, context.DeadlineExceeded):
			return status.Error(codes.DeadlineExceeded, "the call's deadline passed; try again with a longer deadline")
		}
	}
	code := dsar.ErrorCode(err)
	m, ok := codeTable[code]
	if !ok || m.code == codes.Internal {
		log.Error("internal error", "code", code, "err", err)
		var re *requestError
		if errors.As(err, &re) {
			return status.Errorf(codes.Internal, "%s with access request %s; dsard's log and dsard check say more", internalMessage, re.id)
		}
		return status.Error(codes.Internal, internalMessage)
	}
	msg := dsar.ErrorMessage(err)
	if msg == internalMessage {
		// The chain has no message of its own.
		msg = m.message
	}
	return status.Error(m.code, msg)
}

// StatusUnary is where the service's errors become gRPC statuses: handlers
// return domain errors and this interceptor converts them with toStatus,
// once for every method, so that no handler maps a code itself.
func StatusUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err != nil {
			return nil, toStatus(err, log)
		}
		return resp, nil
	}
}

// StatusStream is StatusUnary for streaming handlers.
func StatusStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return toStatus(handler(srv, ss), log)
	}
}

// RecoverUnary turns a panic in a handler into Internal "internal error" and
// logs it with its stack; the client never sees the stack.
func RecoverUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = recovered(log, info.FullMethod, r)
			}
		}()
		return handler(ctx, req)
	}
}

// RecoverStream is RecoverUnary for streaming handlers.
func RecoverStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = recovered(log, info.FullMethod, r)
			}
		}()
		return handler(srv, ss)
	}
}

func recovered(log *slog.Logger, method string, r any) error {
	log.Error("panic in handler", "method", method, "panic", r, "stack", string(debug.Stack()))
	return status.Error(codes.Internal, internalMessage)
}
