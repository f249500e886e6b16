package store

import (
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// The records below are the values the store writes (schema version 2):
// each field is tagged with its key in the file, and mapped to and from
// the domain here, so that renaming a field of package dsar changes no
// stored key and loses no data. A field added to the domain needs a field
// here too (TestRecordsMapEveryField fails until it has one). Pages have a
// binary format of their own (page.go); idempotency keys and the indexes
// hold plain keys and ids.

type requestRecord struct {
	ID             string           `json:"id"`
	Account        string           `json:"account"`
	Email          string           `json:"email"`
	SealedEmail    []byte           `json:"sealed_email,omitempty"` // instead of Email, with a master key (crypt.go)
	Regulation     string           `json:"regulation"`
	IdempotencyKey string           `json:"idempotency_key,omitempty"`
	State          string           `json:"state"`
	Reason         string           `json:"reason,omitempty"`
	Outcome        string           `json:"outcome,omitempty"`
	ZoomUserID     string           `json:"zoom_user_id,omitempty"`
	CreatedAt      time.Time        `json:"created_at"`
	UpdatedAt      time.Time        `json:"updated_at"`
	DueAt          time.Time        `json:"due_at"`
	Extension      *extensionRecord `json:"extension,omitempty"`
	WaitingUntil   time.Time        `json:"waiting_until,omitzero"`
	Lease          leaseRecord      `json:"lease,omitzero"`
	Bundle         bundleRecord     `json:"bundle,omitzero"`
	EmailHash      string           `json:"email_hash,omitempty"`
	CompletedAt    time.Time        `json:"completed_at,omitzero"`
	Downloads      int              `json:"downloads,omitempty"`
	Purge          purgeRecord      `json:"purge,omitzero"`
	Deferred       string           `json:"deferred,omitempty"`
}

// filterRecord holds the fields of a requestRecord that ListRequests
// filters on: decoding only them skips the rest of each record.
type filterRecord struct {
	Account   string    `json:"account"`
	EmailHash string    `json:"email_hash,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	DueAt     time.Time `json:"due_at"`
}

type purgeRecord struct {
	CollectedAt time.Time `json:"collected_at,omitzero"`
	BundleAt    time.Time `json:"bundle_at,omitzero"`
	Reason      string    `json:"reason,omitempty"`
	Manifest    bool      `json:"manifest,omitempty"`
}

type extensionRecord struct {
	Reason      string    `json:"reason"`
	By          string    `json:"by"`
	At          time.Time `json:"at"`
	PreviousDue time.Time `json:"previous_due"`
	NewDue      time.Time `json:"new_due"`
}

type leaseRecord struct {
	Owner string    `json:"owner,omitempty"`
	Until time.Time `json:"until,omitzero"`
}

type bundleRecord struct {
	Path           string    `json:"path,omitempty"`
	Size           int64     `json:"size,omitempty"`
	SHA256         string    `json:"sha256,omitempty"`
	KeyFingerprint string    `json:"key_fingerprint,omitempty"`
	Finished       time.Time `json:"finished,omitzero"`
}

func toRequestRecord(r *dsar.Request) requestRecord {
	rec := requestRecord{
		ID:             r.ID,
		Account:        r.Account,
		Email:          r.Email,
		Regulation:     string(r.Regulation),
		IdempotencyKey: r.IdempotencyKey,
		State:          string(r.State),
		Reason:         r.Reason,
		Outcome:        r.Outcome,
		ZoomUserID:     r.ZoomUserID,
		CreatedAt:      r.CreatedAt,
		UpdatedAt:      r.UpdatedAt,
		DueAt:          r.DueAt,
		WaitingUntil:   r.WaitingUntil,
		Lease:          leaseRecord{Owner: r.Lease.Owner, Until: r.Lease.Until},
		Bundle: bundleRecord{Path: r.Bundle.Path, Size: r.Bundle.Size, SHA256: r.Bundle.SHA256,
			KeyFingerprint: r.Bundle.KeyFingerprint, Finished: r.Bundle.Finished},
		EmailHash:   r.EmailHash,
		CompletedAt: r.CompletedAt,
		Downloads:   r.Downloads,
		Purge:       purgeRecord{CollectedAt: r.Purge.CollectedAt, BundleAt: r.Purge.BundleAt, Reason: r.Purge.Reason, Manifest: r.Purge.Manifest},
		Deferred:    r.Deferred,
	}
	if e := r.Extension; e != nil {
		rec.Extension = &extensionRecord{Reason: e.Reason, By: e.By, At: e.At, PreviousDue: e.PreviousDue, NewDue: e.NewDue}
	}
	return rec
}

func fromRequestRecord(rec *requestRecord) dsar.Request {
	r := dsar.Request{
		ID:             rec.ID,
		Account:        rec.Account,
		Email:          rec.Email,
		Regulation:     dsar.Regulation(rec.Regulation),
		IdempotencyKey: rec.IdempotencyKey,
		State:          dsar.State(rec.State),
		Reason:         rec.Reason,
		Outcome:        rec.Outcome,
		ZoomUserID:     rec.ZoomUserID,
		CreatedAt:      rec.CreatedAt,
		UpdatedAt:      rec.UpdatedAt,
		DueAt:          rec.DueAt,
		WaitingUntil:   rec.WaitingUntil,
		Lease:          dsar.Lease{Owner: rec.Lease.Owner, Until: rec.Lease.Until},
		Bundle: dsar.Bundle{Path: rec.Bundle.Path, Size: rec.Bundle.Size, SHA256: rec.Bundle.SHA256,
			KeyFingerprint: rec.Bundle.KeyFingerprint, Finished: rec.Bundle.Finished},
		EmailHash:   rec.EmailHash,
		CompletedAt: rec.CompletedAt,
		Downloads:   rec.Downloads,
		Purge:       dsar.Purge{CollectedAt: rec.Purge.CollectedAt, BundleAt: rec.Purge.BundleAt, Reason: rec.Purge.Reason, Manifest: rec.Purge.Manifest},
		Deferred:    rec.Deferred,
	}
	if e := rec.Extension; e != nil {
		r.Extension = &dsar.Extension{Reason: e.Reason, By: e.By, At: e.At, PreviousDue: e.PreviousDue, NewDue: e.NewDue}
	}
	return r
}

type sectionRecord struct {
	Request      string              `json:"request"`
	Name         string              `json:"name"`
	State        string              `json:"state"`
	Reason       string              `json:"reason,omitempty"`
	ReasonCode   int                 `json:"reason_code,omitempty"`
	Parts        []partRecord        `json:"parts,omitempty"`
	Calls        int64               `json:"calls,omitempty"`
	Records      int64               `json:"records,omitempty"`
	Pages        int64               `json:"pages,omitempty"`
	WaitingUntil time.Time           `json:"waiting_until,omitzero"`
	StartedAt    time.Time           `json:"started_at,omitzero"`
	FinishedAt   time.Time           `json:"finished_at,omitzero"`
	Media        mediaProgressRecord `json:"media,omitzero"`
}

// mediaProgressRecord keeps a section's media totals and the files and
// bytes settled, which CommitMedia counts in the transaction that records
// each file (schema version 6; migrateMediaDone counted those of older
// files), so that reading a section reads no media record.
type mediaProgressRecord struct {
	FilesTotal int64 `json:"files_total,omitempty"`
	BytesTotal int64 `json:"bytes_total,omitempty"`
	FilesDone  int64 `json:"files_done,omitempty"`
	BytesDone  int64 `json:"bytes_done,omitempty"`
}

type partRecord struct {
	Name    string       `json:"name"`
	Cursor  cursorRecord `json:"cursor,omitzero"`
	Done    bool         `json:"done,omitempty"`
	Covered spanRecord   `json:"covered,omitzero"`
	Calls   int64        `json:"calls,omitempty"`
	Records int64        `json:"records,omitempty"`
	Pages   int64        `json:"pages,omitempty"`
}

type cursorRecord struct {
	Window    int      `json:"window,omitempty"`
	From      string   `json:"from,omitempty"`
	To        string   `json:"to,omitempty"`
	Item      string   `json:"item,omitempty"`
	PageToken string   `json:"page_token,omitempty"`
	Refs      []string `json:"refs,omitempty"`
}

type spanRecord struct {
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

func toSectionRecord(s *dsar.Section) sectionRecord {
	rec := sectionRecord{
		Request:      s.Request,
		Name:         s.Name,
		State:        string(s.State),
		Reason:       s.Reason,
		ReasonCode:   s.ReasonCode,
		Calls:        s.Calls,
		Records:      s.Records,
		Pages:        s.Pages,
		WaitingUntil: s.WaitingUntil,
		StartedAt:    s.StartedAt,
		FinishedAt:   s.FinishedAt,
		Media: mediaProgressRecord{FilesTotal: s.Media.FilesTotal, BytesTotal: s.Media.BytesTotal,
			FilesDone: s.Media.FilesDone, BytesDone: s.Media.BytesDone},
	}
	if s.Parts != nil {
		rec.Parts = make([]partRecord, len(s.Parts))
	}
	for i, p := range s.Parts {
		rec.Parts[i] = partRecord{
			Name:    p.Name,
			Cursor:  cursorRecord{Window: p.Cursor.Window, From: p.Cursor.From, To: p.Cursor.To, Item: p.Cursor.Item, PageToken: p.Cursor.PageToken, Refs: p.Cursor.Refs},
			Done:    p.Done,
			Covered: spanRecord{From: p.Covered.From, To: p.Covered.To},
			Calls:   p.Calls,
			Records: p.Records,
			Pages:   p.Pages,
		}
	}
	return rec
}

func fromSectionRecord(rec *sectionRecord) dsar.Section {
	s := dsar.Section{
		Request:      rec.Request,
		Name:         rec.Name,
		State:        dsar.SectionState(rec.State),
		Reason:       rec.Reason,
		ReasonCode:   rec.ReasonCode,
		Calls:        rec.Calls,
		Records:      rec.Records,
		Pages:        rec.Pages,
		WaitingUntil: rec.WaitingUntil,
		StartedAt:    rec.StartedAt,
		FinishedAt:   rec.FinishedAt,
		Media: dsar.MediaProgress{FilesTotal: rec.Media.FilesTotal, BytesTotal: rec.Media.BytesTotal,
			FilesDone: rec.Media.FilesDone, BytesDone: rec.Media.BytesDone},
	}
	if rec.Parts != nil {
		s.Parts = make([]dsar.Part, len(rec.Parts))
	}
	for i, p := range rec.Parts {
		s.Parts[i] = dsar.Part{
			Name:    p.Name,
			Cursor:  dsar.Cursor{Window: p.Cursor.Window, From: p.Cursor.From, To: p.Cursor.To, Item: p.Cursor.Item, PageToken: p.Cursor.PageToken, Refs: p.Cursor.Refs},
			Done:    p.Done,
			Covered: dsar.Span{From: p.Covered.From, To: p.Covered.To},
			Calls:   p.Calls,
			Records: p.Records,
			Pages:   p.Pages,
		}
	}
	return s
}

type auditRecord struct {
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	Request   string    `json:"request,omitempty"`
	ActorName string    `json:"actor_name,omitempty"`
	ActorRole string    `json:"actor_role,omitempty"`
	Action    string    `json:"action"`
	Detail    string    `json:"detail,omitempty"`
}

func toAuditRecord(ev *dsar.AuditEvent) auditRecord {
	return auditRecord{Seq: ev.Seq, Time: ev.Time, Request: ev.Request, ActorName: ev.Actor.Name,
		ActorRole: ev.Actor.Role, Action: ev.Action, Detail: ev.Detail}
}

func fromAuditRecord(rec *auditRecord) dsar.AuditEvent {
	return dsar.AuditEvent{Seq: rec.Seq, Time: rec.Time, Request: rec.Request,
		Actor: dsar.Actor{Name: rec.ActorName, Role: rec.ActorRole}, Action: rec.Action, Detail: rec.Detail}
}

// mediaRecord is what the store keeps of a media file, under the key
// request, section, name: the URL and the record it came from are read
// from the stored pages again when needed, and Calls only count on commit.
// Its format is that of schema version 1.
type mediaRecord struct {
	Size    int64  `json:"size"`
	SHA256  string `json:"sha256,omitempty"`
	Done    bool   `json:"done,omitempty"`
	Missing string `json:"missing,omitempty"`
}

func toMediaRecord(f *dsar.MediaFile) mediaRecord {
	return mediaRecord{Size: f.Size, SHA256: f.SHA256, Done: f.Done, Missing: f.Missing}
}

// grantRecord is an OAuth app's grant. With a master key its JSON is
// stored sealed (crypt.go).
type grantRecord struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token"`
	Expiry       time.Time `json:"expiry"`
	Scopes       []string  `json:"scopes,omitempty"`
}

func toGrantRecord(g *dsar.Grant) grantRecord {
	return grantRecord{AccessToken: g.AccessToken, RefreshToken: g.RefreshToken, Expiry: g.Expiry, Scopes: g.Scopes}
}

func decodeGrant(v []byte) (dsar.Grant, error) {
	var rec grantRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return dsar.Grant{}, err
	}
	return dsar.Grant{AccessToken: rec.AccessToken, RefreshToken: rec.RefreshToken, Expiry: rec.Expiry, Scopes: rec.Scopes}, nil
}

func fromMediaRecord(section, name string, rec *mediaRecord) dsar.MediaFile {
	return dsar.MediaFile{Section: section, Name: name, Size: rec.Size, SHA256: rec.SHA256, Done: rec.Done, Missing: rec.Missing}
}

// putRecord stores the JSON of a record.
func putRecord(b *bolt.Bucket, k []byte, rec any) error {
	buf, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return b.Put(k, buf)
}

// putRequest stores a request, its email sealed when the store has a
// master key.
func (db *DB) putRequest(tx *bolt.Tx, r *dsar.Request) error {
	rec := toRequestRecord(r)
	if db.sealer != nil && rec.Email != "" {
		var err error
		if rec.SealedEmail, err = db.sealEmail(tx, r.ID, rec.Email); err != nil {
			return err
		}
		rec.Email = ""
	}
	return putRecord(tx.Bucket(bucketRequests), []byte(r.ID), rec)
}

// openRequest returns the request of the record stored under key id,
// opening its sealed email (bound to the key, not to the record's own id
// field); tx may be nil when the email is not sealed.
func (db *DB) openRequest(tx *bolt.Tx, id string, rec *requestRecord) (dsar.Request, error) {
	if rec.SealedEmail != nil {
		email, err := db.openEmail(tx, id, rec.SealedEmail)
		if err != nil {
			return dsar.Request{}, err
		}
		rec.Email = email
	}
	return fromRequestRecord(rec), nil
}

func putSection(sb *bolt.Bucket, k []byte, s *dsar.Section) error {
	return putRecord(sb, k, toSectionRecord(s))
}

func decodeSection(v []byte) (dsar.Section, error) {
	var rec sectionRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return dsar.Section{}, err
	}
	return fromSectionRecord(&rec), nil
}

func decodeAudit(v []byte) (dsar.AuditEvent, error) {
	var rec auditRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return dsar.AuditEvent{}, err
	}
	return fromAuditRecord(&rec), nil
}

func decodeMedia(section, name string, v []byte) (dsar.MediaFile, error) {
	var rec mediaRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return dsar.MediaFile{}, err
	}
	return fromMediaRecord(section, name, &rec), nil
}
