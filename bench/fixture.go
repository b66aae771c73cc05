package bench

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// The policy every compared verifier enforces.
const (
	// Issuer is the identity provider that signs with the public-key
	// algorithms: the only "iss" accepted with the keys of Fixture.Public.
	Issuer = "https://idp.example.com/"
	// HMACIssuer is the internal service that signs HS256 tokens with a
	// shared secret: the only "iss" accepted with Fixture.Secret.
	HMACIssuer = "https://auth.internal.example.com/"
	// Audience is the accepted "aud".
	Audience = "api://orders"
	// Leeway absorbs clock skew for exp, nbf and iat (jwtgate's default).
	Leeway = 30 * time.Second
	// Lifetime is how long the valid tokens stay valid after the fixture is made.
	Lifetime = 6 * time.Hour
)

// Algs are the compared algorithms, in report order.
var Algs = []engine.Alg{engine.RS256, engine.PS256, engine.ES256, engine.EdDSA, engine.HS256}

// AccessClaims are the claims of a realistic OAuth 2.0 access token, as an
// identity provider issues them.
type AccessClaims struct {
	Issuer    string `json:"iss"`
	Subject   string `json:"sub"`
	Audience  string `json:"aud"`
	ExpiresAt int64  `json:"exp,omitempty"`
	NotBefore int64  `json:"nbf"`
	IssuedAt  int64  `json:"iat"`
	ID        string `json:"jti"`
	Scope     string `json:"scope"`
}

// Case is one token a verifier is checked against.
type Case struct {
	// Name says what is wrong with the token ("valid" when nothing is).
	Name string
	// Token is the compact JWS.
	Token string
	// Valid reports whether every verifier must accept the token.
	Valid bool
	// Claims reports that only a claim check (iss, aud, exp) rejects the
	// token: the bare signature primitive, which reads no claims, is not
	// asked to.
	Claims bool
}

// KeySet is one issuer's trusted keys. A key set holds public keys or HMAC
// secrets, never both (jwtgate refuses a set that mixes them: their custody
// differs), so the fixture has two, each with its issuer, as a gateway
// trusting both kinds is configured.
type KeySet struct {
	// Issuer is the only "iss" accepted with these keys.
	Issuer string
	// Keys are the set's signing keys.
	Keys []*sign.Key
	// JWKS is the JSON Web Key Set of Keys (public keys, or secrets as
	// "oct" keys), the one input every verifier builds its key lookup from.
	JWKS []byte
}

// Fixture is the shared input of every compared verifier: one key per
// algorithm in two key sets (public keys, the HMAC secret), the clock, and
// per algorithm the valid token and the hostile ones.
type Fixture struct {
	// Keys are the trusted signing keys, one per algorithm in Algs.
	Keys map[engine.Alg]*sign.Key
	// Public is the set of the public keys (RSA, ECDSA, Ed25519), issuer
	// Issuer.
	Public KeySet
	// Secret is the set of the HS256 secret, issuer HMACIssuer.
	Secret KeySet
	// Now is the clock every verifier reads. NewFixture sets the wall clock,
	// so that each library pays for reading the time as it does in production.
	Now func() time.Time
	// Minted is the time the tokens were issued at.
	Minted time.Time

	cases map[engine.Alg][]Case
}

// NewFixture generates fresh keys and signs the tokens, valid from a minute
// ago for Lifetime.
func NewFixture() (*Fixture, error) {
	f := &Fixture{
		Keys:   make(map[engine.Alg]*sign.Key, len(Algs)),
		Now:    time.Now,
		Minted: time.Now().Truncate(time.Second),
		cases:  make(map[engine.Alg][]Case, len(Algs)),
	}
	f.Public.Issuer, f.Secret.Issuer = Issuer, HMACIssuer
	for _, alg := range Algs {
		k, err := sign.Generate(alg, KidOf(alg))
		if err != nil {
			return nil, err
		}
		f.Keys[alg] = k
		set := f.Set(alg)
		set.Keys = append(set.Keys, k)
	}
	for _, set := range f.Sets() {
		set.JWKS = sign.JWKS(set.Keys...)
	}
	for _, alg := range Algs {
		cases, err := f.makeCases(alg)
		if err != nil {
			return nil, fmt.Errorf("bench: %s tokens: %w", alg, err)
		}
		f.cases[alg] = cases
	}
	return f, nil
}

// KidOf is the kid of the trusted key for alg, e.g. "rs256-2026-11".
func KidOf(alg engine.Alg) string { return strings.ToLower(alg.String()) + "-2026-11" }

// Set returns the key set holding the key of alg: Secret for HMAC, Public
// for the others.
func (f *Fixture) Set(alg engine.Alg) *KeySet {
	if alg.Family() == engine.FamilyHMAC {
		return &f.Secret
	}
	return &f.Public
}

// Sets returns both key sets, Public first.
func (f *Fixture) Sets() []*KeySet { return []*KeySet{&f.Public, &f.Secret} }

// WithClock returns a copy of f whose verifiers read now instead.
func (f *Fixture) WithClock(now func() time.Time) *Fixture {
	c := *f
	c.Now = now
	return &c
}

// Token returns the valid token for alg.
func (f *Fixture) Token(alg engine.Alg) string { return f.cases[alg][0].Token }

// Cases returns the valid token for alg (first) and the hostile ones.
func (f *Fixture) Cases(alg engine.Alg) []Case { return f.cases[alg] }

// Claims returns the claims of the valid tokens for alg: their issuer is
// that of alg's key set.
func (f *Fixture) Claims(alg engine.Alg) AccessClaims {
	return AccessClaims{
		Issuer:    f.Set(alg).Issuer,
		Subject:   "auth0|5f7c8ec7c33c6c004bbafe82",
		Audience:  Audience,
		ExpiresAt: f.Minted.Add(Lifetime).Unix(),
		NotBefore: f.Minted.Add(-time.Minute).Unix(),
		IssuedAt:  f.Minted.Add(-time.Minute).Unix(),
		ID:        "6c1f2a4e-9b3d-4f7a-8e2c-5d0b1a9c3e71",
		Scope:     "openid profile email read:orders write:orders",
	}
}

func (f *Fixture) makeCases(alg engine.Alg) ([]Case, error) {
	key := f.Keys[alg]
	good := f.Claims(alg)
	valid, err := key.Sign(good)
	if err != nil {
		return nil, err
	}
	cases := []Case{{Name: "valid", Token: valid, Valid: true}}
	add := func(name string, claims bool, token string, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		cases = append(cases, Case{Name: name, Token: token, Claims: claims})
		return nil
	}
	signed := func(edit func(*AccessClaims)) (string, error) {
		c := good
		edit(&c)
		return key.Sign(c)
	}

	// The signature no longer matches.
	tok, err := tamperPayload(valid)
	if err := add("tampered-payload", false, tok, err); err != nil {
		return nil, err
	}
	tok, err = tamperSignature(valid)
	if err := add("tampered-signature", false, tok, err); err != nil {
		return nil, err
	}
	// Genuine signatures, claims the policy refuses.
	tok, err = signed(func(c *AccessClaims) { c.Issuer = "https://evil.example.com/" })
	if err := add("wrong-iss", true, tok, err); err != nil {
		return nil, err
	}
	// The issuer of the other key set: trusted, but not with this key.
	other := Issuer
	if other == good.Issuer {
		other = HMACIssuer
	}
	tok, err = signed(func(c *AccessClaims) { c.Issuer = other })
	if err := add("other-set-iss", true, tok, err); err != nil {
		return nil, err
	}
	tok, err = signed(func(c *AccessClaims) { c.Audience = "api://billing" })
	if err := add("wrong-aud", true, tok, err); err != nil {
		return nil, err
	}
	tok, err = signed(func(c *AccessClaims) {
		c.IssuedAt = f.Minted.Add(-2 * time.Hour).Unix()
		c.NotBefore = c.IssuedAt
		c.ExpiresAt = f.Minted.Add(-time.Hour).Unix()
	})
	if err := add("expired", true, tok, err); err != nil {
		return nil, err
	}
	tok, err = signed(func(c *AccessClaims) { c.ExpiresAt = 0 })
	if err := add("no-exp", true, tok, err); err != nil {
		return nil, err
	}
	tok, err = signed(func(c *AccessClaims) { c.NotBefore = f.Minted.Add(time.Hour).Unix() })
	if err := add("not-yet-valid", true, tok, err); err != nil {
		return nil, err
	}
	tok, err = signed(func(c *AccessClaims) { c.IssuedAt = f.Minted.Add(time.Hour).Unix() })
	if err := add("issued-in-future", true, tok, err); err != nil {
		return nil, err
	}
	// Keys and algorithms the verifier must not trust.
	rogue, err := sign.Generate(alg, KidOf(alg)+"-rogue")
	if err != nil {
		return nil, err
	}
	tok, err = rogue.Sign(good)
	if err := add("unknown-kid", false, tok, err); err != nil {
		return nil, err
	}
	tok, err = unsigned(key.Kid, good)
	if err := add("alg-none", false, tok, err); err != nil {
		return nil, err
	}
	if alg.Family() != engine.FamilyHMAC {
		// The classic confusion: HMAC keyed with the public key's bytes.
		der, err := x509.MarshalPKIXPublicKey(key.Public())
		if err != nil {
			return nil, err
		}
		hs := &sign.Key{Alg: engine.HS256, Kid: key.Kid, Private: der}
		tok, err = hs.Sign(good)
		if err := add("alg-confusion-HS256", false, tok, err); err != nil {
			return nil, err
		}
	}
	if other, ok := sibling[alg]; ok {
		// A genuine signature by the trusted key, under the other RSA
		// algorithm than the one the key is bound to.
		mis := &sign.Key{Alg: other, Kid: key.Kid, Private: key.Private}
		tok, err = mis.Sign(good)
		if err := add("alg-mismatch-"+other.String(), false, tok, err); err != nil {
			return nil, err
		}
	}
	return cases, nil
}

// sibling pairs the RSA algorithms that one RSA key could produce.
var sibling = map[engine.Alg]engine.Alg{engine.RS256: engine.PS256, engine.PS256: engine.RS256}

var b64 = base64.RawURLEncoding

// tamperPayload swaps the payload for one with another subject, keeping the
// header and signature.
func tamperPayload(token string) (string, error) {
	parts := strings.Split(token, ".")
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var c AccessClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return "", err
	}
	c.Subject = "admin"
	payload, err = json.Marshal(c)
	if err != nil {
		return "", err
	}
	return parts[0] + "." + b64.EncodeToString(payload) + "." + parts[2], nil
}

// tamperSignature flips one bit of the signature.
func tamperSignature(token string) (string, error) {
	i := strings.LastIndexByte(token, '.')
	sig, err := b64.DecodeString(token[i+1:])
	if err != nil {
		return "", err
	}
	sig[len(sig)/2] ^= 0x01
	return token[:i+1] + b64.EncodeToString(sig), nil
}

// unsigned returns an alg "none" token with an empty signature.
func unsigned(kid string, claims AccessClaims) (string, error) {
	h, err := json.Marshal(map[string]string{"alg": "none", "typ": "JWT", "kid": kid})
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return b64.EncodeToString(h) + "." + b64.EncodeToString(p) + ".", nil
}

// ValidTokens returns n distinct valid tokens for alg (each with its own sub
// and jti), as the many users behind a gateway present, so that load runs do
// not measure one token answered from a cache.
func (f *Fixture) ValidTokens(alg engine.Alg, n int) ([][]byte, error) {
	key := f.Keys[alg]
	out := make([][]byte, n)
	for i := range out {
		c := f.Claims(alg)
		c.Subject = fmt.Sprintf("auth0|user-%08d", i)
		c.ID = fmt.Sprintf("6c1f2a4e-9b3d-4f7a-8e2c-%012d", i)
		tok, err := key.Sign(c)
		if err != nil {
			return nil, err
		}
		out[i] = []byte(tok)
	}
	return out, nil
}

// CaseToken returns the token of the named case for alg, or nil.
func (f *Fixture) CaseToken(alg engine.Alg, name string) []byte {
	for _, c := range f.cases[alg] {
		if c.Name == name {
			return []byte(c.Token)
		}
	}
	return nil
}
