package bundle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// Pages are scanned, not decoded: a record is copied as the bytes Zoom
// sent, and one strict pass both checks the page's JSON and finds the
// records, which keeps assembly close to the compressor's speed.

// errStop ends a walk over pages early without failing.
var errStop = errors.New("stop")

var errSyntax = errors.New("malformed JSON")

// maxDepth bounds nesting, as encoding/json does, so that no page can
// exhaust the stack.
const maxDepth = 10000

// pageRecords calls fn with the raw bytes of every record of a list page
// and the id stored with it, in order, leaving out the records p.Kept
// does not keep. A page without the list field (or with null) holds no records.
// The bytes passed to fn alias p.Body. The whole page must be valid JSON.
//
// The ids are those computed when the page was fetched; nothing here
// reads a record's id. A page stored without ids keeps all its records,
// each as one without an id; a page whose ids do not match its records is
// an error rather than a guess at which record to drop.
func pageRecords(p dsar.Page, list string, fn func(rec []byte, id string) error) error {
	b := p.Body
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errors.New("page is not a JSON object")
	}
	found := false
	n := 0 // records in the list
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			kend, err := scanString(b, i)
			if err != nil {
				return err
			}
			key := b[i:kend]
			i = skipSpace(b, kend)
			if i >= len(b) || b[i] != ':' {
				return errSyntax
			}
			i = skipSpace(b, i+1)
			var end int
			if !found && keyIs(key, list) {
				found = true
				end, n, err = listRecords(b, i, p, fn)
			} else {
				end, err = scanValue(b, i, 1)
			}
			if err != nil {
				return err
			}
			i = skipSpace(b, end)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
				continue
			}
			if i < len(b) && b[i] == '}' {
				i++
				break
			}
			return errSyntax
		}
	}
	if skipSpace(b, i) != len(b) {
		return errSyntax
	}
	if len(p.IDs) > 0 && len(p.IDs) != n {
		return fmt.Errorf("page holds %d records but %d stored ids", n, len(p.IDs))
	}
	return nil
}

// listRecords scans the list value at b[i] (an array or null), calling fn
// with each record p keeps, and returns the index past it and the number
// of records in the list.
func listRecords(b []byte, i int, p dsar.Page, fn func([]byte, string) error) (int, int, error) {
	if i < len(b) && b[i] == 'n' {
		end, err := scanValue(b, i, 1)
		return end, 0, err
	}
	if i >= len(b) || b[i] != '[' {
		return 0, 0, errors.New("list field is not a list")
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, 0, nil
	}
	for n := 0; ; n++ {
		end, err := scanValue(b, i, 2)
		if err != nil {
			return 0, 0, err
		}
		id := ""
		if n < len(p.IDs) {
			id = p.IDs[n]
		}
		if n >= len(p.IDs) || p.Kept(n) {
			if err := fn(b[i:end], id); err != nil {
				return 0, 0, err
			}
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return 0, 0, errSyntax
		}
		switch b[i] {
		case ']':
			return i + 1, n + 1, nil
		case ',':
			i = skipSpace(b, i+1)
		default:
			return 0, 0, errSyntax
		}
	}
}

// records calls fn with each record of a page: those of its list field,
// or, for an object page (list ""), the object itself with its stored id.
func records(p dsar.Page, list string, fn func(rec []byte, id string) error) error {
	if list != "" {
		return pageRecords(p, list, fn)
	}
	b, err := objectBody(p)
	if err != nil {
		return err
	}
	id := ""
	if len(p.IDs) > 0 {
		id = p.IDs[0]
	}
	return fn(b, id)
}

// objectBody returns the trimmed body of an object page after checking that
// it is a JSON object.
func objectBody(p dsar.Page) ([]byte, error) {
	b := bytes.TrimSpace(p.Body)
	if len(b) == 0 || b[0] != '{' {
		return nil, errors.New("page is not a JSON object")
	}
	end, err := scanValue(b, 0, 0)
	if err != nil {
		return nil, err
	}
	if end != len(b) {
		return nil, errSyntax
	}
	return b, nil
}

// objectField returns the raw value of a top-level field of the JSON
// object b, or nil when it is absent or b is not an object.
func objectField(b []byte, name string) []byte {
	var out []byte
	eachField(b, func(key, val []byte) bool {
		if keyIs(key, name) {
			out = val
			return false
		}
		return true
	})
	return out
}

// eachField calls fn with the quoted key and raw value of each top-level
// field of the JSON object b, in order, until fn returns false; it stops
// quietly where b is no object or not valid JSON.
func eachField(b []byte, fn func(key, val []byte) bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return
	}
	i = skipSpace(b, i+1)
	for i < len(b) && b[i] == '"' {
		kend, err := scanString(b, i)
		if err != nil {
			return
		}
		key := b[i:kend]
		i = skipSpace(b, kend)
		if i >= len(b) || b[i] != ':' {
			return
		}
		i = skipSpace(b, i+1)
		vend, err := scanValue(b, i, 1)
		if err != nil {
			return
		}
		if !fn(key, b[i:vend]) {
			return
		}
		i = skipSpace(b, vend)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
}

// fieldIndex is a record's top-level fields, scanned once for all the
// columns of its row.
type fieldIndex struct {
	keys, vals [][]byte
}

// reset indexes the fields of the JSON object rec, which a scan of its
// page found valid: it is skipped through, not checked again.
func (x *fieldIndex) reset(rec []byte) {
	x.keys, x.vals = x.keys[:0], x.vals[:0]
	i := skipSpace(rec, 0)
	if i >= len(rec) || rec[i] != '{' {
		return
	}
	for i = skipSpace(rec, i+1); i < len(rec) && rec[i] == '"'; {
		kend := skipString(rec, i)
		v := skipSpace(rec, kend)
		if v >= len(rec) || rec[v] != ':' {
			return
		}
		v = skipSpace(rec, v+1)
		if v >= len(rec) {
			return
		}
		vend := skipValue(rec, v)
		x.keys, x.vals = append(x.keys, rec[i:kend]), append(x.vals, rec[v:vend])
		i = skipSpace(rec, vend)
		if i < len(rec) && rec[i] == ',' {
			i = skipSpace(rec, i+1)
		}
	}
}

// skipValue returns the index past the JSON value at b[i], which a scan
// found valid; it checks nothing.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(b)
	}
	for i < len(b) { // a number or a literal
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// skipString returns the index past the valid JSON string at b[i].
func skipString(b []byte, i int) int {
	for i++; ; i++ {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return len(b)
		}
		i += j
		k := i
		for k > 0 && b[k-1] == '\\' {
			k--
		}
		if (i-k)%2 == 0 { // the quote is not escaped
			return i + 1
		}
	}
}

// path returns the raw value of a field, dotted for a nested one
// ("sender.display_name"), nil when absent.
func (x *fieldIndex) path(f string) []byte {
	first, rest, nested := strings.Cut(f, ".")
	v := x.get(first)
	for nested && v != nil {
		first, rest, nested = strings.Cut(rest, ".")
		v = objectField(v, first)
	}
	return v
}

// get returns the raw value of the first field name, nil when absent.
func (x *fieldIndex) get(name string) []byte {
	for i, k := range x.keys {
		if keyIs(k, name) {
			return x.vals[i]
		}
	}
	return nil
}

// keyIs reports whether the quoted JSON string key equals name.
func keyIs(key []byte, name string) bool {
	inner := key[1 : len(key)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner) == name
	}
	var s string
	return json.Unmarshal(key, &s) == nil && s == name
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanValue checks the JSON value starting at b[i] (after any whitespace
// the caller skipped) and returns the index just past it.
func scanValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) || depth > maxDepth {
		return 0, errSyntax
	}
	switch c := b[i]; c {
	case '"':
		return scanString(b, i)
	case '{', '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == closer {
			return i + 1, nil
		}
		for {
			var err error
			if c == '{' {
				if i, err = scanString(b, i); err != nil {
					return 0, err
				}
				i = skipSpace(b, i)
				if i >= len(b) || b[i] != ':' {
					return 0, errSyntax
				}
				i = skipSpace(b, i+1)
			}
			if i, err = scanValue(b, i, depth+1); err != nil {
				return 0, err
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return 0, errSyntax
			}
			if b[i] == closer {
				return i + 1, nil
			}
			if b[i] != ',' {
				return 0, errSyntax
			}
			i = skipSpace(b, i+1)
		}
	case 't':
		return scanLiteral(b, i, "true")
	case 'f':
		return scanLiteral(b, i, "false")
	case 'n':
		return scanLiteral(b, i, "null")
	default:
		return scanNumber(b, i)
	}
}

func scanLiteral(b []byte, i int, lit string) (int, error) {
	if !bytes.HasPrefix(b[i:], []byte(lit)) {
		return 0, errSyntax
	}
	return i + len(lit), nil
}

// scanNumber checks a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(b []byte, i int) (int, error) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return 0, errSyntax
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return 0, errSyntax
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return 0, errSyntax
		}
		i = j
	}
	return i, nil
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// plain marks the bytes a string may hold without a closer look.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanString checks the string starting at b[i] == '"' and returns the
// index past its closing quote.
func scanString(b []byte, i int) (int, error) {
	if i >= len(b) || b[i] != '"' {
		return 0, errSyntax
	}
	i++
	for i < len(b) {
		c := b[i]
		if plain[c] {
			i++
			continue
		}
		switch c {
		case '"':
			return i + 1, nil
		case '\\':
			if i+1 >= len(b) {
				return 0, errSyntax
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex4(b[i+2:i+6]) {
					return 0, errSyntax
				}
				i += 6
			default:
				return 0, errSyntax
			}
		default: // a control character
			return 0, errSyntax
		}
	}
	return 0, errSyntax
}

func isHex4(h []byte) bool {
	for _, c := range h {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
