package bundle

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// A media file is stored under a name made of Zoom's ids (stable across
// fetches, dsar.MediaFile.Name); in the bundle it gets a name a person
// recognises, made of its record's date and time (in the subject's zone),
// its topic or caller, and what the file is:
//
//	media/phone_voicemails/2026-05-03 1432 Alice Smith - audio.mp3
//	media/cloud_recordings/2026-05-03 1400 Weekly sync/shared screen with speaker view (video).mp4
//
// The names depend on the stored pages only, so they are the same on
// every assembly of a request; two files that would share one are told
// apart by a number, in page order.

// mediaLabel names, per section, the record fields of a media file's name:
// the first present of date and of label (of outbound, for a call the
// subject made), after the words of what.
var mediaLabel = map[string]struct {
	date, label, outbound []string
	what                  string
}{
	dsar.SectionCloudRecordings: {date: []string{"start_time"}, label: []string{"topic"}},
	dsar.SectionPhoneVoicemails: {date: []string{"date_time"}, label: []string{"caller_name", "caller_did_number", "caller_number"}, what: "voicemail from"},
	dsar.SectionPhoneRecordings: {date: []string{"date_time", "start_time"}, label: []string{"caller_name", "caller_number"},
		outbound: []string{"callee_name", "callee_number"}, what: "call with"},
	dsar.SectionPhoneSMS: {date: []string{"date_time"}, label: []string{"sender.display_name", "sender.phone_number"}, what: "from"},
	dsar.SectionTeamChat: {date: []string{"date_time"}, label: []string{"sender_display_name", "sender"}, what: "from"},
}

// mediaNames returns the bundle path of each media file the records of in
// point to (in.Files), by its stored path (dsar.MediaFile.Path).
func mediaNames(ctx context.Context, in Input, src Source, loc *time.Location) (map[string]string, error) {
	names := map[string]string{}
	if in.Files == nil {
		return names, nil
	}
	taken := map[string]bool{}
	dirs := map[string]string{} // the folder of a record's files, by section and record
	var x fieldIndex
	for _, s := range in.Sections {
		if s.State != dsar.SectionComplete {
			continue
		}
		spec := mediaLabel[s.Name]
		for _, p := range s.Parts {
			list := s.Lists[p.Name]
			err := src.Pages(ctx, in.Request.ID, s.Name, p.Name, func(pg dsar.Page) error {
				files, err := in.Files(s.Name, p.Name, pg.Body)
				if err != nil || len(files) == 0 {
					return err
				}
				byRec := map[string][]dsar.MediaFile{}
				for _, f := range files {
					byRec[f.Record] = append(byRec[f.Record], f)
				}
				return records(pg, list, func(rec []byte, id string) error {
					fs := byRec[id]
					if len(fs) == 0 {
						return nil
					}
					delete(byRec, id) // a record listed twice names its files once
					x.reset(rec)
					label := spec.label
					if dir, _ := stringField(&x, "direction"); dir == "outbound" && spec.outbound != nil {
						label = spec.outbound
					}
					stem := recordStem(&x, spec.date, label, spec.what, loc)
					for _, f := range fs {
						f.Section = s.Name
						if _, ok := names[f.Path()]; ok {
							continue
						}
						name := friendlyName(stem, f.Name)
						if d, base, ok := strings.Cut(name, "/"); ok {
							// The same meeting's files in another part
							// (each participant's audio) join its folder.
							key := s.Name + "\x00" + f.Record
							dir, ok := dirs[key]
							if !ok {
								dir = uniqueName(taken, "media/"+s.Name+"/"+d)
								dirs[key] = dir
							}
							name = dir + "/" + base
						} else {
							name = "media/" + s.Name + "/" + name
						}
						names[f.Path()] = uniqueName(taken, name)
					}
					return nil
				})
			})
			if err != nil && !errors.Is(err, errStop) {
				return nil, fmt.Errorf("media names of %s/%s: %w", s.Name, p.Name, err)
			}
		}
	}
	return names, nil
}

// recordStem is "2026-05-03 1432 Alice Smith": the record's date and time
// in loc and its label, each where the record has it.
func recordStem(x *fieldIndex, dates, labels []string, what string, loc *time.Location) string {
	var parts []string
	for _, f := range dates {
		if s, ok := stringField(x, f); ok {
			if t, err := time.Parse(time.RFC3339, s); err == nil {
				parts = append(parts, t.In(loc).Format("2006-01-02 1504"))
				break
			}
		}
	}
	for _, f := range labels {
		if s, ok := stringField(x, f); ok && s != "" {
			if what != "" {
				s = what + " " + s
			}
			parts = append(parts, s)
			break
		}
	}
	return strings.Join(parts, " ")
}

// stringField is the text of a record's field, dotted for a nested one.
func stringField(x *fieldIndex, f string) (string, bool) {
	v := x.path(f)
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	return unquote(v)
}

// friendlyName is a file's name in its section: the record's stem and
// what the file is (fileLabel), its extension kept; a file Zoom keeps in
// a folder of its record (a meeting's recording files) stays in one.
func friendlyName(stem, stored string) string {
	ext := path.Ext(stored)
	kind := strings.ToLower(fileLabel(stored))
	if kind == strings.ToLower(path.Base(stored)) {
		kind = "attachment" // no kind known: Zoom's id says nothing to a person
	}
	if stem == "" {
		return stored
	}
	if strings.Contains(stored, "/") {
		return safeComponent(stem) + "/" + safeComponent(kind) + ext
	}
	return safeComponent(stem+" - "+kind) + ext
}

// safeComponent makes s a path component every system extracts as it is:
// letters, digits, spaces and a few marks, others as "-", at most 100
// bytes, not starting or ending with a dot or a space.
func safeComponent(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), strings.ContainsRune(" -_()&,'+", r):
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	out := b.String()
	for len(out) > 100 {
		_, size := utf8.DecodeLastRuneInString(out)
		out = out[:len(out)-size]
	}
	out = strings.Trim(out, " .")
	if out == "" {
		return "-"
	}
	return out
}

// uniqueName returns p, or p with " 2", " 3"... before its extension when
// an earlier file has it.
func uniqueName(taken map[string]bool, p string) string {
	out := p
	ext := path.Ext(p)
	for n := 2; taken[out]; n++ {
		out = strings.TrimSuffix(p, ext) + " " + strconv.Itoa(n) + ext
	}
	taken[out] = true
	return out
}
