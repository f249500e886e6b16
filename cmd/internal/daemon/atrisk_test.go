package daemon

import (
	"strings"
	"testing"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
	"github.com/zoomdsar/zoom-dsar/zoomclient"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// TestAtRiskMetric: a request created on an account that cannot finish it
// before its due date is deferred, counts in dsar_requests_at_risk_total under its
// account, and is logged by id, never by its email: the processor's
// AtRisk reaches the metric as dsard wires it.
func TestAtRiskMetric(t *testing.T) {
	s := startWith(t, true, func(s *started, c *Config) {
		// The emulator's account again, as "slow": Medium at one call a
		// week, so that no request on it can finish in 30 days.
		a := s.zoom.Account()
		c.Accounts = append(c.Accounts, Account{Name: "slow", Plan: string(a.Plan), AccountID: a.ID, ClientID: a.ClientID,
			ClientSecret: a.ClientSecret, APIURL: s.zoom.APIURL, TokenURL: s.zoom.TokenURL,
			Limits: map[zoomclient.Bucket]float64{{Category: zoomclient.Medium}: 1.0 / (7 * 24 * 3600)}})
	})
	ctx := operator(t.Context())
	resp, err := s.client.CreateAccessRequest(ctx, &dsarv1.CreateAccessRequestRequest{
		Email: zoomtest.JaneEmail, Account: "slow", IdempotencyKey: "k", Regulation: dsarv1.Regulation_REGULATION_GDPR})
	if err != nil {
		t.Fatal(err)
	}
	r := resp.GetAccessRequest()
	if !r.GetEstimate().GetAtRisk() || r.GetDeferredReason() == "" {
		t.Fatalf("the request is not deferred (%q) or its estimate %v is not at risk", r.GetDeferredReason(), r.GetEstimate())
	}
	m := s.metrics(t)
	for _, w := range []string{`dsar_requests_at_risk_total{account="slow"} 1`, `dsar_requests_at_risk_total{account="main"} 0`} {
		if !strings.Contains(m, w+"\n") {
			t.Errorf("the metrics lack %s:\n%s", w, grepLines(m, "dsar_requests_at_risk_total"))
		}
	}
	line := grepLines(s.logs.String(), "new request deferred")
	if !strings.Contains(line, `"request":"`+r.GetId()+`"`) || !strings.Contains(line, `"account":"slow"`) {
		t.Errorf("no log line names the request at risk by id: %q", line)
	}
	if strings.Contains(s.logs.String(), zoomtest.JaneEmail) {
		t.Error("the logs name the subject's email")
	}
}
