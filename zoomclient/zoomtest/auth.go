package zoomtest

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"time"
)

// tokenTTL is the life of a Server-to-Server OAuth access token [S2S].
const tokenTTL = time.Hour

type auth struct {
	e      *Emulator
	mu     sync.Mutex
	tokens map[string]*tokenInfo

	// OAuth apps (oauth.go)
	denied  bool                 // the admin declines consent
	codes   map[string]*authCode // authorization codes issued
	refresh map[string]*grant    // every refresh token issued, current or used
}

type tokenInfo struct {
	account string
	expires time.Time
	revoked bool
	scopes  map[string]bool
	grant   *grant // of an OAuth app; nil for Server-to-Server
}

func newAuth(e *Emulator) *auth {
	return &auth{e: e, tokens: map[string]*tokenInfo{}, codes: map[string]*authCode{}, refresh: map[string]*grant{}}
}

func (a *auth) revokeAll(accountID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range a.tokens {
		if t.account == accountID {
			t.revoked = true
		}
	}
}

func (a *auth) revoke(token string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if t := a.tokens[token]; t != nil {
		t.revoked = true
	}
}

func newToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "zf_" + base64.RawURLEncoding.EncodeToString(b[:])
}

// oauthError writes the token endpoint's error shape, which is not Zoom's
// usual {code, message} [zoom-api.md §1.1].
func oauthError(w http.ResponseWriter, reason, code string) {
	writeJSON(w, http.StatusBadRequest, mustJSON(map[string]string{"reason": reason, "error": code}))
}

// client authenticates the app of a token or revocation request by its
// Basic credentials. On failure it writes Zoom's error and returns nil.
func (e *Emulator) client(w http.ResponseWriter, r *http.Request, le *LogEntry) *accountIndex {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, mustJSON(map[string]string{"reason": "Method not allowed", "error": "invalid_request"}))
		return nil
	}
	// Zoom accepts the parameters in the query string or a form body.
	if err := r.ParseForm(); err != nil {
		oauthError(w, "Invalid request body", "invalid_request")
		return nil
	}
	id, secret, ok := r.BasicAuth()
	if !ok || id == "" || secret == "" {
		oauthError(w, "Invalid client_id or client_secret", "invalid_client")
		return nil
	}
	ai := e.index.clients[id]
	if ai == nil || ai.a.ClientSecret != secret {
		oauthError(w, "Invalid client_id or client_secret", "invalid_client")
		return nil
	}
	le.Account = ai.a.ID
	return ai
}

// handleToken is POST /oauth/token: grant_type=account_credentials for a
// Server-to-Server app, authorization_code and refresh_token for an OAuth
// app (oauth.go).
func (e *Emulator) handleToken(w http.ResponseWriter, r *http.Request, le *LogEntry) {
	ai := e.client(w, r, le)
	if ai == nil {
		return
	}
	gt := r.Form.Get("grant_type")
	oauthApp := ai.a.App == AppOAuth
	switch {
	case gt == "account_credentials" && !oauthApp:
		e.accountCredentials(w, r, ai)
	case gt == "authorization_code" && oauthApp:
		e.authorizationCode(w, r, ai)
	case gt == "refresh_token" && oauthApp:
		e.refreshToken(w, r, ai)
	default:
		// Zoom's text for a grant type the app's type does not use (an
		// OAuth app asking for account_credentials) is not published;
		// this gives the documented answer to an unknown grant type.
		oauthError(w, "unsupported grant type", "unsupported_grant_type")
	}
}

// accountCredentials is the Server-to-Server grant [S2S].
func (e *Emulator) accountCredentials(w http.ResponseWriter, r *http.Request, ai *accountIndex) {
	if acct := r.Form.Get("account_id"); acct != ai.a.ID {
		// Undocumented: Zoom's text for a wrong or missing account_id is not
		// published; this copies the shape of the documented errors.
		oauthError(w, "Invalid account_id", "invalid_request")
		return
	}
	e.issueToken(w, r, ai, nil)
}

// appScopes are the scopes an account's app holds.
func appScopes(a *AccountData) []string {
	if a.Scopes == nil {
		return allScopes()
	}
	return a.Scopes
}

// issueToken writes a token answer with a new access token, and with the
// grant's refresh token for an OAuth app (g not nil).
func (e *Emulator) issueToken(w http.ResponseWriter, r *http.Request, ai *accountIndex, g *grant) {
	scopes := appScopes(ai.a)
	if g != nil {
		scopes = g.scopes
	}
	tok := newToken()
	info := &tokenInfo{account: ai.a.ID, expires: e.clock.Now().Add(tokenTTL), scopes: map[string]bool{}, grant: g}
	for _, s := range scopes {
		info.scopes[s] = true
	}
	e.auth.mu.Lock()
	e.auth.tokens[tok] = info
	e.auth.mu.Unlock()
	body := map[string]any{
		"access_token": tok, "token_type": "bearer", "expires_in": int(tokenTTL / time.Second),
		"scope": strings.Join(scopes, " "), "api_url": baseURL(r),
	}
	if g != nil {
		body["refresh_token"] = g.refresh
	}
	writeJSON(w, http.StatusOK, mustJSON(body))
}

// authenticate checks the bearer token of an API call. On failure it
// returns the Zoom error to send.
func (e *Emulator) authenticate(r *http.Request, allowQuery bool) (string, *tokenInfo, *zoomError) {
	q := r.URL.Query()
	if q.Has("access_token") && !allowQuery {
		// Since Feb 2023 OAuth tokens are refused in the query string.
		return "", nil, &zoomError{http.StatusUnauthorized, 124, "Invalid access token, this access token is not supported as query parameter string."}
	}
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		tok, ok = strings.CutPrefix(h, "bearer ")
	}
	if !ok && allowQuery {
		tok, ok = q.Get("access_token"), q.Has("access_token")
	}
	if !ok || tok == "" {
		return "", nil, &zoomError{http.StatusUnauthorized, 124, "Invalid access token."}
	}
	e.auth.mu.Lock()
	info := e.auth.tokens[tok]
	var expired, revoked bool
	if info != nil {
		expired = !e.clock.Now().Before(info.expires)
		revoked = info.revoked || info.grant.isRevoked()
	}
	e.auth.mu.Unlock()
	switch {
	case info == nil || revoked:
		return "", nil, &zoomError{http.StatusUnauthorized, 124, "Invalid access token."}
	case expired:
		return "", nil, &zoomError{http.StatusUnauthorized, 124, "Access token is expired."}
	}
	return tok, info, nil
}

// baseURL is the scheme and host the request came in on.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
