package config

import (
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
)

func TestEngineBuild(t *testing.T) {
	cfg, err := Parse([]byte(`
issuers:
  - issuer: https://a.example
    jwks_file: a.json
    audiences: [api]
    algorithms: [ES256]
  - issuer: https://b.example
    jwks_file: b.json
    any_audience: true
    leeway: 0s
    cooldown: 5s
  - issuer: https://c.example
    jwks_url: https://c.example/jwks
    audiences: [api]
    leeway: 2s
cache:
  entries: 3000
  max_bytes: 30000000
`))
	if err != nil {
		t.Fatal(err)
	}
	var leeways []time.Duration
	for i := range cfg.Issuers {
		p := cfg.IssuerPolicy(i, nil)
		leeways = append(leeways, p.Leeway)
		if p.Issuer != cfg.Issuers[i].Issuer {
			t.Errorf("issuer %d: policy issuer %q", i, p.Issuer)
		}
	}
	// Default 30s; 0s: none; else as given.
	if leeways[0] != 30*time.Second || leeways[1] != engine.NoLeeway || leeways[2] != 2*time.Second {
		t.Errorf("leeways %v, want [30s NoLeeway 2s]", leeways)
	}
	if ec := cfg.EngineConfig(nil); ec.CacheEntries != 3000 || ec.CacheBytes != 30000000 || ec.MaxTokenSize != cfg.Limits.MaxTokenBytes || ec.MaxTokenSize == 0 {
		t.Errorf("engine config %+v", ec)
	}
	ki := cfg.KeystoreIssuer(0)
	if ki.JWKSFile != "a.json" || len(ki.Algorithms) != 1 || ki.Algorithms[0] != engine.ES256 {
		t.Errorf("keystore issuer %+v", ki)
	}
	if ki := cfg.KeystoreIssuer(1); ki.Cooldown != 5*time.Second {
		t.Errorf("cooldown %v", ki.Cooldown)
	}
	off, err := Parse([]byte("issuers:\n  - issuer: x\n    jwks_file: a.json\n    audiences: [api]\ncache:\n  entries: 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if ec := off.EngineConfig(nil); ec.CacheEntries != -1 {
		t.Errorf("cache entries 0: engine CacheEntries %d, want -1 (off)", ec.CacheEntries)
	}
}
