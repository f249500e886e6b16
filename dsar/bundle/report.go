package bundle

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// reportRows caps each table of index.html; data/<section>.json always has
// every record.
const reportRows = 1000

//go:embed report.tmpl
var reportFS embed.FS

var reportTmpl = template.Must(template.ParseFS(reportFS, "report.tmpl"))

type summaryRow struct {
	Anchor, Title, Status, Explanation, Period string
	Records                                    int64
}

type sectionView struct {
	Name, Anchor, Title, Status, Explanation, Period, Entry, Note string
	Collected                                                     bool
	Records, Listings                                             int64
	MediaFiles                                                    int
}

type tableView struct {
	Title   string
	Headers []string
}

type tableEnd struct {
	Shown, Total int64
	Entry        string
}

// writeReport writes index.html, reading the pages again (at most
// reportRows records per table) and escaping everything Zoom sent.
func writeReport(ctx context.Context, w io.Writer, in Input, m *Manifest, src Source, counts map[string]int64) error {
	head := struct {
		Subject, Account, RequestID, Started, Finished, Version string
		NoUser                                                  bool
		Summary                                                 []summaryRow
	}{
		Subject: in.Request.Email, Account: in.Request.Account, RequestID: in.Request.ID,
		Started: displayTime(m.Started), Finished: displayTime(m.Finished), Version: m.Version,
		NoUser: m.Outcome == dsar.OutcomeNoZoomUser,
	}
	for i, s := range in.Sections {
		row := summaryRow{
			Anchor: "s-" + s.Name, Title: title(sectionTitles, s.Name), Status: stateWords(s.State),
			Records: m.Sections[i].Records, Period: period(s.Windows),
		}
		if s.State == dsar.SectionNotApplicable {
			row.Explanation = reasonWords(s.Name, s.ReasonCode, s.Reason)
		}
		head.Summary = append(head.Summary, row)
	}
	if err := reportTmpl.ExecuteTemplate(w, "head", head); err != nil {
		return err
	}
	for i, s := range in.Sections {
		v := sectionView{
			Name: s.Name, Anchor: "s-" + s.Name, Title: title(sectionTitles, s.Name),
			Status: stateWords(s.State), Entry: DataPath(s.Name), Period: period(s.Windows),
			Records: m.Sections[i].Records, Listings: m.Sections[i].Listings, MediaFiles: m.Sections[i].MediaFiles,
			Collected: s.State != dsar.SectionNotApplicable, Note: s.Note,
		}
		if len(s.Windows) == 0 {
			v.Period = ""
		}
		if s.State == dsar.SectionNotApplicable {
			v.Explanation = reasonWords(s.Name, s.ReasonCode, s.Reason)
		}
		if err := reportTmpl.ExecuteTemplate(w, "section", v); err != nil {
			return err
		}
		if !v.Collected {
			continue
		}
		for _, p := range s.Parts {
			pt := ""
			if len(s.Parts) > 1 {
				pt = title(partTitles, p.Name)
			}
			var err error
			if list := s.Lists[p.Name]; list == "" && dsar.ItemsFrom(s.Name, p.Name) == nil {
				err = reportObject(ctx, w, in.Request.ID, s.Name, p.Name, pt, src)
			} else {
				err = reportList(ctx, w, in.Request.ID, s.Name, p.Name, list, pt, src, counts[s.Name+"/"+p.Name], s.Labels[p.Name])
			}
			if err != nil {
				return fmt.Errorf("section %s part %s: %w", s.Name, p.Name, err)
			}
		}
	}
	return reportTmpl.ExecuteTemplate(w, "foot", nil)
}

// reportList writes one list part as a table, stopping after reportRows
// records; a part fetched item by item whose items are objects gets a row
// per item. Rows are rendered a page at a time: memory stays bounded by
// one page.
//
// A part named in itemColumns gets a first column naming each row's item
// by its label (or its key when it has none).
func reportList(ctx context.Context, w io.Writer, reqID, section, part, list, ptitle string, src Source, total int64, labels map[string]string) error {
	itemHeader, byItem := itemColumns[section+"/"+part]
	var (
		shown int64
		cols  []column
		rows  [][]string
	)
	flush := func() error {
		err := reportTmpl.ExecuteTemplate(w, "rows", rows)
		rows = rows[:0]
		return err
	}
	err := src.Pages(ctx, reqID, section, part, func(pg dsar.Page) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := records(pg, list, func(rec []byte, _ string) error {
			if shown == reportRows {
				return errStop
			}
			if cols == nil {
				var err error
				if cols, err = columnsFor(section, part, rec); err != nil {
					return err
				}
				var hs []string
				if byItem {
					hs = append(hs, itemHeader)
				}
				for _, c := range cols {
					hs = append(hs, c.Header)
				}
				if err := reportTmpl.ExecuteTemplate(w, "tableStart", tableView{Title: ptitle, Headers: hs}); err != nil {
					return err
				}
			}
			cells := make([]string, 0, len(cols)+1)
			if byItem {
				cells = append(cells, itemLabel(labels, pg.Item))
			}
			for _, c := range cols {
				cells = append(cells, c.rawCell(rec))
			}
			rows = append(rows, cells)
			shown++
			return nil
		})
		if ferr := flush(); err == nil {
			err = ferr
		}
		return err
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	if shown == 0 {
		return reportTmpl.ExecuteTemplate(w, "empty", tableView{Title: ptitle})
	}
	return reportTmpl.ExecuteTemplate(w, "tableEnd", tableEnd{Shown: shown, Total: max(total, shown), Entry: DataPath(section)})
}

// itemLabel is how a row names its item: its label, or else the value of
// the item's query ("to_contact=a@b" reads "a@b").
func itemLabel(labels map[string]string, item string) string {
	if l := labels[item]; l != "" {
		return l
	}
	if _, v, ok := strings.Cut(item, "="); ok {
		if u, err := url.QueryUnescape(v); err == nil {
			return u
		}
	}
	return item
}

// reportObject writes an object part as a table of field and value; the
// profile's user object first gets a table of the fields a person asks
// about.
func reportObject(ctx context.Context, w io.Writer, reqID, section, part, ptitle string, src Source) error {
	var (
		body []byte
		obj  map[string]any
	)
	err := src.Pages(ctx, reqID, section, part, func(pg dsar.Page) error {
		b, err := objectBody(pg)
		if err != nil {
			return err
		}
		if obj, err = decodeObject(b); err != nil {
			return err
		}
		body = bytes.Clone(b) // a page is the source's only during fn
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	if obj == nil {
		return reportTmpl.ExecuteTemplate(w, "empty", tableView{Title: ptitle})
	}
	if section == dsar.SectionProfile && part == dsar.PartUser {
		if err := reportTmpl.ExecuteTemplate(w, "tableStart", tableView{Title: ptitle, Headers: []string{"Field", "Value"}}); err != nil {
			return err
		}
		for _, c := range profileFields {
			if v := c.rawCell(body); v != "" {
				if err := reportTmpl.ExecuteTemplate(w, "row", []string{c.Header, v}); err != nil {
					return err
				}
			}
		}
		if err := reportTmpl.ExecuteTemplate(w, "tableEnd", tableEnd{}); err != nil {
			return err
		}
		ptitle = "All profile fields"
	}
	var rows [][2]string
	flatten("", obj, &rows)
	if err := reportTmpl.ExecuteTemplate(w, "tableStart", tableView{Title: ptitle, Headers: []string{"Field", "Value"}}); err != nil {
		return err
	}
	for i, r := range rows {
		if i == reportRows {
			break
		}
		if err := reportTmpl.ExecuteTemplate(w, "row", r[:]); err != nil {
			return err
		}
	}
	return reportTmpl.ExecuteTemplate(w, "tableEnd", tableEnd{Shown: int64(min(len(rows), reportRows)), Total: int64(len(rows)), Entry: DataPath(section)})
}

// decodeObject decodes a record for display, numbers kept as written.
func decodeObject(b []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	if obj, ok := v.(map[string]any); ok {
		return obj, nil
	}
	return map[string]any{"value": v}, nil // a record that is not an object
}

// flatten lists an object's scalar values under dotted paths, in sorted
// order.
func flatten(prefix string, v any, rows *[][2]string) {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, t[k], rows)
		}
	case []any:
		if scalars(t) {
			*rows = append(*rows, [2]string{prefix, formatValue(t)})
			return
		}
		for i, e := range t {
			flatten(prefix+"["+strconv.Itoa(i)+"]", e, rows)
		}
	default:
		*rows = append(*rows, [2]string{prefix, formatValue(t)})
	}
}

func scalars(a []any) bool {
	for _, e := range a {
		switch e.(type) {
		case map[string]any, []any:
			return false
		}
	}
	return true
}

// formatValue renders a decoded JSON value as text for a table cell.
// names renders a list of people or files (an SMS conversation's
// participants, a message's attachments) as their names, with a person's
// phone number; false when an element has neither.
func names(list []any) (string, bool) {
	out := make([]string, 0, len(list))
	for _, e := range list {
		m, _ := e.(map[string]any)
		var name string
		for _, k := range []string{"display_name", "name", "file_name"} {
			if s, ok := m[k].(string); ok && s != "" {
				name = s
				break
			}
		}
		num, _ := m["phone_number"].(string)
		switch {
		case name != "" && num != "":
			name += " (" + num + ")"
		case name == "":
			name = num
		}
		if name == "" {
			return "", false
		}
		out = append(out, name)
	}
	return strings.Join(out, ", "), true
}

func formatValue(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return displayTime(t)
	case json.Number:
		return t.String()
	case bool:
		if t {
			return "yes"
		}
		return "no"
	case []any:
		if scalars(t) {
			s := make([]string, len(t))
			for i, e := range t {
				s[i] = formatValue(e)
			}
			return strings.Join(s, ", ")
		}
		if s, ok := names(t); ok {
			return s
		}
	}
	b, err := json.Marshal(v) // maps encode with sorted keys
	if err != nil {
		return ""
	}
	return string(b)
}

// displayTime shows an RFC 3339 time as "2006-01-02 15:04 UTC" and any
// other string unchanged.
func displayTime(s string) string {
	if len(s) < 20 || s[4] != '-' || s[10] != 'T' {
		return s
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// period summarises a section's windows.
func period(ws []dsar.Span) string {
	if len(ws) == 0 {
		return "—" // not limited to a window: everything Zoom returned
	}
	from, to := ws[0].From, ws[0].To
	for _, w := range ws[1:] {
		from, to = min(from, w.From), max(to, w.To)
	}
	if len(ws) == 1 {
		return from + " to " + to
	}
	return fmt.Sprintf("%s to %s (%d windows)", from, to, len(ws))
}
