package store

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// fill sets every exported field of the value v points to, recursively, to
// a value that is not zero and differs from its neighbours'; the fields
// named in skip (as "Type.Field") are left zero.
func fill(t *testing.T, v reflect.Value, n *int, skip []string) {
	t.Helper()
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("v%d", *n))
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(*n))
	case reflect.Uint64, reflect.Uint32, reflect.Uint8:
		v.SetUint(uint64(*n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), n, skip)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(t, v.Index(i), n, skip)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, *n, time.UTC)))
			return
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.IsExported() && !slices.Contains(skip, v.Type().Name()+"."+f.Name) {
				fill(t, v.Field(i), n, skip)
			}
		}
	default:
		t.Fatalf("fill: no value for a %s", v.Type())
	}
}

func filled[T any](t *testing.T, skip ...string) T {
	t.Helper()
	var v T
	n := 0
	fill(t, reflect.ValueOf(&v).Elem(), &n, skip)
	return v
}

// TestRecordsMapEveryField stores values of the domain with every field
// set and reads them back through the records: a field added to package
// dsar without one in its record comes back zero and fails here.
func TestRecordsMapEveryField(t *testing.T) {
	encode := func(rec any) []byte {
		t.Helper()
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Run("request", func(t *testing.T) {
		want := filled[dsar.Request](t)
		var rec requestRecord
		err := json.Unmarshal(encode(toRequestRecord(&want)), &rec)
		got := fromRequestRecord(&rec)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("request came back as %+v (%v),\nwant %+v", got, err, want)
		}
	})
	t.Run("section", func(t *testing.T) {
		// The media counts, CommitMedia's, are stored with the section.
		want := filled[dsar.Section](t)
		got, err := decodeSection(encode(toSectionRecord(&want)))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("section came back as %+v (%v),\nwant %+v", got, err, want)
		}
	})
	t.Run("audit event", func(t *testing.T) {
		want := filled[dsar.AuditEvent](t)
		got, err := decodeAudit(encode(toAuditRecord(&want)))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("audit event came back as %+v (%v),\nwant %+v", got, err, want)
		}
	})
	t.Run("grant", func(t *testing.T) {
		want := filled[dsar.Grant](t)
		got, err := decodeGrant(encode(toGrantRecord(&want)))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("grant came back as %+v (%v),\nwant %+v", got, err, want)
		}
	})
	t.Run("media file", func(t *testing.T) {
		// The key holds the section and name; the rest is not stored.
		want := filled[dsar.MediaFile](t, "MediaFile.Record", "MediaFile.URL", "MediaFile.Calls", "MediaFile.Unsized")
		got, err := decodeMedia(want.Section, want.Name, encode(toMediaRecord(&want)))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("media file came back as %+v (%v),\nwant %+v", got, err, want)
		}
	})
	t.Run("page", func(t *testing.T) {
		db, _, _ := openTest(t)
		want := filled[dsar.Page](t, "Page.Calls")
		payload, err := encodePayload(want)
		if err != nil {
			t.Fatal(err)
		}
		// The key holds section, part and seq.
		got, err := db.decodePage(nil, nil, pageValue(want.Window, db.enc.EncodeAll(payload, nil)))
		got.Section, got.Part, got.Seq = want.Section, want.Part, want.Seq
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("page came back as %+v (%v),\nwant %+v", got, err, want)
		}
	})
}

// TestRecordsTagEveryField checks that every field of a record has an
// explicit key, so that renaming a Go field changes nothing stored.
func TestRecordsTagEveryField(t *testing.T) {
	var check func(typ reflect.Type)
	check = func(typ reflect.Type) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			if f.Tag.Get("json") == "" {
				t.Errorf("%s.%s has no json tag", typ.Name(), f.Name)
			}
			ft := f.Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Time]() {
				check(ft)
			}
		}
	}
	for _, rec := range []any{requestRecord{}, sectionRecord{}, auditRecord{}, mediaRecord{},
		requestV1{}, sectionV1{}, auditV1{}} {
		check(reflect.TypeOf(rec))
	}
}
