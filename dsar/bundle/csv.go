package bundle

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"

	"github.com/klauspost/compress/zip"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// CSVPath is the entry that holds a part's records as a table for a
// spreadsheet: data/<section>.csv, or data/<section>.<part>.csv when the
// section has several parts.
func CSVPath(s *dsar.Section, part string) string {
	if len(s.Parts) == 1 {
		return "data/" + s.Name + ".csv"
	}
	return "data/" + s.Name + "." + part + ".csv"
}

// writeCSV writes a CSV entry per part of a collected section: the columns
// of the report's table, with the paths of a record's media files in a
// last column; an object part as rows of field and value. The same scan
// of a list part's pages writes its report's further pages to pages.
func (bw *writer) writeCSV(ctx context.Context, r *report, s Section, pages *aside) error {
	if s.State == dsar.SectionNotApplicable {
		return nil
	}
	for _, p := range s.Parts {
		if err := bw.entryStart(CSVPath(s.Section, p.Name), zip.Deflate); err != nil {
			return err
		}
		cw := csv.NewWriter(bw.buf)
		list := s.Lists[p.Name]
		var err error
		if list == "" && dsar.ItemsFrom(s.Name, p.Name) == nil {
			err = r.src.Pages(ctx, r.in.Request.ID, s.Name, p.Name, func(pg dsar.Page) error {
				b, err := objectBody(pg)
				if err != nil {
					return err
				}
				obj, err := decodeObject(b)
				if err != nil {
					return err
				}
				var rows [][2]string
				flatten("", obj, &rows, r.loc)
				cw.Write([]string{"Field", "Value"})
				for _, row := range rows {
					cw.Write([]string{row[0], csvCell(row[1])})
				}
				return errStop
			})
		} else {
			first := true
			var cells, paths []string // reused: the writer keeps neither
			pg := &pager{r: r, out: pages, s: s, part: p.Name, total: r.counts[s.Name+"/"+p.Name]}
			err = r.walkRows(ctx, s, p.Name, list, "", func(headers []string, files bool, row rowView) error {
				if first {
					first = false
					hs := headers
					if files {
						hs = append(hs[:len(hs):len(hs)], mediaHeader)
					}
					cw.Write(hs)
				}
				cells = cells[:0]
				for _, c := range row.Cells {
					cells = append(cells, csvCell(c))
				}
				if files {
					paths = paths[:0]
					for _, f := range row.Files {
						paths = append(paths, f.Href)
					}
					cells = append(cells, strings.Join(paths, " "))
				}
				if err := cw.Write(cells); err != nil {
					return err
				}
				if pg.total <= reportRows {
					return nil
				}
				return pg.row(headers, files, row)
			})
			if err == nil {
				err = pg.close()
			}
		}
		if err != nil && !errors.Is(err, errStop) {
			return fmt.Errorf("part %s: %w", p.Name, err)
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("part %s: %w", p.Name, err)
		}
		if err := bw.entryEnd(); err != nil {
			return err
		}
	}
	return nil
}

// csvCell keeps a spreadsheet from reading a cell Zoom's data starts with
// "=", "+", "@" or "-" as a formula (OWASP's CSV injection): such a cell
// gets a leading apostrophe. A negative number stays a number.
func csvCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '@', '\t', '\r':
		return "'" + s
	case '-':
		if len(s) == 1 || s[1] < '0' || s[1] > '9' {
			return "'" + s
		}
	}
	return s
}
