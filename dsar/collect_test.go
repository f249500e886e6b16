package dsar_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/zoomclient"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// cappedZoom is the account's Zoom with the budget of the previous
// meetings' bucket replaced: a daily cap with left calls left today.
type cappedZoom struct {
	*zoomclient.Source
	left int64
}

func (z *cappedZoom) Budget(section, part string) dsar.Budget {
	b := z.Source.Budget(section, part)
	if section == dsar.SectionMeetings && part == dsar.PartPrevious {
		b.Daily, b.Remaining = 1000, z.left
	}
	return b
}

// TestWindowOutlastsCap: a list whose first page says more pages are left
// than today's daily cap allows waits for the reset after that page,
// rather than be stopped halfway and fetch every page again once its
// token has expired overnight; with enough left it goes on.
func TestWindowOutlastsCap(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		left  int64
		parks bool
	}{{left: 2, parks: true}, {left: 3, parks: false}} {
		t.Run(fmt.Sprint(tc.left), func(t *testing.T) {
			t.Parallel()
			// The reference subject's 1,200 previous meetings: four pages
			// of 300, three left after the first.
			e := newEnv(t, envConfig{zoom: []zoomtest.Option{zoomtest.WithDataset("reference"), zoomtest.WithPhoneEnabled(false)},
				proc: func(c *dsar.Config) {
					c.Accounts["main"] = &cappedZoom{Source: c.Accounts["main"].(*zoomclient.Source), left: tc.left}
				}})
			r := e.create(jane)
			r = e.wait(r.ID, inState(dsar.StateWaitingQuota, dsar.StateCompleted, dsar.StateFailed))
			s := section(t, e, r.ID, dsar.SectionMeetings)
			pt := s.Part(dsar.PartPrevious)
			if !tc.parks {
				if r.State != dsar.StateCompleted || pt.Pages != 4 {
					t.Fatalf("with 3 calls left: %s, %d pages, want COMPLETED with 4", r.State, pt.Pages)
				}
				return
			}
			midnight := t0.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
			if s.State != dsar.SectionWaitingQuota || !s.WaitingUntil.Equal(midnight) || pt.Pages != 1 || pt.Calls != 1 ||
				!strings.Contains(s.Reason, "3 pages left") {
				t.Fatalf("with 2 calls left: section %s until %s (%s), %d pages in %d calls; want WAITING_QUOTA until %s after 1 page",
					s.State, s.WaitingUntil, s.Reason, pt.Pages, pt.Calls, midnight)
			}
		})
	}
}
