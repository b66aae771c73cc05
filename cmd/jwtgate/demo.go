package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
	"github.com/jwtgate/jwtgate/server/config"
)

// Demo mode defaults.
const (
	demoAudience = "jwtgate-demo"
	demoSubject  = "demo-user"
	demoScope    = "demo read"
	demoTokenTTL = 24 * time.Hour
)

// demoSetup is a self-contained setup for trying jwtgate without an identity
// provider: a freshly generated signing key, its public JWKS (served by the
// server at /.well-known/jwks.json) and tokens it signs. The private key
// lives only in memory.
type demoSetup struct {
	Issuer   string
	Audience string
	JWKS     []byte
	key      *sign.Key
}

// newDemoSetup generates a key for alg (ES256 or EdDSA are quick to make)
// for the given issuer and audience (demoAudience when empty).
func newDemoSetup(alg engine.Alg, issuer, audience string) (*demoSetup, error) {
	if audience == "" {
		audience = demoAudience
	}
	k, err := sign.Generate(alg, "demo-"+alg.String())
	if err != nil {
		return nil, err
	}
	return &demoSetup{Issuer: issuer, Audience: audience, JWKS: sign.JWKS(k), key: k}, nil
}

// Configure makes the demo issuer the only issuer of cfg.
func (d *demoSetup) Configure(cfg *config.Config) {
	cfg.Issuers = []config.Issuer{{
		Issuer:     d.Issuer,
		InlineJWKS: d.JWKS,
		Audiences:  []string{d.Audience},
		Algorithms: []engine.Alg{d.key.Alg},
	}}
}

// Token signs a token for sub, valid from now for ttl, with the demo scopes.
func (d *demoSetup) Token(sub string, now time.Time, ttl time.Duration) (string, error) {
	var jti [12]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", err
	}
	return d.key.Sign(map[string]any{
		"iss":   d.Issuer,
		"sub":   sub,
		"aud":   d.Audience,
		"iat":   now.Unix(),
		"nbf":   now.Unix(),
		"exp":   now.Add(ttl).Unix(),
		"jti":   hex.EncodeToString(jti[:]),
		"scope": demoScope,
	})
}

// curlCommand returns the ready-to-run command that calls /auth at
// baseURL with token.
func curlCommand(baseURL, token string) string {
	return fmt.Sprintf("curl -i -H 'Authorization: Bearer %s' %s/auth", token, baseURL)
}
