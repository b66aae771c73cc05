package server

import (
	"fmt"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/keystore"
	"github.com/jwtgate/jwtgate/server/config"
)

// newVerifier builds the verifier of a validated configuration on its key
// store: one engine policy per configured issuer, each holding its issuer's
// key set, and one token cache for them all. The mapping from settings to
// the engine's terms is the config package's (Config.EngineConfig,
// Config.IssuerPolicy), shared with the Caddy module.
func newVerifier(cfg *config.Config, store *keystore.Store, clock engine.Clock) (*engine.Verifier, error) {
	ec := cfg.EngineConfig(clock)
	for i := range cfg.Issuers {
		keys, _ := store.KeySet(cfg.Issuers[i].Issuer)
		ec.Policies = append(ec.Policies, cfg.IssuerPolicy(i, keys))
	}
	v, err := engine.New(ec)
	if err != nil {
		return nil, fmt.Errorf("issuers: %w", err)
	}
	return v, nil
}
