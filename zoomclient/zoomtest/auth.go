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
}

type tokenInfo struct {
	account string
	expires time.Time
	revoked bool
	scopes  map[string]bool
}

func newAuth(e *Emulator) *auth { return &auth{e: e, tokens: map[string]*tokenInfo{}} }

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

// handleToken is POST /oauth/token with grant_type=account_credentials.
func (e *Emulator) handleToken(w http.ResponseWriter, r *http.Request, le *LogEntry) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, mustJSON(map[string]string{"reason": "Method not allowed", "error": "invalid_request"}))
		return
	}
	// Zoom accepts the parameters in the query string or a form body.
	if err := r.ParseForm(); err != nil {
		oauthError(w, "Invalid request body", "invalid_request")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok || id == "" || secret == "" {
		oauthError(w, "Invalid client_id or client_secret", "invalid_client")
		return
	}
	ai := e.index.clients[id]
	if ai == nil || ai.a.ClientSecret != secret {
		oauthError(w, "Invalid client_id or client_secret", "invalid_client")
		return
	}
	le.Account = ai.a.ID
	if gt := r.Form.Get("grant_type"); gt != "account_credentials" {
		oauthError(w, "unsupported grant type", "unsupported_grant_type")
		return
	}
	if acct := r.Form.Get("account_id"); acct != ai.a.ID {
		// Undocumented: Zoom's text for a wrong or missing account_id is not
		// published; this copies the shape of the documented errors.
		oauthError(w, "Invalid account_id", "invalid_request")
		return
	}
	scopes := ai.a.Scopes
	if scopes == nil {
		scopes = allScopes()
	}
	tok := newToken()
	info := &tokenInfo{account: ai.a.ID, expires: e.clock.Now().Add(tokenTTL), scopes: map[string]bool{}}
	for _, s := range scopes {
		info.scopes[s] = true
	}
	e.auth.mu.Lock()
	e.auth.tokens[tok] = info
	e.auth.mu.Unlock()
	writeJSON(w, http.StatusOK, mustJSON(map[string]any{
		"access_token": tok, "token_type": "bearer", "expires_in": int(tokenTTL / time.Second),
		"scope": strings.Join(scopes, " "), "api_url": baseURL(r),
	}))
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
		revoked = info.revoked
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
