// Package progress shows on a terminal, or as plain lines, how an access
// request and a download go: for dsarctl and for dsard's demo.
package progress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// IsTerminal reports whether w is a terminal, for progress bars.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// StateWord is a request state without its enum prefix: COMPLETED.
func StateWord(s dsarv1.RequestState) string {
	return strings.TrimPrefix(s.String(), "REQUEST_STATE_")
}

// SectionWord is a section state without its enum prefix: COMPLETE.
func SectionWord(s dsarv1.SectionState) string {
	return strings.TrimPrefix(s.String(), "SECTION_STATE_")
}

// Time is the one way dsarctl and the demo print a time: RFC 3339 with
// the zone's offset, in loc (nil: the local zone, which TZ sets), e.g.
// 2026-12-06T20:15:00+01:00, or with Z in UTC. The zero time is "".
func Time(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	if loc == nil {
		loc = time.Local
	}
	return t.In(loc).Format(time.RFC3339)
}

// Size is a count of bytes as a person reads it: 512 B, 1.5 MiB.
func Size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// Media is a section's media progress, "3/10 files (1.5 MiB/4.0 MiB)", or
// "" for a section without files.
func Media(s *dsarv1.Section) string {
	if s.GetMediaFilesTotal() == 0 && s.GetMediaFilesDone() == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d files (%s/%s)", s.GetMediaFilesDone(), s.GetMediaFilesTotal(),
		Size(s.GetMediaBytesDone()), Size(s.GetMediaBytesTotal()))
}

// Watch follows request id, calling show with every update, until the
// stream ends, and returns the last state seen. A failed call is returned
// as grpc's error.
func Watch(ctx context.Context, api dsarv1.AccessRequestServiceClient, id string, show func(*dsarv1.WatchAccessRequestResponse) error) (*dsarv1.AccessRequest, error) {
	stream, err := api.WatchAccessRequest(ctx, &dsarv1.WatchAccessRequestRequest{Id: id})
	if err != nil {
		return nil, err
	}
	var last *dsarv1.AccessRequest
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return last, nil
		}
		if err != nil {
			return last, err
		}
		if err := show(m); err != nil {
			return last, err
		}
		last = m.GetAccessRequest()
	}
}

const barWidth = 24

// bar draws fraction f (0..1) as a text bar.
func bar(f float64) string {
	f = min(max(f, 0), 1)
	n := int(f*barWidth + 0.5)
	return "[" + strings.Repeat("#", n) + strings.Repeat("-", barWidth-n) + "]"
}

// sectionFraction is how far a section is: by windows when it has them,
// else done or not.
func sectionFraction(s *dsarv1.Section) float64 {
	switch s.GetState() {
	case dsarv1.SectionState_SECTION_STATE_COMPLETE, dsarv1.SectionState_SECTION_STATE_NOT_APPLICABLE:
		return 1
	}
	if t := s.GetWindowsTotal(); t > 0 {
		return float64(s.GetWindowsDone()) / float64(t)
	}
	return 0
}

// View shows a watched request: on a terminal a block of bars
// redrawn in place, otherwise a line for every change.
type View struct {
	Loc   *time.Location // of the times shown; nil: local
	w     io.Writer
	tty   bool
	drawn int               // lines of the last block (terminal)
	last  map[string]string // the last line printed per section (plain)
}

// NewView returns a View that writes to w, with bars when tty.
func NewView(w io.Writer, tty bool) *View {
	return &View{w: w, tty: tty, last: map[string]string{}}
}

// Show shows one update of the request. Its error is Watch's show's: a
// View's writes are not checked, as fmt.Println's are not.
func (v *View) Show(m *dsarv1.WatchAccessRequestResponse) error {
	r := m.GetAccessRequest()
	head := fmt.Sprintf("%s  %s", r.GetId(), StateWord(r.GetState()))
	if eta := m.GetEstimatedCompletionTime(); eta != nil {
		head += "  eta " + Time(eta.AsTime(), v.Loc)
	}
	if w := r.GetWaitingUntil(); w != nil {
		what := "Zoom's quota"
		if r.GetState() == dsarv1.RequestState_REQUEST_STATE_WAITING_ZOOM {
			what = "Zoom to answer again"
		}
		head += "  waiting for " + what + " until " + Time(w.AsTime(), v.Loc)
	}
	if r.GetReason() != "" {
		head += "  (" + r.GetReason() + ")"
	}
	if v.tty {
		var b strings.Builder
		if v.drawn > 0 {
			fmt.Fprintf(&b, "\x1b[%dA", v.drawn) // back to the top of the block
		}
		fmt.Fprintf(&b, "\r\x1b[K%s\n", head)
		for _, s := range r.GetSections() {
			line := fmt.Sprintf("  %-20s %s %-14s %6d records", s.GetName(), bar(sectionFraction(s)), SectionWord(s.GetState()), s.GetRecords())
			if m := Media(s); m != "" {
				line += "  " + m
			}
			fmt.Fprintf(&b, "\r\x1b[K%s\n", line)
		}
		v.drawn = 1 + len(r.GetSections())
		io.WriteString(v.w, b.String())
		return nil
	}
	if v.last[""] != head {
		fmt.Fprintln(v.w, head)
		v.last[""] = head
	}
	for _, s := range r.GetSections() {
		line := fmt.Sprintf("  %s %s records=%d pages=%d calls=%d", s.GetName(), SectionWord(s.GetState()), s.GetRecords(), s.GetPages(), s.GetCalls())
		if t := s.GetWindowsTotal(); t > 0 {
			line += fmt.Sprintf(" windows=%d/%d", s.GetWindowsDone(), t)
		}
		if m := Media(s); m != "" {
			line += " media=" + m
		}
		if s.GetReason() != "" {
			line += " reason=" + fmt.Sprintf("%q", s.GetReason())
		}
		if v.last[s.GetName()] != line {
			fmt.Fprintln(v.w, line)
			v.last[s.GetName()] = line
		}
	}
	return nil
}

// Bytes shows a download: a bar redrawn with \r on a terminal,
// nothing otherwise (the final line says what was written).
type Bytes struct {
	w         io.Writer
	tty       bool
	lastDrawn time.Time
}

// NewBytes returns a Bytes that draws on w when it is a terminal.
func NewBytes(w io.Writer) *Bytes { return &Bytes{w: w, tty: IsTerminal(w)} }

// Update draws done bytes of total; it redraws at most ten times a second
// and ends the line when done reaches total. Its signature is that of
// client.DownloadOptions.Progress.
func (p *Bytes) Update(done, total int64) error {
	if !p.tty || total <= 0 {
		return nil
	}
	final := done == total
	now := time.Now()
	if !final && now.Sub(p.lastDrawn) < 100*time.Millisecond {
		return nil
	}
	p.lastDrawn = now
	fmt.Fprintf(p.w, "\r\x1b[K%s %5.1f%% %d/%d bytes", bar(float64(done)/float64(total)), 100*float64(done)/float64(total), done, total)
	if final {
		fmt.Fprintln(p.w)
	}
	return nil
}
