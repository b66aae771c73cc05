package authz

import (
	"bytes"
	"encoding/base64"
	"fmt"

	"github.com/jwtgate/jwtgate/engine"
)

// Issuer is one issuer's verifier, for Issuers.
type Issuer struct {
	// Issuer is the exact "iss" of its tokens ("" for a verifier that
	// accepts any issuer, allowed only alone).
	Issuer string
	// Verifier checks its tokens.
	Verifier *engine.Verifier
	// Scope is the space-separated scopes its policy requires, reported
	// in the scope attribute when a token lacks one.
	Scope string
}

// Issuers is the Verifier of several issuers. With one there is nothing to
// pick. With several, the token's "iss" is peeked from the unverified
// payload only to choose the issuer's verifier; that verifier then checks
// the signature with the issuer's keys and "iss" exactly, so a token gains
// nothing by lying about its issuer. A token whose issuer is unknown or
// unreadable goes to the first issuer's verifier, which rejects it with a
// precise error.
type Issuers struct {
	list     []Issuer
	byIssuer map[string]*Issuer
	maxToken int
}

// NewIssuers returns the Verifier of list. maxToken is the largest token
// any of them accepts (larger ones are not peeked at).
func NewIssuers(list []Issuer, maxToken int) (*Issuers, error) {
	if len(list) == 0 {
		return nil, fmt.Errorf("authz: no issuer: configure at least one")
	}
	is := &Issuers{list: list, byIssuer: map[string]*Issuer{}, maxToken: maxToken}
	for i := range list {
		if list[i].Verifier == nil {
			return nil, fmt.Errorf("authz: issuer %q has no verifier", list[i].Issuer)
		}
		if _, dup := is.byIssuer[list[i].Issuer]; dup {
			return nil, fmt.Errorf("authz: issuer %q is listed twice", list[i].Issuer)
		}
		if list[i].Issuer == "" && len(list) > 1 {
			return nil, fmt.Errorf("authz: a verifier for any issuer must be the only one")
		}
		is.byIssuer[list[i].Issuer] = &list[i]
	}
	return is, nil
}

// List returns the issuers, in order.
func (is *Issuers) List() []Issuer { return is.list }

// pick returns the issuer for token, peeking at its "iss" with st's
// scratch memory when there are several.
func (is *Issuers) pick(token []byte, st *State) *Issuer {
	if len(is.list) == 1 || len(token) > is.maxToken {
		return &is.list[0]
	}
	seg := payloadSegment(token)
	n := base64.RawURLEncoding.DecodedLen(len(seg))
	if cap(st.peekBuf) < n {
		st.peekBuf = make([]byte, n)
	}
	m, err := base64.RawURLEncoding.Decode(st.peekBuf[:n], seg)
	if err != nil {
		return &is.list[0]
	}
	if err := engine.ScanClaims(st.peekBuf[:m], &st.peek); err != nil {
		return &is.list[0]
	}
	if it, ok := is.byIssuer[string(st.peek.Claims.Issuer)]; ok {
		return it
	}
	return &is.list[0]
}

// Verify verifies token into st.Token with its issuer's verifier, and sets
// st.Issuer.
func (is *Issuers) Verify(token []byte, st *State) (string, error) {
	it := is.pick(token, st)
	st.Issuer = it.Issuer
	return it.Scope, it.Verifier.Verify(token, &st.Token)
}

// of returns the issuer of a verified token.
func (is *Issuers) of(t *engine.Token) *Issuer {
	if len(is.list) == 1 {
		return &is.list[0]
	}
	return is.byIssuer[string(t.Claims.Issuer)]
}

// Keeps reports whether the verifier of t has a token cache.
func (is *Issuers) Keeps(t *engine.Token) bool {
	it := is.of(t)
	return it != nil && it.Verifier.Cache() != nil
}

// Attach attaches block to the cache entry of t.
func (is *Issuers) Attach(t *engine.Token, block []byte) {
	if it := is.of(t); it != nil {
		it.Verifier.Attach(t, block)
	}
}

// payloadSegment returns the base64url payload segment of a compact JWS.
func payloadSegment(tok []byte) []byte {
	i := bytes.IndexByte(tok, '.')
	if i < 0 {
		return nil
	}
	j := bytes.IndexByte(tok[i+1:], '.')
	if j < 0 {
		return nil
	}
	return tok[i+1 : i+1+j]
}
