package jwtgatecaddy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/jwtgate/jwtgate/authz"
	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/keystore"
	"github.com/jwtgate/jwtgate/server/config"
)

// Handlers share what they verify with, through two pools counted by
// reference: Provision takes (the first taker builds and starts), Cleanup
// gives back (the last one closes). Caddy provisions a new configuration
// before it cleans up the old one, so whatever a reload keeps is kept.
//
//   - storePool: one key store per issuer key source (its keys, refresh
//     and cooldown), whatever handlers and other issuers use it;
//   - verifierPool: one engine.Verifier, with its verified-token cache,
//     per list of issuer policies, cache and token limits.
var (
	storePool    = caddy.NewUsagePool()
	verifierPool = caddy.NewUsagePool()
)

// pooledStore is the key store of one issuer.
type pooledStore struct{ store *keystore.Store }

// Destruct stops the key store's background refreshes.
func (p *pooledStore) Destruct() error {
	p.store.Close()
	return nil
}

// pooledVerifier is the verifier of a list of issuers, and the key stores
// it holds.
type pooledVerifier struct {
	issuers   *authz.Issuers
	stores    []*pooledStore
	storeKeys []string
}

// Destruct gives back the key stores.
func (p *pooledVerifier) Destruct() error { return releaseAll(storePool, p.storeKeys) }

// poolKey identifies settings by their JSON.
func poolKey(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// acquireVerifier returns the pooled verifier of cfg's issuers and its pool
// key, building it (and the key stores no handler holds yet, bounded by
// their fetch timeouts) when no handler holds it.
func acquireVerifier(cfg *config.Config, logger *slog.Logger) (*pooledVerifier, string, error) {
	key, err := poolKey(struct {
		Issuers  []config.Issuer
		MaxToken int
		Cache    config.Cache
	}{cfg.Issuers, cfg.Limits.MaxTokenBytes, cfg.Cache})
	if err != nil {
		return nil, "", err
	}
	v, _, err := verifierPool.LoadOrNew(key, func() (caddy.Destructor, error) { return newVerifier(cfg, logger) })
	if err != nil {
		return nil, "", err
	}
	return v.(*pooledVerifier), key, nil
}

func newVerifier(cfg *config.Config, logger *slog.Logger) (*pooledVerifier, error) {
	pv := &pooledVerifier{}
	ec := cfg.EngineConfig(engine.SystemClock)
	for i := range cfg.Issuers {
		ki := cfg.KeystoreIssuer(i)
		key, err := poolKey(ki)
		if err != nil {
			pv.Destruct()
			return nil, err
		}
		s, _, err := storePool.LoadOrNew(key, func() (caddy.Destructor, error) { return newStore(ki, logger) })
		if err != nil {
			pv.Destruct()
			return nil, err
		}
		ps := s.(*pooledStore)
		pv.stores = append(pv.stores, ps)
		pv.storeKeys = append(pv.storeKeys, key)
		keys, _ := ps.store.KeySet(ki.Issuer)
		ec.Policies = append(ec.Policies, cfg.IssuerPolicy(i, keys))
	}
	v, err := engine.New(ec)
	if err != nil {
		pv.Destruct()
		return nil, fmt.Errorf("issuers: %w", err)
	}
	pv.issuers = authz.NewIssuers(v)
	return pv, nil
}

func newStore(ki keystore.Issuer, logger *slog.Logger) (*pooledStore, error) {
	store, err := keystore.New(keystore.Options{Clock: engine.SystemClock, Logger: logger}, ki)
	if err != nil {
		return nil, err
	}
	// Every fetch is bounded by the fetch timeout; this bounds the whole
	// first load (a discovery document, then the key set).
	ctx, cancel := context.WithTimeout(context.Background(), 2*ki.FetchTimeout+time.Second)
	defer cancel()
	if err := store.Start(ctx); err != nil {
		if errors.Is(err, keystore.ErrConfig) || errors.Is(err, keystore.ErrClosed) {
			store.Close()
			return nil, err
		}
		// A remote key set that cannot be fetched yet is retried in the
		// background; its tokens get 401 "keys unavailable" until then.
		logger.Warn("jwtgate: key set not loaded yet; retrying in the background", "issuer", ki.Issuer, "error", err)
	}
	return &pooledStore{store: store}, nil
}

// releaseAll gives back keys taken from pool.
func releaseAll(pool *caddy.UsagePool, keys []string) error {
	var errs []error
	for _, key := range keys {
		if _, err := pool.Delete(key); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
