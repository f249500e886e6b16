package dsar

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Regulation is the law an access request is made under; it sets the due
// date.
type Regulation string

const (
	GDPR Regulation = "gdpr"
	CCPA Regulation = "ccpa"
)

// Deadline is what a regulation gives an organisation to answer: days from
// the request, and the days its one extension adds (0: none).
type Deadline struct {
	Days      int
	Extension int
}

// Deadlines is the one table of the regulations' periods, by regulation:
// the due date of a new request and the length of an extension both come
// from it.
type Deadlines map[Regulation]Deadline

// DefaultDeadlines are the statutory periods: GDPR one month (taken as 30
// days) and, by Art. 12(3), two further months (taken as 60 days); CCPA 45
// days and 45 further days.
var DefaultDeadlines = Deadlines{
	GDPR: {Days: 30, Extension: 60},
	CCPA: {Days: 45, Extension: 45},
}

// Due returns the due date of a request made under r at created.
func (d Deadlines) Due(r Regulation, created time.Time) (time.Time, error) {
	dl, ok := d[r]
	if !ok || dl.Days <= 0 {
		return time.Time{}, &Error{Code: EINVALID, Op: "dsar.Due", Message: fmt.Sprintf("unknown regulation %q", string(r))}
	}
	return created.AddDate(0, 0, dl.Days), nil
}

// ExtensionDays returns the days an extension of a request made under r
// adds.
func (d Deadlines) ExtensionDays(r Regulation) (int, error) {
	dl, ok := d[r]
	if !ok || dl.Extension <= 0 {
		return 0, &Error{Code: EPRECONDITION, Op: "dsar.ExtensionDays", Message: fmt.Sprintf("regulation %q allows no extension", string(r))}
	}
	return dl.Extension, nil
}

// Outcomes of a completed request besides the normal one ("").
const (
	OutcomeNoZoomUser = "no_zoom_user" // Zoom knows no user with that email
)

// Request is one data-subject access request. Email is personal data: it is
// stored but never logged (see LogValue).
type Request struct {
	ID             string
	Account        string // the Zoom account, as named in the config
	Email          string // the data subject
	Regulation     Regulation
	IdempotencyKey string
	State          State
	Reason         string // why FAILED or CANCELLED, for a person
	Outcome        string // "" or OutcomeNoZoomUser
	ZoomUserID     string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	DueAt          time.Time
	Extension      *Extension // at most one
	WaitingUntil   time.Time  // when WAITING_QUOTA or WAITING_ZOOM, the time to go on
	Lease          Lease
	Bundle         Bundle
	// EmailHash is the keyed hash of the normalised email (keyed by the
	// store), stored from creation on: once the bundle is purged it
	// replaces Email, and the request stays findable by the address.
	EmailHash   string
	CompletedAt time.Time // when it became COMPLETED; retention counts from it
	Downloads   int       // whole downloads of the bundle (the last byte sent)
	Purge       Purge
	// Deferred says why, when it came, its account could not promise to
	// complete it by its due date (Processor.admit); "" if it could. A
	// deferred request was flagged at risk then, and it waits behind the
	// requests the account promised (Rank).
	Deferred string
}

// Rank is the request's place in its account's due order (WithDue,
// DueQueue): its due date, or for a deferred request that date a
// thousand years on, so that the deferred come after every promised
// request and in due order among themselves.
func (r *Request) Rank() time.Time {
	if r.Deferred != "" {
		return r.DueAt.AddDate(1000, 0, 0)
	}
	return r.DueAt
}

// Purge records what retention (or an operator's delete) removed of a
// request, when and why. What remains is its metadata, the bundle's
// SHA-256 and the audit trail.
type Purge struct {
	// CollectedAt: its stored pages, cursors' tokens and media files were
	// deleted, once the bundle holding them was verified.
	CollectedAt time.Time
	// BundleAt: its bundle file was deleted and the email replaced by its
	// hash.
	BundleAt time.Time
	Reason   string // why the bundle was deleted, for a person
	// Manifest: the bundle's manifest was kept, its subject hashed
	// (Store.Manifest); false when the bundle was missing or damaged.
	Manifest bool
}

// Purged reports whether the bundle and the email are gone.
func (r *Request) Purged() bool { return !r.Purge.BundleAt.IsZero() }

// Text says when and why the bundle was purged, for errors and
// dsarctl.
func (p Purge) Text() string {
	return fmt.Sprintf("purged on %s because %s", p.BundleAt.UTC().Format(time.RFC3339), p.Reason)
}

// Extension records the one extension of a request's due date.
type Extension struct {
	Reason      string
	By          string // the caller's name
	At          time.Time
	PreviousDue time.Time
	NewDue      time.Time
}

// Lease says which processor works on a request, and until when. An
// expired lease may be claimed by another.
type Lease struct {
	Owner string
	Until time.Time
}

// Held reports whether the lease is held by someone at now.
func (l Lease) Held(now time.Time) bool {
	return l.Owner != "" && now.Before(l.Until)
}

// Bundle describes the assembled bundle of a completed request.
type Bundle struct {
	Path           string
	Size           int64
	SHA256         string // hex
	KeyFingerprint string // of the key that signed its manifest
	Finished       time.Time
}

// LogValue keeps the subject's email out of logs: a request is logged by id
// and state. The value receiver makes Request and *Request both redact.
func (r Request) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", r.ID),
		slog.String("state", string(r.State)),
	)
}

var _ slog.LogValuer = Request{}

// Validate checks the fields a new request must have.
func (r *Request) Validate() error {
	const op = "dsar.Request.Validate"
	switch {
	case r.ID == "":
		return &Error{Code: EINVALID, Op: op, Message: "request id is empty"}
	case r.Account == "":
		return &Error{Code: EINVALID, Op: op, Message: "account is empty"}
	case !r.State.Valid():
		return &Error{Code: EINVALID, Op: op, Message: fmt.Sprintf("unknown state %q", string(r.State))}
	}
	if err := CheckEmail(r.Email); err != nil {
		return err
	}
	if _, ok := DefaultDeadlines[r.Regulation]; !ok {
		return &Error{Code: EINVALID, Op: op, Message: fmt.Sprintf("unknown regulation %q", string(r.Regulation))}
	}
	return nil
}

// MaxEmailLen is the longest email address accepted (RFC 5321's path limit).
const MaxEmailLen = 254

// CheckEmail is the one rule for an email address, a sanity check and not
// RFC 5322: Zoom is the judge of whether the address exists. dsar/rpc checks
// a call with it and Request.Validate checks every new request with it, so
// the two cannot disagree. The messages never repeat the address.
func CheckEmail(email string) error {
	const op = "dsar.CheckEmail"
	at := strings.LastIndexByte(email, '@')
	switch {
	case email == "":
		return &Error{Code: EINVALID, Op: op, Message: "email is empty"}
	case len(email) > MaxEmailLen:
		return &Error{Code: EINVALID, Op: op, Message: fmt.Sprintf("email is longer than %d characters", MaxEmailLen)}
	case !utf8.ValidString(email):
		return &Error{Code: EINVALID, Op: op, Message: "email is not valid UTF-8"}
	case strings.ContainsFunc(email, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return &Error{Code: EINVALID, Op: op, Message: "email contains spaces or control characters"}
	case strings.ContainsFunc(email, func(r rune) bool { return unicode.Is(unicode.Bidi_Control, r) }):
		// A right-to-left override shows another address than the one
		// Zoom is asked for.
		return &Error{Code: EINVALID, Op: op, Message: "email contains bidirectional control characters (U+202E and the like); send the address as typed"}
	case strings.ContainsFunc(email, invisible):
		return &Error{Code: EINVALID, Op: op, Message: "email contains zero-width or other invisible characters (U+200B and the like); send the address as typed"}
	case strings.Count(email, "@") > 1:
		return &Error{Code: EINVALID, Op: op, Message: "email has more than one @; send one address, local-part@domain"}
	case at <= 0 || at == len(email)-1:
		return &Error{Code: EINVALID, Op: op, Message: "email is malformed: want local-part@domain"}
	}
	domain := email[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") ||
		strings.Contains(domain, "..") || strings.ContainsAny(domain, "@()<>[]\\,;:\"") {
		return &Error{Code: EINVALID, Op: op, Message: "email is malformed: its domain is not a domain name"}
	}
	return nil
}

// invisible reports whether r is a format character, drawn as nothing:
// zero-width spaces and joiners, the word joiner, the byte order mark, a
// soft hyphen. Two addresses that differ by one look the same.
func invisible(r rune) bool { return unicode.Is(unicode.Cf, r) }

// SameEmail reports whether a and b are the same address to Zoom, which
// compares addresses without regard to case: its API reference does not
// say so, but Zoom administrators report that Zoom "doesn't view a case
// change as an actual account change" and needs a detour through another
// address to change only the case of one
// (https://services.dartmouth.edu/TDClient/1806/Portal/KB/ArticleDet?ID=165998).
// So JANE@example.com and jane@example.com are one data subject.
func SameEmail(a, b string) bool { return strings.EqualFold(a, b) }

// Extend moves the due date to days after the current one, once.
func (r *Request) Extend(by Actor, reason string, at time.Time, days int) error {
	const op = "dsar.Request.Extend"
	switch {
	case r.Extension != nil:
		return &Error{Code: EPRECONDITION, Op: op, Message: "the due date was already extended once"}
	case strings.TrimSpace(reason) == "":
		return &Error{Code: EINVALID, Op: op, Message: "an extension needs a reason"}
	case days <= 0:
		return &Error{Code: EINVALID, Op: op, Message: "an extension must add at least one day"}
	}
	due := r.DueAt.AddDate(0, 0, days)
	r.Extension = &Extension{Reason: reason, By: by.Name, At: at, PreviousDue: r.DueAt, NewDue: due}
	r.DueAt = due
	return nil
}

// Valid reports whether s is one of the request states.
func (s State) Valid() bool { return slices.Contains(States, s) }

// CanTransition reports whether a request may go from one state to another:
//
//	QUEUED -> RUNNING <-> WAITING_QUOTA, WAITING_ZOOM -> ASSEMBLING -> COMPLETED
//	WAITING_QUOTA <-> WAITING_ZOOM
//	RUNNING -> ASSEMBLING
//	any non-final state -> FAILED, CANCELLED
//	FAILED -> RUNNING (an operator's resume)
//
// Staying in the same state is not a transition and is not allowed here.
func CanTransition(from, to State) bool {
	if !from.Valid() || !to.Valid() || from == to {
		return false
	}
	if to == StateFailed || to == StateCancelled {
		return !from.Final()
	}
	switch from {
	case StateQueued:
		return to == StateRunning
	case StateRunning:
		return to.Waiting() || to == StateAssembling
	case StateWaitingQuota, StateWaitingZoom:
		return to == StateRunning || to == StateAssembling || to.Waiting()
	case StateAssembling:
		return to == StateCompleted
	case StateFailed:
		return to == StateRunning
	}
	return false
}

// Valid reports whether s is one of the section states.
func (s SectionState) Valid() bool { return slices.Contains(SectionStates, s) }

// Section is one part of a request's data (a row of DESIGN.md's table). Its
// progress lives in its parts, one per Zoom endpoint.
type Section struct {
	Request      string // the request id
	Name         string // one of the Section* names
	State        SectionState
	Reason       string // Zoom's message when NOT_APPLICABLE or FAILED
	ReasonCode   int    // Zoom's error code, or the HTTP status when it sent none
	Parts        []Part
	Calls        int64 // Zoom API HTTP calls made, retries included
	Records      int64 // records stored; once the bundle is written, its count (Assembler.Assemble)
	Pages        int64 // pages stored
	WaitingUntil time.Time
	StartedAt    time.Time
	FinishedAt   time.Time
	Media        MediaProgress // sections with HasMedia
}

// MediaProgress is how far a section's media phase is: the files its
// stored pages list (set when the phase starts) and those settled, done
// or missing (counted by Store.CommitMedia), with their bytes.
type MediaProgress struct {
	FilesDone, FilesTotal int64
	BytesDone, BytesTotal int64
}

// Part returns the part called name, or nil.
func (s *Section) Part(name string) *Part {
	for i := range s.Parts {
		if s.Parts[i].Name == name {
			return &s.Parts[i]
		}
	}
	return nil
}

// Done reports whether every part of the section is done.
func (s *Section) Done() bool {
	for _, p := range s.Parts {
		if !p.Done {
			return false
		}
	}
	return true
}

// Part is one Zoom endpoint of a section, with its own cursor and pages.
type Part struct {
	Name    string
	Cursor  Cursor // where the next call starts
	Done    bool
	Covered Span // the date range of the windows fetched so far
	Calls   int64
	Records int64
	Pages   int64
}

// Cursor is the position of a part: the date window (for endpoints that
// take from/to) and Zoom's next_page_token within it.
type Cursor struct {
	Window    int    // index of the window, 0 = the most recent
	From, To  string // the window's dates, "yyyy-mm-dd"; empty without windows
	Item      string // the item of an item part (ItemsFrom) the window belongs to
	PageToken string // Zoom's next_page_token; empty at a window's start
	// Refs are ids the window's later pages must keep (Fetched.Refs).
	Refs []string
}

// Span is a range of dates, "yyyy-mm-dd", both ends included.
type Span struct {
	From, To string
}

// Add widens s to include t.
func (s Span) Add(t Span) Span {
	if t.From != "" && (s.From == "" || t.From < s.From) {
		s.From = t.From
	}
	if t.To != "" && (s.To == "" || t.To > s.To) {
		s.To = t.To
	}
	return s
}

// Part names. A section with one endpoint has one part named like it.
const (
	PartUser             = "user"
	PartAssistants       = "assistants"
	PartSchedulers       = "schedulers"
	PartScheduled        = "scheduled"
	PartUpcoming         = "upcoming"
	PartPrevious         = "previous_meetings"
	PartRecordings       = "recordings"
	PartTrash            = "trash"
	PartParticipantAudio = "participant_audio"
	PartSummaries        = "summaries"
	PartSummary          = "summary"
	PartGroups           = "groups"
	PartIMGroups         = "im_groups"
	PartSessions         = "sessions"
	PartChannels         = "channels"
	PartMessages         = "messages"
	PartTranscriptions   = "transcriptions"
)

// sectionParts lists the parts of sections with more than one endpoint.
var sectionParts = map[string][]string{
	SectionProfile:          {PartUser, PartAssistants, PartSchedulers},
	SectionMeetings:         {PartScheduled, PartUpcoming, PartPrevious},
	SectionCloudRecordings:  {PartRecordings, PartTrash, PartParticipantAudio},
	SectionMeetingSummaries: {PartSummaries, PartSummary},
	SectionGroups:           {PartGroups, PartIMGroups},
	SectionTeamChat:         {PartSessions, PartChannels, PartMessages},
	SectionPhoneVoicemails:  {SectionPhoneVoicemails, PartTranscriptions},
	SectionPhoneSMS:         {PartSessions, PartMessages},
}

// itemsFrom names, for each part fetched item by item, the parts
// ("section/part") whose stored records name its items: an SMS session's
// messages are fetched for each session listed, a voicemail's
// transcription for each voicemail. The parts named come before it in
// its section, or are the profile's user, stored at the lookup, so they
// are complete when it starts. Zoom.Items reads the items from their
// pages.
var itemsFrom = map[string][]string{
	SectionCloudRecordings + "/" + PartParticipantAudio: {SectionCloudRecordings + "/" + PartRecordings},
	SectionMeetingSummaries + "/" + PartSummary:         {SectionMeetingSummaries + "/" + PartSummaries},
	SectionGroups + "/" + PartGroups:                    {SectionProfile + "/" + PartUser},
	SectionGroups + "/" + PartIMGroups:                  {SectionProfile + "/" + PartUser},
	SectionPhoneVoicemails + "/" + PartTranscriptions:   {SectionPhoneVoicemails + "/" + SectionPhoneVoicemails},
	SectionPhoneSMS + "/" + PartMessages:                {SectionPhoneSMS + "/" + PartSessions},
	SectionTeamChat + "/" + PartMessages:                {SectionTeamChat + "/" + PartSessions, SectionTeamChat + "/" + PartChannels},
}

// detailParts are the parts fetched item by item whose records are
// details of the records of their section they are fetched for (a
// voicemail's transcription, a summary, a meeting's participant audio):
// listings of those records, not records of their own.
var detailParts = map[string]bool{
	SectionCloudRecordings + "/" + PartParticipantAudio: true,
	SectionMeetingSummaries + "/" + PartSummary:         true,
	SectionPhoneVoicemails + "/" + PartTranscriptions:   true,
}

// IsDetail reports whether a part's records are details of other records
// of its section, counted there.
func IsDetail(section, part string) bool { return detailParts[section+"/"+part] }

// ItemsFrom returns the parts ("section/part") whose records name the
// items a part is fetched for, nil for a part fetched as one list.
func ItemsFrom(section, part string) []string { return itemsFrom[section+"/"+part] }

// Item is one thing a part is fetched for, read from a record of an
// earlier part: Key is what the adapter fetches it by (an SMS session's
// id, a chat conversation), Record the id of the record that names it,
// Label what a person calls it (a conversation's name), if anything.
type Item struct {
	Record string
	Key    string
	Label  string
	// Kind groups items that cost alike to fetch, for estimates (a chat
	// channel, a 1:1 conversation); "" when all are of one kind.
	Kind string
}

// PartsOf returns the part names of a section, in fetch order.
func PartsOf(section string) []string {
	if p, ok := sectionParts[section]; ok {
		return append([]string(nil), p...)
	}
	return []string{section}
}

// NewSections returns every section of request id, PENDING, with empty
// cursors.
func NewSections(id string) []Section {
	out := make([]Section, 0, len(Sections))
	for _, name := range Sections {
		s := Section{Request: id, Name: name, State: SectionPending}
		for _, p := range PartsOf(name) {
			s.Parts = append(s.Parts, Part{Name: p})
		}
		out = append(out, s)
	}
	return out
}

// Page is one page of records as Zoom sent it.
type Page struct {
	Section string
	Part    string
	Seq     uint64 // order within the part, assigned by the store
	Window  int    // the cursor window it was fetched in, set by the store
	Item    string // the item (ItemsFrom) it was fetched for; "" for other parts
	Body    []byte // the raw JSON
	// IDs are the ids of the records in Body, in order, as computed once
	// when the page was fetched (Fetched.IDs): "" for a record without an
	// id. An object page holds one record. Pages stored by older builds
	// may have none for an object page.
	IDs []string
	// Drop lists ids an earlier page of the same window already holds
	// (the window was fetched again after its page token expired).
	Drop []string
	// Calls are the HTTP calls made to fetch the page, retries and the
	// calls of an expired window fetched again included; the store adds
	// them to the part's and section's calls on commit. Not stored.
	Calls int64
}

// Kept reports whether the page's i-th record belongs in the bundle: it
// does unless its id is one an earlier page holds. A record without an id
// is always kept: nothing shows that it is a repeat.
func (p *Page) Kept(i int) bool {
	id := p.IDs[i]
	return id == "" || !slices.Contains(p.Drop, id)
}

// Records counts the records of the page the bundle keeps: none for a
// page of details (IsDetail), whose records another part counts.
func (p *Page) Records() int64 {
	if IsDetail(p.Section, p.Part) {
		return 0
	}
	var n int64
	for i := range p.IDs {
		if p.Kept(i) {
			n++
		}
	}
	return n
}

// Audit actions.
const (
	ActionCreate   = "create"
	ActionState    = "state" // a state change; Detail is "FROM -> TO", then ": reason" if any
	ActionResume   = "resume"
	ActionRetry    = "retry"
	ActionCancel   = "cancel"
	ActionExtend   = "extend"
	ActionDownload = "download"
	ActionRebuild  = "rebuild"
	// ActionPurge: collected data or a bundle deleted; Detail says what
	// and why.
	ActionPurge = "purge"
	// ActionDelete: an operator deleted a request's bundle and collected
	// data at once (DeleteAccessRequest).
	ActionDelete = "delete"
	// ActionResetQuota: an operator forgot an account's Daily-limit parks;
	// the event names no request.
	ActionResetQuota = "reset-quota"
	// ActionAuthorize: an account's OAuth app was authorized; the event
	// names no request.
	ActionAuthorize = "authorize"
	// ActionDenied: a call refused for its credentials or its caller's
	// role; Detail names the method and why, never a token or a field of
	// the call.
	ActionDenied = "denied"
)

// AuditEvent is one entry of the append-only audit log.
type AuditEvent struct {
	Seq     uint64 // assigned by the store, increasing
	Time    time.Time
	Request string // request id
	Actor   Actor
	Action  string // one of the Action* constants
	Detail  string // no personal data
}

// Actor is who did something: a caller authenticated by dsar/rpc, or the
// system itself.
type Actor struct {
	Name string
	Role string
}

// System is the actor of the processor's own actions.
var System = Actor{Name: "system"}

type actorKey struct{}

// WithActor returns a context that carries the caller, for the audit log.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the caller in ctx, or System.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok && a.Name != "" {
		return a
	}
	return System
}

// idAlphabet is Crockford's base32 in lower case: it sorts like the numbers
// it encodes.
const idAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// NewID returns a request id: the shard, a dash, then 10 characters of
// milliseconds since 1970 and 16 random characters (80 bits), so ids sort by
// creation time within a shard and cannot be guessed. shard is a short
// lower-case name, or empty for an unsharded deployment.
func NewID(shard string, now time.Time) (string, error) {
	if !validShard(shard) {
		return "", &Error{Code: EINVALID, Op: "dsar.NewID", Message: "shard must be 1-16 of a-z and 0-9"}
	}
	var rnd [10]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", &Error{Code: EINTERNAL, Op: "dsar.NewID", Err: err}
	}
	var b strings.Builder
	if shard != "" {
		b.WriteString(shard)
		b.WriteByte('-')
	}
	ms := uint64(now.UnixMilli())
	for i := 9; i >= 0; i-- {
		b.WriteByte(idAlphabet[(ms>>(5*uint(i)))&31])
	}
	var acc uint
	bits := 0
	for _, c := range rnd { // 80 bits, 16 characters
		acc = acc<<8 | uint(c)
		bits += 8
		for bits >= 5 {
			bits -= 5
			b.WriteByte(idAlphabet[(acc>>uint(bits))&31])
		}
	}
	return b.String(), nil
}

// ShardOf returns the shard named by a request id, "" when it has none.
func ShardOf(id string) string {
	if i := strings.IndexByte(id, '-'); i >= 0 {
		return id[:i]
	}
	return ""
}

func validShard(s string) bool {
	if len(s) > 16 {
		return false
	}
	for _, c := range []byte(s) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// String names the actor for logs and the audit log.
func (a Actor) String() string {
	if a.Role == "" {
		return a.Name
	}
	return fmt.Sprintf("%s (%s)", a.Name, a.Role)
}
