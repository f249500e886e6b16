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
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the subject's zone, the same on every machine

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// reportRows is how many records one page of the report shows of a part:
// a part with more continues on further pages (pagePath), so that every
// record is reachable from index.html while no page grows without bound.
const reportRows = 1000

//go:embed report.tmpl
var reportFS embed.FS

var reportTmpl = template.Must(template.ParseFS(reportFS, "report.tmpl"))

// pagePath is the entry of page n (from 2) of a part's table.
func pagePath(section, part string, n int64) string {
	return fmt.Sprintf("pages/%s-%s-%d.html", section, part, n)
}

type summaryRow struct {
	Anchor, Title, Status, Explanation, Period string
	Records                                    int64
}

type sectionView struct {
	Name, Anchor, Title, Status, Explanation, Period, Limit, Entry, Note string
	Collected                                                            bool
	Records, Listings                                                    int64
	MediaFiles                                                           int
	CSV                                                                  []string
}

type tableView struct {
	Title   string
	Headers []string
	Files   bool // a last column links the record's media files
	// Part ("section/part") marks the tables that show a part's records,
	// for a reader (or a test) to count them; Object marks those of an
	// object part, whose rows are its fields.
	Part   string
	Object bool
}

// Labels is a style sheet that, on a narrow screen, where each row of a
// table of records reads as a card, heads each cell with its column's
// header: written once per table rather than on every cell.
func (v tableView) Labels() template.CSS {
	if v.Part == "" || v.Object {
		return ""
	}
	hs := v.Headers
	if v.Files {
		hs = append(hs[:len(hs):len(hs)], mediaHeader)
	}
	var b strings.Builder
	b.WriteString("@media (max-width:40em){")
	for i, h := range hs {
		fmt.Fprintf(&b, "[data-part=%s] td:nth-child(%d)::before{content:%s}", cssString(v.Part), i+1, cssString(h+": "))
	}
	b.WriteString("}")
	return template.CSS(b.String())
}

// cssString quotes s as a CSS string: every character but letters,
// digits and spaces as a hexadecimal escape, so that no text of Zoom's
// (a column named after a field of an unknown record) can end it.
func cssString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r == ' ' || r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			b.WriteRune(r)
			continue
		}
		fmt.Fprintf(&b, "\\%x ", r)
	}
	b.WriteByte('"')
	return b.String()
}

// rowView is one row of a table: its cells and, in a table with Files, the
// links to its record's media files.
type rowView struct {
	Cells []string
	Files []fileLink
	Media bool
}

type fileLink struct {
	Href  string // relative to the page
	Label string
	Audio bool // played in place
}

// tableEnd closes a table; a part continued on further pages links them.
type tableEnd struct {
	From, To, Total int64
	Pages           []pageLink
}

type pageLink struct {
	N    int64
	Href string
}

// pageView is the head of a further page of a part's table.
type pageView struct {
	Title, Part, Zone, Index string
	Prev, Next               string
	From, To, Total          int64
}

// report holds what rendering needs besides the pages: the subject's zone,
// the names of their groups and the media entries the bundle holds.
type report struct {
	in     Input
	m      *Manifest
	src    Source
	counts map[string]int64 // records per section/part
	loc    *time.Location
	groups map[string]string // group id to name
	media  map[string]bool   // media entries of the bundle
	names  map[string]string // bundle path of a media file, by stored path
	csv    map[string][]string
}

// subjectZone is the time zone of the subject's profile, UTC when it
// names none Go knows.
func subjectZone(ctx context.Context, in Input, src Source) (*time.Location, error) {
	loc := time.UTC
	for _, s := range in.Sections {
		if s.Name != dsar.SectionProfile || s.State != dsar.SectionComplete {
			continue
		}
		err := src.Pages(ctx, in.Request.ID, s.Name, dsar.PartUser, func(pg dsar.Page) error {
			var x fieldIndex
			body, err := objectBody(pg)
			if err != nil {
				return err
			}
			x.reset(body)
			if tz, ok := stringField(&x, "timezone"); ok && tz != "" {
				if l, err := time.LoadLocation(tz); err == nil {
					loc = l
				}
			}
			return errStop
		})
		if err != nil && !errors.Is(err, errStop) {
			return nil, fmt.Errorf("profile: %w", err)
		}
	}
	return loc, nil
}

// newReport gathers what the report needs besides the pages: the names
// of the subject's groups and the media entries the bundle holds, under
// their names in the bundle (names, by stored path).
func newReport(ctx context.Context, in Input, m *Manifest, src Source, counts map[string]int64, entries []ManifestEntry, loc *time.Location, names map[string]string) (*report, error) {
	r := &report{in: in, m: m, src: src, counts: counts, loc: loc, names: names, groups: map[string]string{}, media: map[string]bool{}, csv: map[string][]string{}}
	for _, e := range entries {
		if strings.HasPrefix(e.Path, "media/") {
			r.media[e.Path] = true
		}
	}
	for _, s := range in.Sections {
		if s.Name != dsar.SectionGroups || s.State != dsar.SectionComplete {
			continue
		}
		for _, p := range s.Parts {
			err := src.Pages(ctx, in.Request.ID, s.Name, p.Name, func(pg dsar.Page) error {
				return records(pg, s.Lists[p.Name], func(rec []byte, _ string) error {
					var g struct {
						ID   string `json:"id"`
						Name string `json:"name"`
					}
					if json.Unmarshal(rec, &g) == nil && g.ID != "" && g.Name != "" {
						r.groups[g.ID] = g.Name
					}
					return nil
				})
			})
			if err != nil {
				return nil, fmt.Errorf("groups: %w", err)
			}
		}
	}
	return r, nil
}

// csvEntries notes the CSV files of each section, for its paragraph.
func (r *report) csvEntries(entries []ManifestEntry) {
	for _, e := range entries {
		if name, ok := strings.CutPrefix(e.Path, "data/"); ok && strings.HasSuffix(name, ".csv") {
			section, _, _ := strings.Cut(strings.TrimSuffix(name, ".csv"), ".")
			r.csv[section] = append(r.csv[section], e.Path)
		}
	}
}

// zone names the report's time zone as a person reads it.
func (r *report) zone() string {
	if r.loc == time.UTC {
		return "UTC (the profile names no time zone)"
	}
	return r.loc.String()
}

// writeIndex writes index.html: the request, the summary, the Art. 15(1)
// information and every section with the first reportRows records of
// each of its parts.
func (r *report) writeIndex(ctx context.Context, w io.Writer) error {
	in, m := r.in, r.m
	head := struct {
		Subject, Account, RequestID, Started, Finished, Version, Zone string
		NoUser                                                        bool
		Summary                                                       []summaryRow
		Controller                                                    *ControllerInfo
	}{
		Subject: in.Request.Email, Account: in.Request.Account, RequestID: in.Request.ID,
		Started: displayTime(m.Started, r.loc), Finished: displayTime(m.Finished, r.loc), Version: m.Version,
		NoUser: m.Outcome == dsar.OutcomeNoZoomUser, Zone: r.zone(), Controller: in.Controller,
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
			Collected: s.State != dsar.SectionNotApplicable, Note: s.Note, Limit: limitWords[s.Name], CSV: r.csv[s.Name],
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
				err = r.object(ctx, w, s.Name, p.Name, pt)
			} else {
				err = r.list(ctx, w, s, p.Name, list, pt)
			}
			if err != nil {
				return fmt.Errorf("section %s part %s: %w", s.Name, p.Name, err)
			}
		}
	}
	return reportTmpl.ExecuteTemplate(w, "foot", nil)
}

// list writes the first reportRows records of a list part as a table,
// linking the pages that show the rest. Rows are rendered a page at a
// time: memory stays bounded by one page.
func (r *report) list(ctx context.Context, w io.Writer, s Section, part, list, ptitle string) error {
	var (
		shown int64
		rows  []rowView
	)
	flush := func() error {
		err := writeRows(w, rows)
		rows = rows[:0]
		return err
	}
	err := r.walkRows(ctx, s, part, list, "", func(headers []string, files bool, row rowView) error {
		if shown == reportRows {
			return errStop
		}
		if shown == 0 {
			if err := reportTmpl.ExecuteTemplate(w, "tableStart", tableView{Title: ptitle, Headers: headers, Files: files, Part: s.Name + "/" + part}); err != nil {
				return err
			}
		}
		rows = append(rows, row)
		shown++
		if len(rows) == 100 {
			return flush()
		}
		return nil
	})
	if ferr := flush(); err == nil || errors.Is(err, errStop) {
		err = ferr
	}
	if err != nil {
		return err
	}
	if shown == 0 {
		return reportTmpl.ExecuteTemplate(w, "empty", tableView{Title: ptitle})
	}
	total := max(r.counts[s.Name+"/"+part], shown)
	end := tableEnd{From: 1, To: shown, Total: total}
	for n := int64(2); (n-1)*reportRows < total; n++ {
		end.Pages = append(end.Pages, pageLink{N: n, Href: pagePath(s.Name, part, n)})
	}
	return reportTmpl.ExecuteTemplate(w, "tableEnd", end)
}

// walkRows calls fn with every row of a list part in order, with the
// table's headers and whether it has a column of media files; a part
// fetched item by item whose items are objects gets a row per item. base
// leads from the page to the bundle's root.
//
// A part named in itemColumns gets a first column naming each row's item
// by its label (or its key when it has none).
func (r *report) walkRows(ctx context.Context, s Section, part, list, base string, fn func(headers []string, files bool, row rowView) error) error {
	itemHeader, byItem := itemColumns[s.Name+"/"+part]
	labels := s.Labels[part]
	files := r.in.Files != nil && r.sectionMedia(s.Name)
	var (
		cols []column
		hs   []string
		x    fieldIndex
	)
	return r.src.Pages(ctx, r.in.Request.ID, s.Name, part, func(pg dsar.Page) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		var byRec map[string][]fileLink
		if files {
			var err error
			if byRec, err = r.links(s.Name, part, pg.Body, base); err != nil {
				return err
			}
		}
		return records(pg, list, func(rec []byte, id string) error {
			if cols == nil {
				var err error
				if cols, err = columnsFor(s.Name, part, rec); err != nil {
					return err
				}
				if byItem {
					hs = append(hs, itemHeader)
				}
				for _, c := range cols {
					hs = append(hs, c.Header)
				}
			}
			row := rowView{Cells: make([]string, 0, len(cols)+1), Media: files}
			if byItem {
				row.Cells = append(row.Cells, itemLabel(labels, pg.Item))
			}
			x.reset(rec)
			for _, c := range cols {
				row.Cells = append(row.Cells, c.rawCell(&x, r.loc))
			}
			if files && id != "" {
				row.Files = byRec[id]
			}
			return fn(hs, files, row)
		})
	})
}

// mediaHeader heads the column of a record's media files.
const mediaHeader = "Media"

// sectionMedia reports whether the bundle holds media files of a section.
func (r *report) sectionMedia(section string) bool {
	for _, ms := range r.m.Sections {
		if ms.Name == section {
			return ms.MediaFiles > 0
		}
	}
	return false
}

// links returns the links to the media files of a page's records that
// the bundle holds, by record id.
func (r *report) links(section, part string, body []byte, base string) (map[string][]fileLink, error) {
	fs, err := r.in.Files(section, part, body)
	if err != nil {
		return nil, fmt.Errorf("media files of a page: %w", err)
	}
	out := map[string][]fileLink{}
	for _, f := range fs {
		f.Section = section
		p := f.Path()
		if n, ok := r.names[p]; ok {
			p = n
		}
		if !r.media[p] {
			continue // Zoom no longer had it
		}
		out[f.Record] = append(out[f.Record], fileLink{Href: base + p, Label: fileLabel(f.Name), Audio: isAudio(f.Name)})
	}
	return out, nil
}

// fileLabel says what a media file is from its name: its kind by
// extension, and the file's own name when Zoom names the kind ("audio_only").
func fileLabel(name string) string {
	base := path.Base(name)
	stem, ext, _ := strings.Cut(base, ".")
	kind := map[string]string{
		"mp3": "audio", "m4a": "audio", "wav": "audio", "mp4": "video", "vtt": "transcript",
		"txt": "text", "json": "transcript", "cc": "captions", "csv": "list",
	}[strings.ToLower(ext)]
	switch {
	case strings.HasSuffix(stem, "-transcript"):
		return "Transcript"
	case kind == "":
		return base
	case strings.Contains(stem, "_"): // Zoom's file type, such as "audio_only"
		return title(nil, strings.ToLower(stem)) + " (" + kind + ")"
	}
	return title(nil, kind)
}

func isAudio(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".mp3", ".m4a", ".wav":
		return true
	}
	return false
}

// writeRows writes rows of a table (writeRow).
func writeRows(w io.Writer, rows []rowView) error {
	var b []byte
	for _, row := range rows {
		b = appendRow(b[:0], row)
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// writeRow writes a row of a table (appendRow).
func writeRow(w io.Writer, row rowView) error {
	_, err := w.Write(appendRow(nil, row))
	return err
}

// appendRow appends a row of a table to b: each cell as text, and in a
// table with media its files' links. Rows are most of a report, so they
// are written here rather than by the template, into a buffer the caller
// reuses; everything Zoom sent is escaped as the template would, and the
// links are paths this package built from valid media paths
// (validMediaPath), relative, so no scheme.
func appendRow(b []byte, row rowView) []byte {
	b = append(b, "<tr>"...)
	for _, c := range row.Cells {
		b = append(b, "<td>"...)
		b = append(b, template.HTMLEscapeString(c)...)
		b = append(b, "</td>"...)
	}
	if row.Media {
		b = append(b, "<td>"...)
		for _, f := range row.Files {
			href := template.HTMLEscapeString((&url.URL{Path: f.Href}).EscapedPath())
			if f.Audio {
				b = append(b, `<audio controls preload="none" src="`...)
				b = append(b, href...)
				b = append(b, `"></audio>`...)
			}
			b = append(b, `<a href="`...)
			b = append(b, href...)
			b = append(b, `">`...)
			b = append(b, template.HTMLEscapeString(f.Label)...)
			b = append(b, "</a> "...)
		}
		b = append(b, "</td>"...)
	}
	return append(b, "</tr>\n"...)
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

// object writes an object part as a table of field and value; the
// profile's user object first gets a table of the fields a person asks
// about, and settings are grouped as Zoom's web settings group them, with
// readable labels.
func (r *report) object(ctx context.Context, w io.Writer, section, part, ptitle string) error {
	var (
		body []byte
		obj  map[string]any
	)
	err := r.src.Pages(ctx, r.in.Request.ID, section, part, func(pg dsar.Page) error {
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
		var x fieldIndex
		x.reset(body)
		for _, c := range profileFields {
			v := c.rawCell(&x, r.loc)
			if c.Kind == "groups" {
				v = r.groupNames(objectField(body, c.Fields[0]), v)
			}
			if v != "" {
				if err := writeRow(w, rowView{Cells: []string{c.Header, v}}); err != nil {
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
	flatten("", obj, &rows, r.loc)
	if section == dsar.SectionSettings || section == dsar.SectionPhoneSettings {
		return settingsTables(w, ptitle, section+"/"+part, rows)
	}
	if err := reportTmpl.ExecuteTemplate(w, "tableStart", tableView{Title: ptitle, Headers: []string{"Field", "Value"}, Part: section + "/" + part, Object: true}); err != nil {
		return err
	}
	for _, row := range rows {
		if err := writeRow(w, rowView{Cells: row[:]}); err != nil {
			return err
		}
	}
	return reportTmpl.ExecuteTemplate(w, "tableEnd", tableEnd{})
}

// settingsTables writes settings as a table per group (the object's top
// level: "In meeting", "Email notification"), each setting labelled in
// words; the JSON keeps Zoom's keys.
func settingsTables(w io.Writer, ptitle, part string, rows [][2]string) error {
	if ptitle != "" {
		if err := reportTmpl.ExecuteTemplate(w, "part", ptitle); err != nil {
			return err
		}
	}
	group := "\x00"
	for _, row := range rows {
		g, rest, ok := strings.Cut(row[0], ".")
		if !ok {
			g, rest = "", row[0]
		}
		if g != group {
			if group != "\x00" {
				if err := reportTmpl.ExecuteTemplate(w, "tableEnd", tableEnd{}); err != nil {
					return err
				}
			}
			group = g
			gt := "General"
			if g != "" {
				gt = settingLabel(g)
			}
			if err := reportTmpl.ExecuteTemplate(w, "tableStart", tableView{Title: gt, Headers: []string{"Setting", "Value"}, Part: part, Object: true}); err != nil {
				return err
			}
		}
		if err := writeRow(w, rowView{Cells: []string{settingLabel(rest), row[1]}}); err != nil {
			return err
		}
	}
	if group == "\x00" {
		return nil
	}
	return reportTmpl.ExecuteTemplate(w, "tableEnd", tableEnd{})
}

// groupNames renders a list of group ids as the groups' names where the
// groups section names them; fallback when the value is no list of ids.
func (r *report) groupNames(raw []byte, fallback string) string {
	var ids []string
	if json.Unmarshal(raw, &ids) != nil {
		return fallback
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id
		if n := r.groups[id]; n != "" {
			out[i] = n
		}
	}
	return strings.Join(out, ", ")
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
// order, times in loc.
func flatten(prefix string, v any, rows *[][2]string, loc *time.Location) {
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
			flatten(p, t[k], rows, loc)
		}
	case []any:
		if scalars(t) {
			*rows = append(*rows, [2]string{prefix, formatValue(t, loc)})
			return
		}
		for i, e := range t {
			flatten(prefix+"["+strconv.Itoa(i)+"]", e, rows, loc)
		}
	default:
		*rows = append(*rows, [2]string{prefix, formatValue(t, loc)})
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

// formatValue renders a decoded JSON value as text for a table cell,
// times in loc.
func formatValue(v any, loc *time.Location) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return displayTime(t, loc)
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
				s[i] = formatValue(e, loc)
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

// displayTime shows an RFC 3339 time in loc as "2006-01-02 15:04 MST"
// (the zone's abbreviation) and any other string unchanged.
func displayTime(s string, loc *time.Location) string {
	if len(s) < 20 || s[4] != '-' || s[10] != 'T' {
		return s
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// period summarises a section's windows as the dates they cover.
func period(ws []dsar.Span) string {
	if len(ws) == 0 {
		return "—" // not limited to a window: everything Zoom returned
	}
	from, to := ws[0].From, ws[0].To
	for _, w := range ws[1:] {
		from, to = min(from, w.From), max(to, w.To)
	}
	return longDate(from) + " to " + longDate(to)
}

// longDate writes a yyyy-mm-dd date as "2 January 2006".
func longDate(d string) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return d
	}
	return t.Format("2 January 2006")
}

// limitWords says, for the sections Zoom's API serves only in part, what
// it leaves out (DESIGN.md's table of sections; Zoom's API reference for
// each endpoint).
var limitWords = map[string]string{
	dsar.SectionPhoneCallHistory: "Zoom's API returns the call history of the last six months only: older calls cannot be collected through it.",
	dsar.SectionPhoneVoicemails:  "Zoom's API returns the voicemails of the last six months only: older ones cannot be collected through it.",
	dsar.SectionPhoneRecordings:  "Zoom's API returns the call recordings of the last six months only: older ones cannot be collected through it.",
	dsar.SectionPhoneSMS:         "Zoom's API returns the text messages of the last six months only: older ones cannot be collected through it.",
	dsar.SectionMeetingsAttended: "Zoom's reports cover the meetings of the last six months only: older ones cannot be collected through its API.",
	dsar.SectionTeamChat:         "Zoom's API returns the Team Chat messages of the last six months only: older ones cannot be collected through it.",
}
