package dsar

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Zoom is one Zoom account as the processor sees it. zoomclient adapts the
// REST API to it; the processor knows sections and parts, the adapter knows
// endpoints.
type Zoom interface {
	// LookupUser finds the Zoom user with an email address and returns the
	// profile as Zoom sent it, with the user's id as its one id. No such
	// user is a *ZoomError of kind ZoomNotFound.
	LookupUser(ctx context.Context, email string) (Fetched, error)
	// Shape says where a part's records sit in a page Zoom sends: the list
	// field ("" when the page is the record) and the record's id field.
	Shape(section, part string) (list, id string)
	// Windows returns the date windows a part is fetched in, most recent
	// first, for a collection that started at start; nil when the endpoint
	// takes no dates.
	Windows(section, part string, start time.Time) []Span
	// Served returns the part of window w that Zoom still served at at
	// (whose own limit, such as six months, may have moved past w's
	// start since the request began), false when none of it was.
	Served(section, part string, w Span, at time.Time) (Span, bool)
	// Items reads from a stored page of from ("section/part", one of
	// ItemsFrom(section, part)) the items part is fetched for, in order.
	// A page it cannot read is an error.
	Items(section, part, from string, page []byte) ([]Item, error)
	// Fetch gets the page of a part at cur for the subject: its window's
	// dates (none for a part without windows), its item for a part fetched
	// item by item, and Zoom's page token, empty for the window's first
	// page. An adapter that leaves other people's records out of a page
	// (Team Chat) does so here, before the page is stored.
	Fetch(ctx context.Context, subject Subject, section, part string, cur Cursor) (Fetched, error)
	// Note says, for the manifest and the report, what of a section the
	// adapter leaves out by design (other people's messages under the
	// account's Team Chat policy); "" for nothing.
	Note(section string) string
	// Files lists the files the records of a stored page point to (none
	// for a part whose records have none), each with the id of its record,
	// a stable Name (ValidMediaName), its URL and its size if Zoom lists
	// it. A page it cannot read is an error.
	Files(section, part string, page []byte) ([]MediaFile, error)
	// Download writes the file at url to w from byte offset on and returns
	// the bytes written and the HTTP calls made, retries included, on
	// failure too; size is the file's whole size, 0 if unknown. A file
	// Zoom no longer has is a *ZoomError of kind ZoomNotFound.
	Download(ctx context.Context, url string, offset int64, w io.Writer, size int64) (n int64, calls int, err error)
}

// Subject is the Zoom user an access request is about.
type Subject struct {
	ID    string // Zoom's user id
	Email string // the address the request named
}

// Fetched is one page as Zoom sent it.
type Fetched struct {
	Body []byte
	// IDs are the ids of its records, in order, "" for a record without
	// one; an object page is one record. They are stored with the page and
	// are the only ids the bundle uses.
	IDs           []string
	NextPageToken string // "" on the window's last page
	Calls         int    // HTTP calls made for the page, retries included
	// Refs are the ids of records on later pages of the window that the
	// kept records refer to and the adapter must keep (the message a
	// subject's Team Chat reply answers); the next cursor carries them.
	Refs []string
}

// ZoomErrorKind says what the processor should do about a failed call.
type ZoomErrorKind int

const (
	// ZoomUnavailable: Zoom failed and retries are spent; the section fails
	// keeping its checkpoints and may be resumed later.
	ZoomUnavailable ZoomErrorKind = iota + 1
	// ZoomNotFound: the user does not exist; for a download, the file.
	ZoomNotFound
	// ZoomNotApplicable: the data does not exist for this user or account
	// (no Phone licence, no webinar add-on, free plan): an answer.
	ZoomNotApplicable
	// ZoomQuota: the daily limit of a rate-limit category is spent until
	// Until.
	ZoomQuota
	// ZoomPageTokenExpired: the window must be fetched again from its start.
	ZoomPageTokenExpired
	// ZoomRejected: Zoom refused the call (credentials, a missing scope, a
	// bad request): an operator must act before a retry can help.
	ZoomRejected
	// ZoomExpired: Zoom no longer holds what the cursor names, an item
	// deleted since a list named it or a window that has passed out of
	// the months Zoom serves: the part goes on past it.
	ZoomExpired
	// ZoomOutage: Zoom kept failing; the account's calls pause until
	// Until, when one call probes whether Zoom is back. A section waits
	// (WAITING_ZOOM) rather than fails, until the give-up point.
	ZoomOutage
)

// ZoomError is a failed Zoom call, classified. Message is Zoom's own (code
// and text), which names no person.
type ZoomError struct {
	Kind    ZoomErrorKind
	Code    int    // Zoom's error code, or the HTTP status
	Message string // for a person: Zoom's message or a sentence of ours
	Until   time.Time
	Calls   int // HTTP calls made before the failure, retries included
	Err     error
}

func (e *ZoomError) Error() string {
	s := e.Message
	if e.Code != 0 {
		s = fmt.Sprintf("zoom code %d: %s", e.Code, e.Message)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *ZoomError) Unwrap() error { return e.Err }
