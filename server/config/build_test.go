package config

import (
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
)

func TestEngineConfig(t *testing.T) {
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
		ec, err := cfg.EngineConfig(i, nil, engine.SystemClock)
		if err != nil {
			t.Fatal(err)
		}
		leeways = append(leeways, ec.Leeway)
		if ec.CacheEntries != 1000 || ec.CacheBytes != 10000000 {
			t.Errorf("issuer %d: cache %d entries, %d bytes; want the budget split in three", i, ec.CacheEntries, ec.CacheBytes)
		}
		if len(ec.Issuers) != 1 || ec.Issuers[0] != cfg.Issuers[i].Issuer {
			t.Errorf("issuer %d: engine issuers %q", i, ec.Issuers)
		}
	}
	// nil: the engine's default; 0s: none (-1); else as given.
	if leeways[0] != 0 || leeways[1] != -1 || leeways[2] != 2*time.Second {
		t.Errorf("leeways %v, want [0 -1 2s]", leeways)
	}
	ki, err := cfg.KeystoreIssuer(0)
	if err != nil {
		t.Fatal(err)
	}
	if ki.JWKSFile != "a.json" || len(ki.Algorithms) != 1 || ki.Algorithms[0] != engine.ES256 {
		t.Errorf("keystore issuer %+v", ki)
	}
	if ki, _ := cfg.KeystoreIssuer(1); ki.Cooldown != 5*time.Second {
		t.Errorf("cooldown %v", ki.Cooldown)
	}

	off, err := Parse([]byte("issuers:\n  - issuer: x\n    jwks_file: a.json\n    audiences: [api]\ncache:\n  entries: 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if ec, _ := off.EngineConfig(0, nil, nil); ec.CacheEntries != -1 {
		t.Errorf("cache entries 0: engine CacheEntries %d, want -1 (off)", ec.CacheEntries)
	}
	cfg.Issuers[0].Algorithms = []string{"RS999"}
	if _, err := cfg.KeystoreIssuer(0); err == nil {
		t.Error("an unknown algorithm passes")
	}
	if _, err := cfg.EngineConfig(0, nil, nil); err == nil {
		t.Error("an unknown algorithm passes")
	}
}
