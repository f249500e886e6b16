package bundle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// ControllerInfo is what GDPR Art. 15(1)(a)-(h) requires a controller to
// give beside the copy of the data, as the controller of a Zoom account
// configured it. The report shows it as written; a point left empty is
// shown as not given.
type ControllerInfo struct {
	Controller string `json:"controller"` // name and contact of the controller
	DPO        string `json:"dpo,omitempty"`
	// Purposes of the processing (a).
	Purposes string `json:"purposes"`
	// Categories of personal data concerned (b).
	Categories string `json:"categories"`
	// Recipients or categories of recipients (c), among them those in
	// third countries.
	Recipients string `json:"recipients"`
	// Retention: how long the data are stored, or the criteria (d).
	Retention string `json:"retention"`
	// Rights to rectification, erasure, restriction and objection, and
	// how to exercise them (e).
	Rights string `json:"rights"`
	// Complaint: the supervisory authority to complain to (f).
	Complaint string `json:"complaint"`
	// Source of the data where not collected from the subject (g).
	Source string `json:"source"`
	// AutomatedDecisions: any automated decision-making, profiling (h).
	AutomatedDecisions string `json:"automated_decisions,omitempty"`
}

// LoadControllerInfo reads a controller's Art. 15(1) information from a
// JSON file; an unknown field is an error, so a misspelt point is not
// silently left out of every report.
func LoadControllerInfo(path string) (*ControllerInfo, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("controller information: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var ci ControllerInfo
	if err := dec.Decode(&ci); err != nil {
		return nil, fmt.Errorf("controller information %s: want a JSON object of the Art. 15(1) points: %w", path, err)
	}
	if ci.Controller == "" {
		return nil, fmt.Errorf("controller information %s: controller (name and contact) is required", path)
	}
	return &ci, nil
}
