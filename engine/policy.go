package engine

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// Clock tells the time. All of jwtgate reads the time from one Clock, so
// that expiry, cooldowns and key rotation are testable without sleeping.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// SystemClock is the wall clock.
var SystemClock Clock = systemClock{}

// policy is a compiled IssuerPolicy.
type policy struct {
	cfg         IssuerPolicy // as given, for Policies
	index       int          // in Config.Policies
	name        string       // cfg.Issuer
	keys        KeyLookup
	issuers     [][]byte  // accepted exact "iss" values
	anyIssuer   bool      // no issuer check
	tmpl        *template // a tenant template, instead of issuers
	audiences   [][]byte
	allAuds     bool
	anyAudience bool
	allowed     [numAlgs]bool
	requireKid  bool
	leeway      int64
	expOptional bool
	maxAge      int64
	typ         []byte
	required    []requiredClaim
	scopes      []requiredScope
	// simple is set for the usual policy, whose check is the time limits,
	// one exact issuer (iss1) and one audience (aud1): no maximum age, typ,
	// required claims or scopes. Its tokens are judged by passes first.
	simple bool
	iss1   []byte
	aud1   []byte
}

// compilePolicy checks ip and compiles it. keys is Config.Keys, for a
// policy without its own. single is set for the one policy of a Config
// without Policies, whose exact issuers are names.
func compilePolicy(ip *IssuerPolicy, i int, keys KeyLookup, single bool, names []string) (*policy, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: Policies[%d] (%q): %s", ErrConfig, i, ip.Issuer, fmt.Sprintf(format, args...))
	}
	if single {
		fail = func(format string, args ...any) error {
			return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
		}
	}
	p := &policy{
		cfg: *ip, index: i, name: ip.Issuer, keys: ip.Keys, anyIssuer: ip.AnyIssuer,
		allAuds: ip.AllAudiences, anyAudience: ip.AnyAudience && len(ip.Audiences) == 0,
		requireKid: ip.RequireKid, expOptional: ip.ExpOptional,
	}
	if p.keys == nil {
		p.keys = keys
	}
	if p.keys == nil {
		return nil, fail("Keys is required (in Config, or in each IssuerPolicy)")
	}
	if !single {
		if ip.Issuer == "" && !ip.AnyIssuer {
			return nil, fail("set Issuer, or AnyIssuer to skip the issuer check")
		}
		if ip.Issuer != "" {
			names = []string{ip.Issuer}
		}
	}
	for _, s := range names {
		if single && strings.Contains(s, TenantPlaceholder) {
			return nil, fail("the issuer template %q needs Config.Policies, with Tenants or AnyTenant", s)
		}
	}
	tmpl, err := compileTenants(ip.Issuer, ip.Tenants, ip.AnyTenant)
	switch {
	case err != nil:
		return nil, fail("%v", err)
	case tmpl != nil:
		p.tmpl = tmpl
	default:
		for _, s := range names {
			p.issuers = append(p.issuers, []byte(s))
		}
	}
	if len(ip.Audiences) == 0 && !ip.AnyAudience {
		return nil, fail("set Audiences, or AnyAudience to skip the audience check")
	}
	for _, s := range ip.Audiences {
		p.audiences = append(p.audiences, []byte(s))
	}
	algs := ip.Algorithms
	if len(algs) == 0 {
		algs = Algorithms()
	}
	for _, a := range algs {
		if !a.Valid() {
			return nil, fail("unknown algorithm %d", a)
		}
		p.allowed[a] = true
	}
	switch {
	case ip.Leeway == 0:
		p.leeway = int64(DefaultLeeway / time.Second)
	case ip.Leeway > 0:
		p.leeway = int64(ip.Leeway / time.Second)
	}
	if ip.MaxAge < 0 {
		return nil, fail("MaxAge must not be negative")
	}
	p.maxAge = int64(ip.MaxAge / time.Second)
	if ip.MaxAge > 0 && p.maxAge == 0 {
		p.maxAge = 1
	}
	if ip.Typ != "" {
		p.typ = []byte(ip.Typ)
	}
	for _, c := range ip.RequiredClaims {
		p.required = append(p.required, requiredClaim{c, ErrMissingClaim.Refine(fmt.Sprintf("token lacks the required claim %q", c))})
	}
	for _, s := range ip.RequiredScopes {
		p.scopes = append(p.scopes, requiredScope{s, ErrScope.Refine(fmt.Sprintf("token lacks the required scope %q", s))})
	}
	p.simple = len(p.issuers) == 1 && p.tmpl == nil && !p.anyIssuer && len(p.audiences) == 1 && !p.anyAudience &&
		p.maxAge == 0 && p.typ == nil && len(p.required) == 0 && len(p.scopes) == 0
	if p.simple {
		p.iss1, p.aud1 = p.issuers[0], p.audiences[0]
	}
	return p, nil
}

// passes reports whether a token with claims c passes the checks of a
// simple policy at now: one call with no error values, no loops and no
// typ, scope or required-claim branches, for the tokens that are fine and
// carry one audience. It never passes a token that check refuses; a token
// it does not pass (a refusal, an audience array) goes to check, which
// finds the precise error.
func (p *policy) passes(c *Claims, now int64) bool {
	const need = hasIss | hasAud | hasExp
	return c.present&need == need && now < sat(c.ExpiresAt, p.leeway) &&
		(c.present&hasNbf == 0 || sat(now, p.leeway) >= c.NotBefore) &&
		(c.present&hasIat == 0 || c.IssuedAt <= sat(now, p.leeway)) &&
		len(c.Audience) == 1 && string(c.Issuer) == string(p.iss1) && string(c.Audience[0]) == string(p.aud1)
}

// check applies the claims policy to a token whose signature verified.
func (p *policy) check(t *Token, now int64) error {
	c := &t.Claims
	if err := p.checkTimes(c, now); err != nil {
		return err
	}
	if !p.anyIssuer {
		if c.present&hasIss == 0 {
			return errNoIss
		}
		if p.tmpl != nil {
			if err := p.tmpl.check(c); err != nil {
				return err
			}
		} else if !containsBytes(p.issuers, c.Issuer) {
			return ErrIssuer
		}
	}
	if !p.anyAudience {
		if err := p.checkAudience(c); err != nil {
			return err
		}
	}
	if p.typ != nil && !typMatches(t.Header.Typ, p.typ) {
		if t.Header.Typ == nil {
			return errNoTyp
		}
		return ErrTyp
	}
	for i := range p.required {
		if !claimPresent(c, p.required[i].name) {
			return p.required[i].err
		}
	}
	for i := range p.scopes {
		if !c.HasScope(p.scopes[i].scope) {
			return p.scopes[i].err
		}
	}
	return nil
}

// checkTimes applies exp, nbf, iat and the maximum age with leeway. It is
// applied again on every cache hit.
func (p *policy) checkTimes(c *Claims, now int64) error {
	if c.present&hasExp != 0 {
		if now >= sat(c.ExpiresAt, p.leeway) {
			return ErrExpired
		}
	} else if !p.expOptional {
		return errNoExp
	}
	if c.present&hasNbf != 0 && sat(now, p.leeway) < c.NotBefore {
		return ErrNotYetValid
	}
	if c.present&hasIat != 0 && c.IssuedAt > sat(now, p.leeway) {
		return ErrIssuedInFuture
	}
	if p.maxAge > 0 {
		if c.present&hasIat == 0 {
			return errNoIatAge
		}
		if now > sat(sat(c.IssuedAt, p.maxAge), p.leeway) {
			return ErrTooOld
		}
	}
	return nil
}

// sat adds two non-negative-leaning int64s, saturating instead of wrapping.
func sat(a, b int64) int64 {
	s := a + b
	if b > 0 && s < a {
		return 1<<63 - 1
	}
	if b < 0 && s > a {
		return -1 << 63
	}
	return s
}

func (p *policy) checkAudience(c *Claims) error {
	if c.present&hasAud == 0 || len(c.Audience) == 0 {
		return errNoAud
	}
	if p.allAuds {
		for _, want := range p.audiences {
			if !containsBytes(c.Audience, want) {
				return ErrAudience
			}
		}
		return nil
	}
	for _, a := range c.Audience {
		if containsBytes(p.audiences, a) {
			return nil
		}
	}
	return ErrAudience
}

// claimPresent reports whether a required claim is present and not null.
func claimPresent(c *Claims, name string) bool {
	switch name {
	case "iss":
		return c.present&hasIss != 0
	case "sub":
		return c.present&hasSub != 0
	case "aud":
		return c.present&hasAud != 0
	case "exp":
		return c.present&hasExp != 0
	case "nbf":
		return c.present&hasNbf != 0
	case "iat":
		return c.present&hasIat != 0
	case "jti":
		return c.present&hasJti != 0
	}
	raw, ok := c.Lookup(name)
	return ok && string(raw) != "null"
}

// typMatches compares a header typ with the required one, ignoring ASCII case
// and an "application/" prefix on either (RFC 7515 §4.1.9).
func typMatches(got, want []byte) bool {
	return bytes.EqualFold(trimApplication(got), trimApplication(want))
}

func trimApplication(b []byte) []byte {
	const prefix = "application/"
	if len(b) > len(prefix) && bytes.EqualFold(b[:len(prefix)], s2b(prefix)) {
		return b[len(prefix):]
	}
	return b
}

func containsBytes(list [][]byte, b []byte) bool {
	for _, x := range list {
		if bytes.Equal(x, b) {
			return true
		}
	}
	return false
}
