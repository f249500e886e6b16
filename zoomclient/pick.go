package zoomclient

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// pickTTL is how long an account-wide list serves picks before it is
// fetched again: once per account and run of requests, not per request.
const pickTTL = time.Hour

// picked is an account-wide list held for picks, by record id.
type picked struct {
	at   time.Time
	recs map[string][]byte
}

// pick returns the record with id from the account-wide list ep (the
// account's groups), fetching every page of it if it is not held or older
// than pickTTL, and the HTTP calls made. A record the list lacks (a group
// deleted since the profile named it) is returned as {"id": id}: the id is
// what Zoom holds of it.
func (c *Client) pick(ctx context.Context, ep Endpoint, id string) ([]byte, int, error) {
	c.pickMu.Lock()
	defer c.pickMu.Unlock()
	calls := 0
	l, ok := c.picks[ep.Name]
	if !ok || c.clock.Now().Sub(l.at) > pickTTL {
		l = picked{at: c.clock.Now(), recs: map[string][]byte{}}
		cur := Cursor{}
		for {
			p, n, err := c.page(ctx, ep, "", cur)
			calls += n
			if err != nil {
				return nil, calls, err
			}
			var top map[string]json.RawMessage
			var recs []json.RawMessage
			if err := json.Unmarshal(p.Body, &top); err != nil {
				return nil, calls, fmt.Errorf("zoomclient: %s: %w", ep.Name, err)
			}
			if err := json.Unmarshal(top[ep.List], &recs); err != nil {
				return nil, calls, fmt.Errorf("zoomclient: %s: %w", ep.Name, err)
			}
			for i, rec := range recs {
				l.recs[p.IDs[i]] = rec
			}
			if p.Last {
				break
			}
			cur = p.Next
		}
		if c.picks == nil {
			c.picks = map[string]picked{}
		}
		c.picks[ep.Name] = l
	}
	if rec, ok := l.recs[id]; ok {
		return rec, calls, nil
	}
	b, err := json.Marshal(map[string]string{"id": id})
	return b, calls, err
}
