package rpc

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/zoomdsar/zoom-dsar/dsar"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// The tables below are the one place where domain enums meet proto enums.

var requestStates = map[dsar.State]dsarv1.RequestState{
	dsar.StateQueued:       dsarv1.RequestState_REQUEST_STATE_QUEUED,
	dsar.StateRunning:      dsarv1.RequestState_REQUEST_STATE_RUNNING,
	dsar.StateWaitingQuota: dsarv1.RequestState_REQUEST_STATE_WAITING_QUOTA,
	dsar.StateWaitingZoom:  dsarv1.RequestState_REQUEST_STATE_WAITING_ZOOM,
	dsar.StateAssembling:   dsarv1.RequestState_REQUEST_STATE_ASSEMBLING,
	dsar.StateCompleted:    dsarv1.RequestState_REQUEST_STATE_COMPLETED,
	dsar.StateFailed:       dsarv1.RequestState_REQUEST_STATE_FAILED,
	dsar.StateCancelled:    dsarv1.RequestState_REQUEST_STATE_CANCELLED,
}

var sectionStates = map[dsar.SectionState]dsarv1.SectionState{
	dsar.SectionPending:       dsarv1.SectionState_SECTION_STATE_PENDING,
	dsar.SectionRunning:       dsarv1.SectionState_SECTION_STATE_RUNNING,
	dsar.SectionComplete:      dsarv1.SectionState_SECTION_STATE_COMPLETE,
	dsar.SectionNotApplicable: dsarv1.SectionState_SECTION_STATE_NOT_APPLICABLE,
	dsar.SectionWaitingQuota:  dsarv1.SectionState_SECTION_STATE_WAITING_QUOTA,
	dsar.SectionWaitingZoom:   dsarv1.SectionState_SECTION_STATE_WAITING_ZOOM,
	dsar.SectionFailed:        dsarv1.SectionState_SECTION_STATE_FAILED,
}

var regulations = map[dsar.Regulation]dsarv1.Regulation{
	dsar.GDPR: dsarv1.Regulation_REGULATION_GDPR,
	dsar.CCPA: dsarv1.Regulation_REGULATION_CCPA,
}

// auditActions names audit actions as the RPCs that cause them, as the
// proto documents; actions of the processor itself keep their own names.
var auditActions = map[string]string{
	dsar.ActionCreate:     "CreateAccessRequest",
	dsar.ActionCancel:     "CancelAccessRequest",
	dsar.ActionResume:     "ResumeAccessRequest",
	dsar.ActionRetry:      "RetrySection",
	dsar.ActionExtend:     "ExtendDeadline",
	dsar.ActionDownload:   "DownloadBundle",
	dsar.ActionRebuild:    "RebuildBundle",
	dsar.ActionDelete:     "DeleteAccessRequest",
	dsar.ActionState:      "StateChange",
	dsar.ActionDenied:     "CallDenied",
	dsar.ActionResetQuota: "ResetAccountQuota",
	dsar.ActionAuthorize:  "CompleteAccountAuthorization",
}

// stateFromProto returns the domain state of s, or false for UNSPECIFIED
// and unknown values.
func stateFromProto(s dsarv1.RequestState) (dsar.State, bool) {
	for d, p := range requestStates {
		if p == s {
			return d, true
		}
	}
	return "", false
}

// regulationFromProto returns the domain regulation of r, or false.
func regulationFromProto(r dsarv1.Regulation) (dsar.Regulation, bool) {
	for d, p := range regulations {
		if p == r {
			return d, true
		}
	}
	return "", false
}

// WindowsFunc returns the date windows of a windowed part of an account's
// requests started at start (dsar.Zoom.Windows), or nil. The service uses
// it for windows_total.
type WindowsFunc func(account, section, part string, start time.Time) []dsar.Span

// converter turns domain values into messages.
type converter struct {
	windows WindowsFunc // may be nil
	// expiry is when a completed request's bundle is purged
	// (dsar.Processor.BundleExpiry); nil leaves it unset.
	expiry func(*dsar.Request) time.Time
}

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// request converts a request and its sections.
func (c converter) request(r *dsar.Request, secs []dsar.Section) *dsarv1.AccessRequest {
	out := &dsarv1.AccessRequest{
		Id:             r.ID,
		Account:        r.Account,
		Email:          r.Email,
		Regulation:     regulations[r.Regulation],
		State:          requestStates[r.State],
		Reason:         r.Reason,
		IdempotencyKey: r.IdempotencyKey,
		CreateTime:     ts(r.CreatedAt),
		UpdateTime:     ts(r.UpdatedAt),
		DueTime:        ts(r.DueAt),
		WaitingUntil:   ts(r.WaitingUntil),
		DeferredReason: r.Deferred,
	}
	switch {
	case r.Outcome == dsar.OutcomeNoZoomUser:
		out.Outcome = dsarv1.Outcome_OUTCOME_NO_ZOOM_USER
	case r.ZoomUserID != "":
		out.Outcome = dsarv1.Outcome_OUTCOME_USER_FOUND
	}
	if r.Extension != nil {
		out.Extension = &dsarv1.Extension{Reason: r.Extension.Reason, ExtendTime: ts(r.Extension.At),
			ExtendedBy: r.Extension.By, PreviousDueTime: ts(r.Extension.PreviousDue)}
	}
	if r.State == dsar.StateCompleted && r.Bundle.SHA256 != "" {
		out.Bundle = &dsarv1.Bundle{SizeBytes: r.Bundle.Size, Sha256: r.Bundle.SHA256, KeyFingerprint: r.Bundle.KeyFingerprint}
	}
	out.Retention = &dsarv1.Retention{
		CollectedPurgeTime: ts(r.Purge.CollectedAt),
		BundlePurgeTime:    ts(r.Purge.BundleAt),
		PurgeReason:        r.Purge.Reason,
		EmailHash:          r.EmailHash,
		ManifestKept:       r.Purge.Manifest,
		Downloads:          int32(min(r.Downloads, math.MaxInt32)),
	}
	if c.expiry != nil {
		out.Retention.BundleExpireTime = ts(c.expiry(r))
	}
	for i := range secs {
		out.Sections = append(out.Sections, c.section(r, &secs[i]))
	}
	return out
}

func (c converter) section(r *dsar.Request, s *dsar.Section) *dsarv1.Section {
	out := &dsarv1.Section{
		Name:         s.Name,
		State:        sectionStates[s.State],
		Reason:       s.Reason,
		Records:      s.Records,
		Pages:        s.Pages,
		Calls:        s.Calls,
		WaitingUntil: ts(s.WaitingUntil),
		StartTime:    ts(s.StartedAt),
		FinishTime:   ts(s.FinishedAt),

		MediaFilesDone:  s.Media.FilesDone,
		MediaFilesTotal: s.Media.FilesTotal,
		MediaBytesDone:  s.Media.BytesDone,
		MediaBytesTotal: s.Media.BytesTotal,
	}
	if s.ReasonCode != 0 {
		out.ReasonCode = strconv.Itoa(s.ReasonCode)
	}
	var covered dsar.Span
	for _, p := range s.Parts {
		covered = covered.Add(p.Covered)
		done, total := c.partWindows(r, s.Name, &p)
		out.WindowsDone += int32(done)
		out.WindowsTotal += int32(total)
	}
	if covered.From != "" || covered.To != "" {
		out.Covered = &dsarv1.TimeWindow{StartTime: ts(day(covered.From, 0)), EndTime: ts(day(covered.To, 1))}
	}
	return out
}

// partWindows returns how many of a part's date windows are done and how
// many it has; 0, 0 for a part without windows or when they are unknown.
func (c converter) partWindows(r *dsar.Request, section string, p *dsar.Part) (done, total int) {
	if c.windows == nil {
		return 0, 0
	}
	total = len(c.windows(r.Account, section, p.Name, r.CreatedAt))
	switch {
	case total == 0:
		return 0, 0
	case p.Done:
		return total, total
	}
	// Cursor.Window is the index of the window being fetched; the ones
	// before it are done.
	return min(max(p.Cursor.Window, 0), total), total
}

// day parses a "yyyy-mm-dd" date as midnight UTC, plus add days (the end of
// a half-open window); the zero time when it is empty or malformed.
func day(s string, add int) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}
	}
	return t.AddDate(0, 0, add)
}

func auditEvent(ev *dsar.AuditEvent) *dsarv1.AuditEvent {
	action := ev.Action
	if a, ok := auditActions[action]; ok {
		action = a
	}
	return &dsarv1.AuditEvent{
		Id:        strconv.FormatUint(ev.Seq, 10),
		Time:      ts(ev.Time),
		Caller:    ev.Actor.Name,
		Role:      ev.Actor.Role,
		Action:    action,
		RequestId: ev.Request,
		Detail:    ev.Detail,
	}
}

// estimate converts a request's estimate; nil when it has none.
func estimate(e dsar.Estimate) *dsarv1.Estimate {
	if e.Calls == nil {
		return nil
	}
	out := &dsarv1.Estimate{CompletionTime: ts(e.Completion), AtRisk: e.AtRisk, AtRiskReason: e.Reason}
	for _, b := range slices.Sorted(maps.Keys(e.Calls)) {
		out.Calls = append(out.Calls, &dsarv1.BucketCalls{Bucket: b, Calls: e.Calls[b]})
	}
	return out
}
