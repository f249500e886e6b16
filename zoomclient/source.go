package zoomclient

import (
	"context"
	"errors"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// Source is a Client as the processor sees Zoom (dsar.Zoom): sections and
// parts instead of endpoints, and failures sorted by what to do about them.
type Source struct{ c *Client }

var _ dsar.Zoom = (*Source)(nil)

// NewSource adapts c to dsar.Zoom.
func NewSource(c *Client) *Source { return &Source{c: c} }

// parts maps a section's parts to Zoom endpoints.
var parts = map[string]Endpoint{
	dsar.SectionProfile + "/" + dsar.PartUser:                         EndpointUser,
	dsar.SectionProfile + "/" + dsar.PartAssistants:                   EndpointAssistants,
	dsar.SectionProfile + "/" + dsar.PartSchedulers:                   EndpointSchedulers,
	dsar.SectionSettings + "/" + dsar.SectionSettings:                 EndpointUserSettings,
	dsar.SectionMeetings + "/" + dsar.PartScheduled:                   EndpointMeetingsScheduled,
	dsar.SectionMeetings + "/" + dsar.PartUpcoming:                    EndpointMeetingsUpcoming,
	dsar.SectionMeetings + "/" + dsar.PartPrevious:                    EndpointMeetingsPrevious,
	dsar.SectionWebinars + "/" + dsar.SectionWebinars:                 EndpointWebinars,
	dsar.SectionCloudRecordings + "/" + dsar.PartRecordings:           EndpointRecordings,
	dsar.SectionCloudRecordings + "/" + dsar.PartTrash:                EndpointRecordingsTrash,
	dsar.SectionPhoneProfile + "/" + dsar.SectionPhoneProfile:         EndpointPhoneUser,
	dsar.SectionPhoneSettings + "/" + dsar.SectionPhoneSettings:       EndpointPhoneSettings,
	dsar.SectionPhoneCallHistory + "/" + dsar.SectionPhoneCallHistory: EndpointCallHistory,
	dsar.SectionPhoneVoicemails + "/" + dsar.SectionPhoneVoicemails:   EndpointVoicemails,
	dsar.SectionPhoneRecordings + "/" + dsar.SectionPhoneRecordings:   EndpointPhoneRecordings,
}

func endpoint(section, part string) (Endpoint, error) {
	ep, ok := parts[section+"/"+part]
	if !ok {
		return Endpoint{}, dsar.Errorf(dsar.EINTERNAL, "zoomclient.Source", "no endpoint for part %s/%s", section, part)
	}
	return ep, nil
}

// LookupUser finds the user with an email address.
func (s *Source) LookupUser(ctx context.Context, email string) (string, []byte, error) {
	body, u, err := s.c.User(ctx, email)
	if err != nil {
		return "", nil, sourceError(EndpointUser, err)
	}
	return u.ID, body, nil
}

// Windows returns the part's date windows for a collection that started at
// start, newest first; nil for an endpoint without dates.
func (s *Source) Windows(section, part string, start time.Time) []dsar.Span {
	ep, err := endpoint(section, part)
	if err != nil || ep.Window.Months == 0 {
		return nil
	}
	h := 0
	if ep.Path == EndpointRecordings.Path {
		h = s.c.cfg.RecordingsHorizon
	}
	var out []dsar.Span
	for _, c := range Windows(ep, start, h) {
		out = append(out, dsar.Span{From: c.From, To: c.To})
	}
	return out
}

// Fetch gets one page of a part; an object endpoint is one page whose id
// is the object's.
func (s *Source) Fetch(ctx context.Context, userID, section, part string, w dsar.Span, pageToken string) (dsar.Fetched, error) {
	ep, err := endpoint(section, part)
	if err != nil {
		return dsar.Fetched{}, err
	}
	if ep.List == "" {
		if ep.Path == EndpointUser.Path {
			body, u, err := s.c.User(ctx, userID)
			if err != nil {
				return dsar.Fetched{}, sourceError(ep, err)
			}
			return dsar.Fetched{Body: body, IDs: []string{u.ID}}, nil
		}
		body, err := s.c.Get(ctx, ep, userID)
		if err != nil {
			return dsar.Fetched{}, sourceError(ep, err)
		}
		return dsar.Fetched{Body: body}, nil
	}
	p, err := s.c.Page(ctx, ep, userID, Cursor{From: w.From, To: w.To, PageToken: pageToken})
	if err != nil {
		return dsar.Fetched{}, sourceError(ep, err)
	}
	return dsar.Fetched{Body: p.Body, IDs: p.IDs, NextPageToken: p.Next.PageToken}, nil
}

// sourceError sorts a failure by what the processor should do about it.
// On Phone endpoints Zoom answers 404 code 1001 for a user without a Phone
// licence (the only answer the 2026 Phone spec documents), so there "not
// found" means "not applicable".
func sourceError(ep Endpoint, err error) error {
	if q, ok := IsQuota(err); ok {
		return &dsar.ZoomError{Kind: dsar.ZoomQuota, Code: 429, Until: q.Reset,
			Message: "the daily rate limit of Zoom's " + string(q.Category) + " API is spent", Err: err}
	}
	var e *Error
	if !errors.As(err, &e) {
		return err // cancellation, or a bug: not Zoom's answer
	}
	ze := &dsar.ZoomError{Code: e.Code, Message: e.Message, Err: err}
	if ze.Code == 0 {
		ze.Code = e.Status
	}
	switch e.Kind {
	case NotApplicable:
		ze.Kind = dsar.ZoomNotApplicable
	case NotFound:
		ze.Kind = dsar.ZoomNotFound
		if ep.Phone {
			ze.Kind = dsar.ZoomNotApplicable
			ze.Message = "the user has no Zoom Phone licence (" + e.Message + ")"
		}
	case PageTokenExpired:
		ze.Kind = dsar.ZoomPageTokenExpired
	case Invalid, Unauthorized, MissingScope:
		ze.Kind = dsar.ZoomRejected
	default:
		ze.Kind = dsar.ZoomUnavailable
	}
	return ze
}
