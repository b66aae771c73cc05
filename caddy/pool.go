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

// issuerPool holds the key store and verifier of every issuer of every
// handler in the process, one per distinct issuer configuration, counted
// by reference: Provision takes one per issuer (the first taker builds and
// starts it), Cleanup gives them back (the last one closes it). Caddy
// provisions a new configuration before it cleans up the old one, so a
// reload that keeps an issuer's settings keeps its keys and its
// verified-token cache, whatever else changed.
var issuerPool = caddy.NewUsagePool()

// issuerKeys is the key store and the verifier of one issuer.
type issuerKeys struct {
	store  *keystore.Store
	issuer authz.Issuer
}

// Destruct stops the key store's background refreshes.
func (k *issuerKeys) Destruct() error {
	k.store.Close()
	return nil
}

// issuerKey identifies the settings of cfg.Issuers[i]: everything its key
// store and its verifier are built from (its share of the token cache
// depends on the number of issuers).
func issuerKey(cfg *config.Config, i int) (string, error) {
	b, err := json.Marshal(struct {
		Issuer   config.Issuer
		MaxToken int
		Cache    config.Cache
		Issuers  int
	}{cfg.Issuers[i], cfg.Limits.MaxTokenBytes, cfg.Cache, len(cfg.Issuers)})
	return string(b), err
}

// acquireIssuers returns the verifier of cfg's issuers, made of their
// pooled key stores and verifiers, and the pool keys to release; it builds
// and starts those no handler holds yet (bounded by their fetch timeouts).
func acquireIssuers(cfg *config.Config, logger *slog.Logger) (*authz.Issuers, []*issuerKeys, []string, error) {
	var (
		keys []string
		held []*issuerKeys
		list []authz.Issuer
	)
	fail := func(err error) (*authz.Issuers, []*issuerKeys, []string, error) {
		releaseIssuers(keys)
		return nil, nil, nil, err
	}
	for i := range cfg.Issuers {
		key, err := issuerKey(cfg, i)
		if err != nil {
			return fail(err)
		}
		v, _, err := issuerPool.LoadOrNew(key, func() (caddy.Destructor, error) { return newIssuerKeys(cfg, i, logger) })
		if err != nil {
			return fail(err)
		}
		keys = append(keys, key)
		held = append(held, v.(*issuerKeys))
		list = append(list, v.(*issuerKeys).issuer)
	}
	issuers, err := authz.NewIssuers(list, cfg.Limits.MaxTokenBytes)
	if err != nil {
		return fail(err)
	}
	return issuers, held, keys, nil
}

// releaseIssuers gives back what acquireIssuers took.
func releaseIssuers(keys []string) error {
	var errs []error
	for _, key := range keys {
		if _, err := issuerPool.Delete(key); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func newIssuerKeys(cfg *config.Config, i int, logger *slog.Logger) (*issuerKeys, error) {
	is := &cfg.Issuers[i]
	ki, err := cfg.KeystoreIssuer(i)
	if err != nil {
		return nil, err
	}
	store, err := keystore.New(keystore.Options{Clock: engine.SystemClock, Logger: logger}, ki)
	if err != nil {
		return nil, err
	}
	ec, err := cfg.EngineConfig(i, store, engine.SystemClock)
	if err != nil {
		return nil, err
	}
	v, err := engine.New(ec)
	if err != nil {
		return nil, fmt.Errorf("issuer %q: %w", is.Issuer, err)
	}
	// Every fetch is bounded by the fetch timeout; this bounds the whole
	// first load (a discovery document, then the key set).
	ctx, cancel := context.WithTimeout(context.Background(), 2*is.FetchTimeout+time.Second)
	defer cancel()
	if err := store.Start(ctx); err != nil {
		if errors.Is(err, keystore.ErrConfig) || errors.Is(err, keystore.ErrClosed) {
			store.Close()
			return nil, err
		}
		// A remote key set that cannot be fetched yet is retried in the
		// background; its tokens get 401 "keys unavailable" until then.
		logger.Warn("jwtgate: key set not loaded yet; retrying in the background", "issuer", is.Issuer, "error", err)
	}
	return &issuerKeys{store: store, issuer: authz.Issuer{Issuer: is.Issuer, Verifier: v, Scope: strings.Join(is.RequiredScopes, " ")}}, nil
}
