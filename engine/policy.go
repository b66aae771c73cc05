package engine

import (
	"bytes"
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

// checkPolicy applies the claims policy to a token whose signature verified.
func (v *Verifier) checkPolicy(t *Token, now int64) error {
	c := &t.Claims
	if err := v.checkTimes(c, now); err != nil {
		return err
	}
	if !v.anyIssuer {
		if c.present&hasIss == 0 {
			return errNoIss
		}
		if !containsBytes(v.issuers, c.Issuer) {
			return ErrIssuer
		}
	}
	if !v.anyAudience {
		if err := v.checkAudience(c); err != nil {
			return err
		}
	}
	if v.typ != nil && !typMatches(t.Header.Typ, v.typ) {
		if t.Header.Typ == nil {
			return errNoTyp
		}
		return ErrTyp
	}
	for i := range v.required {
		if !claimPresent(c, v.required[i].name) {
			return v.required[i].err
		}
	}
	for i := range v.scopes {
		if !c.HasScope(v.scopes[i].scope) {
			return v.scopes[i].err
		}
	}
	return nil
}

// checkTimes applies exp, nbf, iat and the maximum age with leeway. It is
// applied again on every cache hit.
func (v *Verifier) checkTimes(c *Claims, now int64) error {
	if c.present&hasExp != 0 {
		if now >= sat(c.ExpiresAt, v.leeway) {
			return ErrExpired
		}
	} else if !v.expOptional {
		return errNoExp
	}
	if c.present&hasNbf != 0 && sat(now, v.leeway) < c.NotBefore {
		return ErrNotYetValid
	}
	if c.present&hasIat != 0 && c.IssuedAt > sat(now, v.leeway) {
		return ErrIssuedInFuture
	}
	if v.maxAge > 0 {
		if c.present&hasIat == 0 {
			return errNoIatAge
		}
		if now > sat(sat(c.IssuedAt, v.maxAge), v.leeway) {
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

func (v *Verifier) checkAudience(c *Claims) error {
	if c.present&hasAud == 0 || len(c.Audience) == 0 {
		return errNoAud
	}
	if v.allAuds {
		for _, want := range v.audiences {
			if !containsBytes(c.Audience, want) {
				return ErrAudience
			}
		}
		return nil
	}
	for _, a := range c.Audience {
		if containsBytes(v.audiences, a) {
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
