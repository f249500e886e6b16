package dsar

import (
	"log/slog"
	"time"
)

// Grant is what an admin's authorization of an account-level Zoom OAuth app
// yields: the refresh token the app lives on, which Zoom replaces on every
// refresh (the used one stops working), and the current access token, kept
// too so that a restart within its hour makes no refresh. zoomclient
// obtains and rotates it; the store keeps it durably.
type Grant struct {
	AccessToken  string
	RefreshToken string
	Expiry       time.Time // of the access token
	Scopes       []string  // granted to the app, as the token answer names them
}

// LogValue keeps the tokens out of logs.
func (g Grant) LogValue() slog.Value {
	return slog.GroupValue(slog.Time("expiry", g.Expiry), slog.Int("scopes", len(g.Scopes)))
}
