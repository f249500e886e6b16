package zoomtest

import (
	"net/http"
	"net/url"
	"time"
)

// An account-level OAuth app. The admin authorizes it at /oauth/authorize
// and is sent back to the app's redirect URL with a code; the app exchanges
// the code for an access token and a refresh token, and each refresh
// returns a new refresh token while the used one stops working [DEVSUP]:
// "the latest refresh token must always be used for the next refresh
// request. If you use a prior refresh token ... you will receive an
// 'Invalid Token!' error".
//
// Sources, as in zoom-api.md §1.2: [OAUTH] https://developers.zoom.us/docs/rooms/oauth/,
// [OAERR] https://developers.zoom.us/docs/integrations/oauth-error-messages/,
// [DEVSUP] https://devsupport.zoom.us/hc/en-us/articles/360060332931.

const (
	// codeTTL is the life of an authorization code: five minutes
	// (developers.zoom.us/docs/rooms/za/za-digi-sign-oauth/, zoom-api.md §1.2).
	codeTTL = 5 * time.Minute
	// refreshTTL is the life of a refresh token: 15 years [DEVSUP], as the
	// sample refresh token of Zoom's API index page also says.
	refreshTTL = 15 * 365 * 24 * time.Hour
)

// authCode is an authorization code issued at /oauth/authorize.
type authCode struct {
	account  *accountIndex
	redirect string
	expires  time.Time
	used     bool
}

// grant is one authorization of an OAuth app by an admin: the scopes it
// holds and its current refresh token. Revoking any of its tokens, or
// uninstalling the app, revokes the grant and every token issued from it.
type grant struct {
	account string
	scopes  []string
	refresh string    // the current refresh token; older ones are refused
	expires time.Time // of refresh
	revoked bool
}

// isRevoked reports whether g is revoked; a nil grant (Server-to-Server)
// is not. The caller holds auth.mu.
func (g *grant) isRevoked() bool { return g != nil && g.revoked }

// authorizeError is the answer of /oauth/authorize when it cannot send the
// admin back to the app, as Zoom's page reports it:
// {"status":false,"errorCode":4700,"errorMessage":"Invalid redirect url","result":null}
// (seen in the wild: Veritas KB 100060085). The codes are those of [OAERR].
func authorizeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, http.StatusBadRequest, mustJSON(map[string]any{"status": false, "errorCode": code, "errorMessage": msg, "result": nil}))
}

// handleAuthorize is GET /oauth/authorize?response_type=code&client_id=..
// &redirect_uri=..[&state=..] [OAUTH]. The admin's consent is emulated:
// granted unless SetConsent(false).
func (e *Emulator) handleAuthorize(w http.ResponseWriter, r *http.Request, le *LogEntry) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		authorizeError(w, 4700, "Method not allowed")
		return
	}
	q := r.URL.Query()
	ai := e.index.clients[q.Get("client_id")]
	if ai == nil || ai.a.App != AppOAuth {
		authorizeError(w, 4702, "Invalid client_id")
		return
	}
	le.Account = ai.a.ID
	redirect := q.Get("redirect_uri")
	back, err := url.Parse(redirect)
	if redirect != ai.a.RedirectURL || err != nil {
		authorizeError(w, 4700, "Invalid redirect url")
		return
	}
	// The client and the redirect are good: further errors go back to the
	// app. Zoom does not document these two; they follow RFC 6749 §4.1.2.1.
	v := back.Query()
	if s := q.Get("state"); s != "" {
		v.Set("state", s)
	}
	e.auth.mu.Lock()
	denied := e.auth.denied
	e.auth.mu.Unlock()
	switch {
	case q.Get("response_type") != "code":
		v.Set("error", "unsupported_response_type")
	case denied:
		v.Set("error", "access_denied")
	default:
		code := newToken()
		e.auth.mu.Lock()
		e.auth.codes[code] = &authCode{account: ai, redirect: redirect, expires: e.clock.Now().Add(codeTTL)}
		e.auth.mu.Unlock()
		v.Set("code", code)
	}
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// authorizationCode is grant_type=authorization_code: the code is
// single-use, lives codeTTL, and redirect_uri must be the one it was
// issued for. Zoom answers a bad code
// {"reason":"Invalid authorization code <code>","error":"invalid_request"}
// (devforum.zoom.us/t/12302) and a wrong redirect "Redirect URI mismatch."
// (4709 [OAERR]).
func (e *Emulator) authorizationCode(w http.ResponseWriter, r *http.Request, ai *accountIndex) {
	code := r.Form.Get("code")
	a := e.auth
	a.mu.Lock()
	c := a.codes[code]
	switch {
	case c == nil || c.account != ai || c.used || !e.clock.Now().Before(c.expires):
		a.mu.Unlock()
		oauthError(w, "Invalid authorization code "+code, "invalid_request")
		return
	case r.Form.Get("redirect_uri") != c.redirect:
		a.mu.Unlock()
		oauthError(w, "Redirect URI mismatch.", "invalid_request")
		return
	}
	c.used = true
	g := &grant{account: ai.a.ID, scopes: appScopes(ai.a)}
	a.rotateLocked(g)
	a.mu.Unlock()
	e.issueToken(w, r, ai, g)
}

// refreshToken is grant_type=refresh_token with rotation: the answer
// holds a new refresh token and the one used stops working. A used,
// revoked, expired or unknown refresh token gets
// {"reason":"Invalid Token!","error":"invalid_grant"} [DEVSUP; seen in
// raycast/extensions#10896].
func (e *Emulator) refreshToken(w http.ResponseWriter, r *http.Request, ai *accountIndex) {
	rt := r.Form.Get("refresh_token")
	a := e.auth
	a.mu.Lock()
	g := a.refresh[rt]
	if g == nil || g.account != ai.a.ID || g.revoked || g.refresh != rt || !e.clock.Now().Before(g.expires) {
		a.mu.Unlock()
		oauthError(w, "Invalid Token!", "invalid_grant")
		return
	}
	a.rotateLocked(g)
	a.mu.Unlock()
	e.issueToken(w, r, ai, g)
}

// rotateLocked gives g a new refresh token; the previous one stays known,
// to be refused. The caller holds a.mu.
func (a *auth) rotateLocked(g *grant) {
	g.refresh = newToken()
	g.expires = a.e.clock.Now().Add(refreshTTL)
	a.refresh[g.refresh] = g
}

// handleRevoke is POST /oauth/revoke with token=..., Basic credentials,
// answering {"status":"success"} (the request "Revoke an access token" of
// Zoom's public Postman collection, mirrored at
// developers.qodex.ai/zoom-public/get-started-fast-with-zoom-apis/). Revoking an access token or a refresh token of an OAuth app
// revokes its grant: every token issued from it. Zoom does not say what it
// answers for an unknown token; like RFC 7009 §2.2 this answers success.
func (e *Emulator) handleRevoke(w http.ResponseWriter, r *http.Request, le *LogEntry) {
	ai := e.client(w, r, le)
	if ai == nil {
		return
	}
	tok := r.Form.Get("token")
	if tok == "" {
		oauthError(w, "Token cannot be empty.", "invalid_request") // 4700 [OAERR]
		return
	}
	a := e.auth
	a.mu.Lock()
	if t := a.tokens[tok]; t != nil && t.account == ai.a.ID {
		t.revoked = true
		if t.grant != nil {
			t.grant.revoked = true
		}
	}
	if g := a.refresh[tok]; g != nil && g.account == ai.a.ID {
		g.revoked = true
	}
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, mustJSON(map[string]string{"status": "success"}))
}

func (a *auth) deauthorize(accountID string) {
	a.revokeAll(accountID)
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, g := range a.refresh {
		if g.account == accountID {
			g.revoked = true
		}
	}
}

func (a *auth) setConsent(granted bool) {
	a.mu.Lock()
	a.denied = !granted
	a.mu.Unlock()
}
