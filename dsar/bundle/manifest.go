package bundle

import (
	"encoding/json"
	"fmt"
)

// ManifestFormat names the manifest's layout; it changes only when a reader
// of an older bundle would misread a newer one.
const ManifestFormat = "zoom-dsar-bundle/1"

// Manifest is the content of manifest.json: what was collected, for whom,
// and the size and SHA-256 of every other entry of the bundle.
type Manifest struct {
	Format    string            `json:"format"`
	RequestID string            `json:"request_id"`
	Account   string            `json:"account"`
	Subject   string            `json:"subject"`
	Outcome   string            `json:"outcome"` // "complete" or "no_zoom_user"
	Started   string            `json:"collection_started"`
	Finished  string            `json:"collection_finished"`
	Version   string            `json:"tool_version"`
	PublicKey string            `json:"public_key"` // Fingerprint of the signing key
	Sections  []ManifestSection `json:"sections"`
	Entries   []ManifestEntry   `json:"entries"`
}

// ManifestSection is one section's outcome. Records counts distinct
// records: one with an id once however many of the section's lists hold
// it (a meeting that is both scheduled and upcoming), one without an id
// each time. Listings counts the records as the data entry holds them, every
// listing kept. Calls are Zoom API HTTP calls, retries included.
type ManifestSection struct {
	Name       string           `json:"name"`
	State      string           `json:"state"`
	ReasonCode int              `json:"reason_code,omitempty"`
	Reason     string           `json:"reason,omitempty"`
	Windows    []ManifestWindow `json:"windows"`
	Note       string           `json:"note,omitempty"` // what was left out by design, and why
	Records    int64            `json:"records"`
	Listings   int64            `json:"listings"`
	MediaFiles int              `json:"media_files"`
	Calls      int              `json:"api_calls"`
	Entry      string           `json:"entry"`
}

// ManifestWindow is a date window a section's calls covered, as sent to
// Zoom (yyyy-mm-dd).
type ManifestWindow struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// ManifestEntry is one entry of the bundle other than the manifest and its
// signature.
type ManifestEntry struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Outcome values of a manifest.
const (
	OutcomeComplete = "complete"
)

func (m *Manifest) marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return append(b, '\n'), nil
}
