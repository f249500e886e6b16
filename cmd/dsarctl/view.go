package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/zoomdsar/zoom-dsar/cmd/internal/progress"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// requestView is an access request as `--json` prints it: states in the
// words of DESIGN.md ("RUNNING", "COMPLETE"), times in RFC 3339.
type requestView struct {
	ID             string         `json:"id"`
	Account        string         `json:"account"`
	Email          string         `json:"email"`
	Regulation     string         `json:"regulation"`
	State          string         `json:"state"`
	Reason         string         `json:"reason,omitempty"`
	Outcome        string         `json:"outcome,omitempty"`
	IdempotencyKey string         `json:"idempotency_key"`
	Created        string         `json:"created"`
	Updated        string         `json:"updated,omitempty"`
	Due            string         `json:"due"`
	WaitingUntil   string         `json:"waiting_until,omitempty"`
	Extension      *extensionView `json:"extension,omitempty"`
	Bundle         *bundleView    `json:"bundle,omitempty"`
	Retention      retentionView  `json:"retention"`
	Sections       []sectionView  `json:"sections,omitempty"`
}

type extensionView struct {
	Reason      string `json:"reason"`
	ExtendedBy  string `json:"extended_by,omitempty"`
	Time        string `json:"time"`
	PreviousDue string `json:"previous_due,omitempty"`
}

type bundleView struct {
	Size           int64  `json:"size"`
	SHA256         string `json:"sha256"`
	KeyFingerprint string `json:"key_fingerprint"`
}

// retentionView is what dsard purged of a request, when and why.
type retentionView struct {
	EmailHash       string `json:"email_hash,omitempty"`
	Downloads       int32  `json:"downloads"`
	BundleExpires   string `json:"bundle_expires,omitempty"`
	CollectedPurged string `json:"collected_purged,omitempty"`
	BundlePurged    string `json:"bundle_purged,omitempty"`
	PurgeReason     string `json:"purge_reason,omitempty"`
}

type sectionView struct {
	Name         string `json:"name"`
	State        string `json:"state"`
	Reason       string `json:"reason,omitempty"`
	ReasonCode   string `json:"reason_code,omitempty"`
	Records      int64  `json:"records"`
	Pages        int64  `json:"pages"`
	Calls        int64  `json:"calls"`
	WindowsDone  int32  `json:"windows_done,omitempty"`
	WindowsTotal int32  `json:"windows_total,omitempty"`
}

func timeString(t *timestamppb.Timestamp) string {
	if t == nil {
		return ""
	}
	return t.AsTime().UTC().Format(time.RFC3339)
}

func enumWord(s, prefix string) string { return strings.TrimPrefix(s, prefix) }

func viewOf(r *dsarv1.AccessRequest) requestView {
	v := requestView{
		ID: r.GetId(), Account: r.GetAccount(), Email: r.GetEmail(),
		Regulation:     enumWord(r.GetRegulation().String(), "REGULATION_"),
		State:          stateWord(r.GetState()),
		Reason:         r.GetReason(),
		IdempotencyKey: r.GetIdempotencyKey(),
		Created:        timeString(r.GetCreateTime()),
		Updated:        timeString(r.GetUpdateTime()),
		Due:            timeString(r.GetDueTime()),
		WaitingUntil:   timeString(r.GetWaitingUntil()),
	}
	if o := r.GetOutcome(); o != dsarv1.Outcome_OUTCOME_UNSPECIFIED {
		v.Outcome = enumWord(o.String(), "OUTCOME_")
	}
	if x := r.GetExtension(); x != nil {
		v.Extension = &extensionView{Reason: x.GetReason(), ExtendedBy: x.GetExtendedBy(),
			Time: timeString(x.GetExtendTime()), PreviousDue: timeString(x.GetPreviousDueTime())}
	}
	if b := r.GetBundle(); b != nil {
		v.Bundle = &bundleView{Size: b.GetSizeBytes(), SHA256: b.GetSha256(), KeyFingerprint: b.GetKeyFingerprint()}
	}
	rt := r.GetRetention()
	v.Retention = retentionView{EmailHash: rt.GetEmailHash(), Downloads: rt.GetDownloads(),
		BundleExpires: timeString(rt.GetBundleExpireTime()), CollectedPurged: timeString(rt.GetCollectedPurgeTime()),
		BundlePurged: timeString(rt.GetBundlePurgeTime()), PurgeReason: rt.GetPurgeReason()}
	for _, s := range r.GetSections() {
		v.Sections = append(v.Sections, sectionView{
			Name: s.GetName(), State: sectionWord(s.GetState()), Reason: s.GetReason(), ReasonCode: s.GetReasonCode(),
			Records: s.GetRecords(), Pages: s.GetPages(), Calls: s.GetCalls(),
			WindowsDone: s.GetWindowsDone(), WindowsTotal: s.GetWindowsTotal(),
		})
	}
	return v
}

// stateWord and sectionWord are the words progress shows, so that get,
// list and watch say the same.
var (
	stateWord   = progress.StateWord
	sectionWord = progress.SectionWord
)

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeRequest prints a request for a person.
func writeRequest(w io.Writer, r *dsarv1.AccessRequest) error {
	v := viewOf(r)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, val string) {
		if val != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, val)
		}
	}
	row("id", v.ID)
	row("state", v.State)
	row("reason", v.Reason)
	row("outcome", v.Outcome)
	row("account", v.Account)
	row("email", v.Email)
	row("regulation", v.Regulation)
	row("created", v.Created)
	row("due", v.Due)
	row("waiting until", v.WaitingUntil)
	if x := v.Extension; x != nil {
		row("extended", fmt.Sprintf("%s by %s: %s", x.Time, x.ExtendedBy, x.Reason))
	}
	if b := v.Bundle; b != nil {
		row("bundle", fmt.Sprintf("%d bytes, sha256 %s", b.Size, b.SHA256))
		row("signed by", b.KeyFingerprint)
	}
	if rt := v.Retention; rt.BundlePurged != "" {
		row("email hash", rt.EmailHash)
		row("purged", fmt.Sprintf("%s because %s", rt.BundlePurged, rt.PurgeReason))
	} else {
		row("bundle expires", rt.BundleExpires)
		row("pages purged", rt.CollectedPurged)
	}
	if v.Bundle != nil {
		row("downloads", fmt.Sprint(v.Retention.Downloads))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(v.Sections) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SECTION\tSTATE\tRECORDS\tPAGES\tCALLS\tWINDOWS\tREASON")
	for _, s := range v.Sections {
		win := ""
		if s.WindowsTotal > 0 {
			win = fmt.Sprintf("%d/%d", s.WindowsDone, s.WindowsTotal)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\n", s.Name, s.State, s.Records, s.Pages, s.Calls, win, s.Reason)
	}
	return tw.Flush()
}
