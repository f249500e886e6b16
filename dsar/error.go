package dsar

import "errors"

// Error codes. The set is short and append-only; dsar/rpc maps each to one
// gRPC code in a single table.
const (
	EINVALID      = "invalid"      // the caller sent something malformed
	ENOTFOUND     = "not_found"    // no such request, section or account
	ECONFLICT     = "conflict"     // e.g. an idempotency key reused with other input
	EPRECONDITION = "precondition" // the request is not in a state that allows this
	EUNAVAILABLE  = "unavailable"  // try again later (Zoom down, quota, shutting down)
	EUNAUTHORIZED = "unauthorized" // no or bad credentials
	EFORBIDDEN    = "forbidden"    // credentials without the right role
	EOUTOFRANGE   = "out_of_range" // e.g. a download offset past the end
	EINTERNAL     = "internal"     // a bug or an unexpected failure
	EDATALOSS     = "data_loss"    // stored data (a bundle) is damaged or missing
	EEXHAUSTED    = "exhausted"    // a caller's limit is reached (streams, failed authentications)
)

// Error is the one error type of the domain. Message is written for a person
// and must not contain personal data or secrets; Err carries the cause for
// logs.
//
// There is one way to build one, the literal that names its fields:
//
//	&dsar.Error{Code: dsar.ENOTFOUND, Op: op, Message: fmt.Sprintf("no request %s", id)}
//	&dsar.Error{Code: dsar.EINTERNAL, Op: op, Err: err}
//
// It reads the same with or without a cause, and a cause can never be
// formatted into the message a client sees by mistake.
type Error struct {
	Code    string // one of the E* constants
	Op      string // the operation, e.g. "dsar.Create"
	Message string
	Err     error
}

func (e *Error) Error() string {
	var s string
	if e.Op != "" {
		s = e.Op + ": "
	}
	if e.Message != "" {
		s += e.Message
	} else {
		s += e.Code
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorCode returns the code of the first *Error in err's chain, or EINTERNAL.
// A nil error has no code.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code != "" {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain that
// has one, or "internal error": the text that may be shown to a client.
func ErrorMessage(err error) string {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			break
		}
		if e.Message != "" {
			return e.Message
		}
		err = e.Err
	}
	return "internal error"
}
