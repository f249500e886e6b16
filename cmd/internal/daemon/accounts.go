package daemon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/zoomclient"
)

// Account is one Zoom account of the accounts file:
//
//	[{"name": "acme", "plan": "business", "account_id": "...",
//	  "client_id": "...", "client_secret_env": "ACME_ZOOM_SECRET"}]
//
// That is a Server-to-Server OAuth app ("app": "s2s", the default). An
// account-level OAuth app ("app": "oauth") has no account_id but a
// redirect_url, the one allow-listed in the app, and is authorized once
// with `dsarctl accounts authorize NAME`.
//
// The client secret comes from the environment variable client_secret_env
// or the file client_secret_file (relative to the accounts file), never
// from the accounts file itself.
type Account struct {
	Name             string `json:"name"`
	Plan             string `json:"plan"`
	AccountID        string `json:"account_id"`
	ClientID         string `json:"client_id"`
	ClientSecretEnv  string `json:"client_secret_env,omitempty"`
	ClientSecretFile string `json:"client_secret_file,omitempty"`
	App              string `json:"app,omitempty"`          // "s2s" (the default) or "oauth"
	RedirectURL      string `json:"redirect_url,omitempty"` // oauth: the app's allow-listed redirect URL
	AuthorizeURL     string `json:"authorize_url,omitempty"`
	APIURL           string `json:"api_url,omitempty"`
	TokenURL         string `json:"token_url,omitempty"`
	// ChatPolicy says which other people's Team Chat messages a request
	// copies: own, conversations (the default) or channels.
	ChatPolicy dsar.ChatPolicy `json:"chat_policy,omitempty"`
	// ControllerInfoFile (relative to the accounts file) holds the Art.
	// 15(1) information the account's controller gives with every copy
	// (bundle.ControllerInfo).
	ControllerInfoFile string `json:"controller_info_file,omitempty"`

	// ClientSecret is set by programs that run dsard in-process (the demo);
	// it is never read from the file.
	ClientSecret string `json:"-"`
	// Limits overrides the plan's per-second limits (in-process only).
	Limits map[zoomclient.Bucket]float64 `json:"-"`
}

// String names the account without its secret.
func (a Account) String() string { return a.Name }

// LoadAccounts reads an accounts file.
func LoadAccounts(path string) ([]Account, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("accounts file: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var accts []Account
	if err := dec.Decode(&accts); err != nil {
		// The decoder's message names fields and offsets, not values.
		return nil, fmt.Errorf("accounts file %s: want a JSON array of accounts: %w", path, err)
	}
	dir := filepath.Dir(path)
	for i := range accts {
		if f := accts[i].ClientSecretFile; f != "" && !filepath.IsAbs(f) {
			accts[i].ClientSecretFile = filepath.Join(dir, f)
		}
		if f := accts[i].ControllerInfoFile; f != "" && !filepath.IsAbs(f) {
			accts[i].ControllerInfoFile = filepath.Join(dir, f)
		}
	}
	return accts, nil
}

// plans are the plans of the accounts file.
var plans = []string{"free", "pro", "business"}

// validate checks an account and reads its secret. Errors name the account
// and the field, never the secret.
func (a *Account) validate(getenv func(string) string) error {
	where := fmt.Sprintf("account %q", a.Name)
	if a.Name == "" {
		return errors.New("an account has no name")
	}
	for _, c := range a.Name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-", c)) || len(a.Name) > 64 {
			return fmt.Errorf("%s: a name is 1-64 of A-Z, a-z, 0-9, '.', '_' and '-'", where)
		}
	}
	switch {
	case !slices.Contains(plans, a.Plan):
		return fmt.Errorf("%s: plan %q: want free, pro or business", where, a.Plan)
	case a.App != "" && a.App != string(zoomclient.AppS2S) && a.App != string(zoomclient.AppOAuth):
		return fmt.Errorf("%s: app %q: want s2s or oauth", where, a.App)
	case a.App == string(zoomclient.AppOAuth) && a.RedirectURL == "":
		return fmt.Errorf("%s: an oauth app needs redirect_url, the redirect URL allow-listed in the app", where)
	case a.App != string(zoomclient.AppOAuth) && a.RedirectURL != "":
		return fmt.Errorf("%s: redirect_url is for an oauth app; set \"app\": \"oauth\" or drop it", where)
	case a.AccountID == "" && a.App != string(zoomclient.AppOAuth):
		return fmt.Errorf("%s: account_id is empty", where)
	case a.ClientID == "":
		return fmt.Errorf("%s: client_id is empty", where)
	case !a.ChatPolicy.Valid():
		return fmt.Errorf("%s: chat_policy %q: want own, conversations or channels", where, a.ChatPolicy)
	}
	if a.ClientSecret != "" {
		return nil
	}
	switch {
	case a.ClientSecretEnv != "" && a.ClientSecretFile != "":
		return fmt.Errorf("%s: set client_secret_env or client_secret_file, not both", where)
	case a.ClientSecretEnv != "":
		if getenv != nil {
			a.ClientSecret = strings.TrimSpace(getenv(a.ClientSecretEnv))
		}
		if a.ClientSecret == "" {
			return fmt.Errorf("%s: environment variable %s (client_secret_env) is empty", where, a.ClientSecretEnv)
		}
	case a.ClientSecretFile != "":
		b, err := os.ReadFile(a.ClientSecretFile)
		if err != nil {
			return fmt.Errorf("%s: client_secret_file: %w", where, err)
		}
		if a.ClientSecret = strings.TrimSpace(string(b)); a.ClientSecret == "" {
			return fmt.Errorf("%s: client_secret_file %s is empty", where, a.ClientSecretFile)
		}
	default:
		return fmt.Errorf("%s: set client_secret_env or client_secret_file", where)
	}
	return nil
}
