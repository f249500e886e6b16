package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"sync"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
	"github.com/zoomdsar/zoom-dsar/zoomclient"
)

// zoomAccounts builds the Zoom clients of the configured accounts and
// keeps them across reloads of the accounts file: an account whose entry
// is unchanged keeps its client (its token, throttles and parks), one
// whose credentials alone changed gets them from its next token, and one
// changed otherwise gets a new client, which requests use from their next
// run.
type zoomAccounts struct {
	cfg Config
	tr  *http.Transport // shared by every account, closed on shutdown
	log *slog.Logger
	m   *metrics
	// grants keeps the OAuth apps' tokens: the store.
	grants zoomclient.Grants

	mu          sync.Mutex
	accts       map[string]Account
	clients     map[string]*zoomclient.Client
	controllers map[string]*bundle.ControllerInfo // by account, those configured
}

// load reads the accounts (the file and the in-process ones) and returns
// them as the processor takes them. On an error nothing changes.
func (z *zoomAccounts) load() (map[string]dsar.Zoom, error) {
	list, err := accounts(z.cfg)
	if err != nil {
		return nil, err
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	accts := make(map[string]Account, len(list))
	clients := make(map[string]*zoomclient.Client, len(list))
	controllers := map[string]*bundle.ControllerInfo{}
	for _, a := range list {
		if a.ControllerInfoFile != "" {
			ci, err := bundle.LoadControllerInfo(a.ControllerInfoFile)
			if err != nil {
				return nil, fmt.Errorf("account %q: %w", a.Name, err)
			}
			controllers[a.Name] = ci
		}
		old, had := z.accts[a.Name]
		c := z.clients[a.Name]
		switch {
		case had && sameApp(old, a) && old.ClientID == a.ClientID && old.ClientSecret == a.ClientSecret:
		case had && sameApp(old, a):
			c.SetCredentials(a.ClientID, a.ClientSecret)
			z.log.Info("zoom account credentials changed; the next token uses them", "account", a.Name)
		default:
			if c, err = z.client(a); err != nil {
				return nil, fmt.Errorf("account %q: %w", a.Name, err)
			}
		}
		accts[a.Name], clients[a.Name] = a, c
	}
	z.accts, z.clients, z.controllers = accts, clients, controllers
	out := make(map[string]dsar.Zoom, len(clients))
	for name, c := range clients {
		out[name] = zoomclient.NewSource(c)
	}
	return out, nil
}

// sameApp reports whether two entries of an account differ at most in
// their credentials and their Art. 15(1) information, which the client
// does not hold.
func sameApp(a, b Account) bool {
	for _, x := range []*Account{&a, &b} {
		x.ClientID, x.ClientSecret, x.ClientSecretEnv, x.ClientSecretFile, x.ControllerInfoFile = "", "", "", "", ""
	}
	return reflect.DeepEqual(a, b)
}

func (z *zoomAccounts) client(a Account) (*zoomclient.Client, error) {
	return zoomclient.New(zoomclient.Config{
		Name: a.Name, App: zoomclient.AppType(a.App), Grants: z.grants,
		RedirectURL: a.RedirectURL, AuthorizeURL: a.AuthorizeURL,
		AccountID: a.AccountID, ClientID: a.ClientID, ClientSecret: a.ClientSecret,
		Plan: a.Plan, APIURL: a.APIURL, TokenURL: a.TokenURL, Limits: a.Limits, ChatPolicy: a.ChatPolicy,
		HTTPClient: &http.Client{Transport: z.tr},
		Logger:     z.log.With("account", a.Name),
		Observe:    z.m.observe(a.Name),
	})
}

// get returns the current client of an account, nil if none.
func (z *zoomAccounts) get(name string) *zoomclient.Client {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.clients[name]
}

// controller returns the Art. 15(1) information of an account, nil if
// none is configured.
func (z *zoomAccounts) controller(name string) *bundle.ControllerInfo {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.controllers[name]
}

// names returns the configured accounts' names, sorted.
func (z *zoomAccounts) names() []string {
	z.mu.Lock()
	defer z.mu.Unlock()
	return slices.Sorted(maps.Keys(z.accts))
}

// Reload reads the accounts file again (SIGHUP), gives the processor the
// accounts and checks them. Requests in flight go on; those of an account
// no longer configured fail with the reason. A file that does not load
// changes nothing.
func (d *Daemon) Reload(ctx context.Context) error {
	zooms, err := d.zoom.load()
	if err != nil {
		d.log.Error("reload of the accounts failed; the accounts stay as they were", "err", err)
		return fmt.Errorf("reload accounts: %w", err)
	}
	if err := d.proc.SetAccounts(ctx, zooms); err != nil {
		return fmt.Errorf("reload accounts: %w", err)
	}
	d.log.Info("zoom accounts reloaded", "accounts", d.zoom.names())
	d.proc.CheckAccounts(ctx)
	return nil
}

// statuses returns the state of every account's buckets, by name.
func (z *zoomAccounts) statuses() map[string]dsar.AccountStatus {
	z.mu.Lock()
	clients := maps.Clone(z.clients)
	z.mu.Unlock()
	out := make(map[string]dsar.AccountStatus, len(clients))
	for name, c := range clients {
		out[name] = c.Status()
	}
	return out
}
