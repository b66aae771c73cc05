package jwtgatecaddy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/jwtgate/jwtgate/authz"
	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/keystore"
	"github.com/jwtgate/jwtgate/server/config"
)

// keyrings holds the key stores and verifiers of every handler in the
// process, one per distinct issuer configuration, counted by reference:
// Provision takes one (the first taker builds and starts it), Cleanup gives
// it back (the last one closes it). Caddy provisions a new configuration
// before it cleans up the old one, so a reload that keeps an issuer keeps
// its keys and its verified-token cache.
var keyrings = caddy.NewUsagePool()

// keyring is the key store and the verifiers of one issuer configuration.
type keyring struct {
	store   *keystore.Store
	issuers *authz.Issuers
}

// Destruct stops the key store's background refreshes.
func (k *keyring) Destruct() error {
	k.store.Close()
	return nil
}

// keyringKey identifies an issuer configuration: every setting the key
// store and the verifiers are built from.
func keyringKey(cfg *config.Config) (string, error) {
	b, err := json.Marshal(struct {
		Issuers  []config.Issuer
		MaxToken int
		Cache    config.Cache
	}{cfg.Issuers, cfg.Limits.MaxTokenBytes, cfg.Cache})
	return string(b), err
}

// acquireKeyring returns the keyring of cfg's issuers and the key under
// which to release it, building and starting it when no handler holds it
// yet (bounded by the issuers' fetch timeouts).
func acquireKeyring(cfg *config.Config, logger *slog.Logger) (*keyring, string, error) {
	key, err := keyringKey(cfg)
	if err != nil {
		return nil, "", err
	}
	v, _, err := keyrings.LoadOrNew(key, func() (caddy.Destructor, error) { return newKeyring(cfg, logger) })
	if err != nil {
		return nil, "", err
	}
	return v.(*keyring), key, nil
}

// releaseKeyring gives back a keyring taken by acquireKeyring.
func releaseKeyring(key string) error {
	_, err := keyrings.Delete(key)
	return err
}

func newKeyring(cfg *config.Config, logger *slog.Logger) (*keyring, error) {
	kis := make([]keystore.Issuer, len(cfg.Issuers))
	for i := range cfg.Issuers {
		ki, err := cfg.KeystoreIssuer(i)
		if err != nil {
			return nil, err
		}
		kis[i] = ki
	}
	store, err := keystore.New(keystore.Options{Clock: engine.SystemClock, Logger: logger}, kis...)
	if err != nil {
		return nil, err
	}
	list := make([]authz.Issuer, len(cfg.Issuers))
	for i := range cfg.Issuers {
		ec, err := cfg.EngineConfig(i, store, engine.SystemClock)
		if err != nil {
			return nil, err
		}
		v, err := engine.New(ec)
		if err != nil {
			return nil, fmt.Errorf("issuer %q: %w", cfg.Issuers[i].Issuer, err)
		}
		list[i] = authz.Issuer{Issuer: cfg.Issuers[i].Issuer, Verifier: v, Scope: strings.Join(cfg.Issuers[i].RequiredScopes, " ")}
	}
	issuers, err := authz.NewIssuers(list, cfg.Limits.MaxTokenBytes)
	if err != nil {
		return nil, err
	}
	// Every fetch is bounded by its issuer's fetch timeout; this bounds
	// the whole first load.
	var wait time.Duration
	for i := range cfg.Issuers {
		wait = max(wait, cfg.Issuers[i].FetchTimeout)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*wait+time.Second)
	defer cancel()
	if err := store.Start(ctx); err != nil {
		if errors.Is(err, keystore.ErrConfig) || errors.Is(err, keystore.ErrClosed) {
			store.Close()
			return nil, err
		}
		// A remote key set that cannot be fetched yet is retried in the
		// background; its tokens get 401 "keys unavailable" until then.
		logger.Warn("jwtgate: key set not loaded yet; retrying in the background", "error", err)
	}
	return &keyring{store: store, issuers: issuers}, nil
}
