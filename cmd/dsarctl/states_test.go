package main

import "testing"

func TestStateNames(t *testing.T) {
	const want = "queued, running, waiting_quota, assembling, completed, failed, cancelled, waiting_zoom"
	if got := stateNames(); got != want {
		t.Errorf("stateNames() = %q, want %q", got, want)
	}
	var s stateList
	if err := s.Set("waiting_quota, cancelled"); err != nil || len(s) != 2 {
		t.Errorf("Set: %v, %v", s, err)
	}
}
