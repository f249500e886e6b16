// Package bundle writes, reads and verifies access bundles: deterministic,
// signed zip files that hold everything Zoom returned for one access
// request, a readable report and a manifest of every entry.
//
// A bundle holds, in this fixed order (zip readers list entries in it):
//
//	data/<section>.json   one per section, sorted by path
//	media/<section>/...   recording and voicemail files, sorted by path
//	data/<section>.csv    the report's tables, per section, then part (CSVPath)
//	pages/...             further pages of the report's long tables (pagePath)
//	index.html            the report for the data subject
//	manifest.json         the request, its sections and every entry above
//	manifest.sig          Ed25519 signature of manifest.json (64 raw bytes)
//
// The manifest and its signature come last because they describe the
// entries before them; the report comes after the data because its summary
// needs the record counts, and the CSV files and further pages come after
// the media because they link them. Assembly streams: stored pages are decoded and
// written one at a time, so memory does not grow with the bundle.
//
// bundle is also the adapter that keeps bundles and their media files on
// disk, the one place that does: Assembler satisfies dsar.Assembler
// (temporary file, fsync, rename), MediaDir satisfies dsar.MediaStore (the
// media files of a request wait there, sealed under its data key, for its
// bundle, which reads them) and
// Files opens a written bundle for rpc. It imports dsar and no other
// adapter; dsar imports nothing of the project.
package bundle

import (
	"context"
	"io"
	"runtime/debug"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// Input is what Write needs besides the stored pages: the request and its
// sections as the domain holds them, and what only the bundle adds.
type Input struct {
	// Request gives the bundle's ID, Account, subject (Email) and Outcome;
	// its CreatedAt is when collection started.
	Request  *dsar.Request
	Sections []Section // in report order
	Finished time.Time // when collection finished
	Version  string    // the tool's version; "" means Version
	// Files lists the media files a stored page's records point to
	// (dsar.Zoom.Files), for the report to link each from its row; nil
	// links none.
	Files func(section, part string, page []byte) ([]dsar.MediaFile, error)
	// Controller is the Art. 15(1) information the account's controller
	// configured; nil: the report says none was given.
	Controller *ControllerInfo
	// TempDir holds, while the bundle is written, the report's further
	// pages until their turn; "" means os.TempDir. They are personal data,
	// sealed under a key of the assembly's (aside), and the Assembler keeps
	// them in the bundles' directory.
	TempDir string
}

// Section is a section of the request with what the bundle needs to read
// and describe its stored pages: where each part's records sit in a page
// and the windows its calls covered.
type Section struct {
	*dsar.Section
	// Lists holds, by part name, the field of a page that holds the
	// part's records ("meetings"); a part without one is an object part,
	// whose page is itself the record (GET /users/{id}).
	Lists   map[string]string
	Windows []dsar.Span // as sent to Zoom (yyyy-mm-dd)
	// Note says what of the section the collection left out by design
	// (dsar.Zoom.Note), for the manifest and the report.
	Note string
	// Labels names, by part and item, the items of the parts the report
	// shows item by item (itemColumns): a Team Chat conversation's name.
	Labels map[string]map[string]string
}

// Source is where Write reads a request's stored pages. The store adapter
// satisfies it.
type Source interface {
	// Pages calls fn with every stored page of one part, in page order,
	// stopping at fn's first error and returning it. fn does not keep the
	// page after it returns. The ids stored with a page count a record
	// once across the parts of its section; a page stored without ids
	// keeps every record, each counted as one without an id. Its Drop
	// leaves out records an earlier page of the part holds.
	Pages(ctx context.Context, requestID, section, part string, fn func(dsar.Page) error) error
	// Media calls fn with every media file of the request in ascending
	// Path order, stored uncompressed; it may yield nothing. body yields
	// exactly f.Size bytes and is read only during the call. f.SHA256, if
	// not "", is the SHA-256 the bytes must have: the writer hashes every
	// entry anyway, so a source checks a file against a hash it recorded
	// earlier without reading it twice.
	Media(ctx context.Context, requestID string, fn func(f dsar.MediaFile, body io.Reader) error) error
}

// Result describes a written bundle.
type Result struct {
	Size     int64  // bytes written to w
	SHA256   string // lower-case hex SHA-256 of those bytes
	Manifest Manifest
}

// Version is the tool version written into manifests when Input.Version
// is empty: the main module's version from the build; for a build from a
// work tree without one, "devel" and the commit the build info names
// (with "+dirty" for uncommitted changes); "devel" alone without either.
var Version = buildVersion(debug.ReadBuildInfo())

func buildVersion(bi *debug.BuildInfo, ok bool) string {
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return "devel"
	}
	return "devel-" + rev[:min(len(rev), 12)] + dirty
}

// Fixed names of the bundle's own entries.
const (
	IndexPath     = "index.html"
	ManifestPath  = "manifest.json"
	SignaturePath = "manifest.sig"
)

// DataPath is the entry that holds a section's records.
func DataPath(section string) string { return "data/" + section + ".json" }
