package rpc

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// Recorder appends an event to the audit log; *dsar.Processor is one.
type Recorder interface {
	Record(ctx context.Context, id, action, detail string) error
}

// Refused calls are audited at most once per source and minute: a source
// is the caller (name and role) when the credentials named one, else the
// peer's address, since a client without valid credentials could
// otherwise fill the audit log. The first refusal of a source in a minute
// is written at once; the ones after it are counted and written as one
// entry ("N more calls refused ...") once that minute is over and another
// refusal arrives. Every call, refused or not, is also in the rpc log
// line. Sources beyond maxDeniedSources in a minute share one count.
const (
	deniedWindow     = time.Minute
	maxDeniedSources = 1024
	otherSources     = "other sources"
)

// denials counts the refused calls of each source in its current minute.
type denials struct {
	mu        sync.Mutex
	sources   map[string]*denialWindow
	nextSweep time.Time
}

type denialWindow struct {
	actor  dsar.Actor
	source string // "caller NAME (ROLE)", "peer ADDRESS" or otherSources
	start  time.Time
	more   int // refused after the first, not yet in the audit log
}

// denied audits a refused call to fullMethod; caller is who the
// credentials named, if anyone (a certificate without a role names no
// role). The detail names the method, the refusal and the peer, never a
// token or a field of the call.
func (a *Auth) denied(ctx context.Context, fullMethod string, caller Caller, err error) {
	if a.Audit == nil {
		return
	}
	now := a.clock().Now()
	from := peerHost(ctx)
	actor := dsar.Actor{Name: "unauthenticated"}
	source := "peer " + from
	if caller.Name != "" {
		actor = dsar.Actor{Name: caller.Name, Role: string(caller.Role)}
		source = "caller " + actor.String()
	}
	// The code and message the client got, from the one mapping.
	st := status.Convert(toStatus(err, a.log()))
	detail := fmt.Sprintf("%s refused (%s): %s; from %s", fullMethod, st.Code(), st.Message(), from)

	type entry struct {
		actor  dsar.Actor
		detail string
	}
	var write []entry
	d := &a.denials
	d.mu.Lock()
	if d.sources == nil {
		d.sources = make(map[string]*denialWindow)
	}
	if !now.Before(d.nextSweep) {
		for k, w := range d.sources {
			if now.Sub(w.start) < deniedWindow {
				continue
			}
			if w.more > 0 {
				write = append(write, entry{w.actor, w.summary()})
			}
			delete(d.sources, k)
		}
		d.nextSweep = now.Add(deniedWindow)
	}
	w, ok := d.sources[source]
	if !ok && len(d.sources) >= maxDeniedSources {
		source, actor = otherSources, dsar.Actor{Name: otherSources}
		w, ok = d.sources[source]
	}
	switch {
	case ok && now.Sub(w.start) < deniedWindow:
		w.more++
	default:
		if ok && w.more > 0 {
			write = append(write, entry{w.actor, w.summary()})
		}
		d.sources[source] = &denialWindow{actor: actor, source: source, start: now}
		write = append(write, entry{actor, detail})
	}
	d.mu.Unlock()

	ctx = context.WithoutCancel(ctx)
	for _, e := range write {
		if err := a.Audit.Record(dsar.WithActor(ctx, e.actor), "", dsar.ActionDenied, e.detail); err != nil {
			a.log().Error("audit a refused call", "method", fullMethod, "err", err)
		}
	}
}

func (w *denialWindow) summary() string {
	return fmt.Sprintf("%d more calls refused from %s in the minute from %s", w.more, w.source,
		w.start.UTC().Format(time.RFC3339))
}

// peerHost is the address of the call's peer without its port.
func peerHost(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return "unknown peer"
	}
	s := p.Addr.String()
	if h, _, err := net.SplitHostPort(s); err == nil {
		return h
	}
	return s
}

func (a *Auth) log() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.New(slog.DiscardHandler)
}
