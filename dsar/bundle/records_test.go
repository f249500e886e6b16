package bundle

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

var jsonSeeds = []string{
	`{"items":[{"id":1},{"id":"2"}],"next_page_token":""}`,
	`{"items":null}`, `{}`, `[]`, `{"items":[]} `, `{"items":[1,]}`, `{"items":[1 2]}`,
	`{"a":"\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t","items":[-0.5e+10, 0, 1E2, true, false, null]}`,
	`{"a":01}`, `{"a":1.}`, `{"a":.1}`, `{"a":-}`, `{"a":"\x"}`, `{"a":"\u12g4"}`, "{\"a\":\"\x01\"}",
	`{"a":tru}`, `{"a":1}x`, `{"a" 1}`, `{"a":1,}`, `{"items":{"id":1}}`, `{"items":[[[]]],"items":[1]}`,
	"{\"a\":\"\xff\xfe\"}", `"str"`, `  {"items" : [ {"x" : [1, {"y": "]}"}]} ] }  `,
}

// validJSON reports whether b is one JSON value, to check the scanner
// against encoding/json.
func validJSON(b []byte) bool {
	end, err := scanValue(b, skipSpace(b, 0), 0)
	return err == nil && skipSpace(b, end) == len(b)
}

func FuzzScanValue(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, encoding/json says %v", b, got, want)
		}
	})
}

// FuzzPageRecords checks that the records found by scanning are exactly
// the elements encoding/json finds in the page's list field.
func FuzzPageRecords(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got [][]byte
		err := pageRecords(dsar.Page{Body: b}, "items", func(rec []byte, _ string) error {
			got = append(got, rec)
			return nil
		})
		var page map[string]json.RawMessage
		jerr := json.Unmarshal(b, &page)
		var want []json.RawMessage
		if jerr == nil && page["items"] != nil {
			jerr = json.Unmarshal(page["items"], &want)
		}
		if jerr != nil {
			if err == nil {
				t.Fatalf("pageRecords accepted %q; encoding/json: %v", b, jerr)
			}
			return
		}
		if err != nil {
			// encoding/json keeps the last of repeated keys, we the first.
			if bytes.Count(b, []byte(`"items"`)) > 1 {
				return
			}
			t.Fatalf("pageRecords(%q): %v", b, err)
		}
		if bytes.Count(b, []byte(`"items"`)) > 1 {
			return
		}
		if !slices.EqualFunc(got, want, func(a []byte, b json.RawMessage) bool { return bytes.Equal(a, b) }) {
			t.Fatalf("records of %q = %q, want %q", b, got, want)
		}
	})
}
