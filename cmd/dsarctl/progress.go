package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

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

// progressView shows a watched request: on a terminal a block of bars
// redrawn in place, otherwise a line for every change.
type progressView struct {
	w     io.Writer
	tty   bool
	drawn int               // lines of the last block (terminal)
	last  map[string]string // the last line printed per section (plain)
}

func newProgressView(w io.Writer, tty bool) *progressView {
	return &progressView{w: w, tty: tty, last: map[string]string{}}
}

func (v *progressView) show(m *dsarv1.WatchAccessRequestResponse) {
	r := m.GetAccessRequest()
	head := fmt.Sprintf("%s  %s", r.GetId(), stateWord(r.GetState()))
	if eta := m.GetEstimatedCompletionTime(); eta != nil {
		head += "  eta " + eta.AsTime().Local().Format(time.TimeOnly)
	}
	if w := r.GetWaitingUntil(); w != nil {
		head += "  waiting for Zoom's quota until " + w.AsTime().Local().Format(time.DateTime)
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
			fmt.Fprintf(&b, "\r\x1b[K  %-20s %s %-14s %6d records\n", s.GetName(), bar(sectionFraction(s)), sectionWord(s.GetState()), s.GetRecords())
		}
		v.drawn = 1 + len(r.GetSections())
		io.WriteString(v.w, b.String())
		return
	}
	if v.last[""] != head {
		fmt.Fprintln(v.w, head)
		v.last[""] = head
	}
	for _, s := range r.GetSections() {
		line := fmt.Sprintf("  %s %s records=%d pages=%d calls=%d", s.GetName(), sectionWord(s.GetState()), s.GetRecords(), s.GetPages(), s.GetCalls())
		if t := s.GetWindowsTotal(); t > 0 {
			line += fmt.Sprintf(" windows=%d/%d", s.GetWindowsDone(), t)
		}
		if s.GetReason() != "" {
			line += " reason=" + fmt.Sprintf("%q", s.GetReason())
		}
		if v.last[s.GetName()] != line {
			fmt.Fprintln(v.w, line)
			v.last[s.GetName()] = line
		}
	}
}

// byteProgress shows a download: a bar redrawn with \r on a terminal,
// nothing otherwise (the final line says what was written).
type byteProgress struct {
	w         io.Writer
	tty       bool
	total     int64
	lastDrawn time.Time
}

func (p *byteProgress) update(done int64, final bool) {
	if !p.tty || p.total <= 0 {
		return
	}
	now := time.Now()
	if !final && now.Sub(p.lastDrawn) < 100*time.Millisecond {
		return
	}
	p.lastDrawn = now
	fmt.Fprintf(p.w, "\r\x1b[K%s %5.1f%% %d/%d bytes", bar(float64(done)/float64(p.total)), 100*float64(done)/float64(p.total), done, p.total)
	if final {
		fmt.Fprintln(p.w)
	}
}
