package authz

import (
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/engine"
)

// Issuers is the Verifier of an engine.Verifier of one or several issuers
// (engine.Config.Policies): the engine splits, decodes and parses each token
// once, and its "iss" picks the issuer's policy and keys there. Issuers adds
// what a decision needs besides: the scopes the chosen policy requires, for
// the scope attribute of a refusal, and the issuer for State.Issuer.
type Issuers struct {
	v      *engine.Verifier
	scopes []string // the space-separated RequiredScopes of each policy
}

// NewIssuers returns the Verifier of v. Use it as a pointer, made once.
func NewIssuers(v *engine.Verifier) *Issuers {
	is := &Issuers{v: v}
	for _, p := range v.Policies() {
		is.scopes = append(is.scopes, strings.Join(p.RequiredScopes, " "))
	}
	return is
}

// Verifier returns the engine verifier.
func (is *Issuers) Verifier() *engine.Verifier { return is.v }

// Verify verifies token into st.Token, and sets st.Issuer to the configured
// issuer (an exact "iss", or a tenant template) whose policy judged it ("" when
// none did: an unknown issuer, a malformed token).
func (is *Issuers) Verify(token []byte, st *State) (string, error) {
	return is.judged(is.v.Verify(token, &st.Token), st)
}

// VerifyAt is Verify at the time now instead of the engine's clock (see
// engine.Verifier.VerifyAt): for a front end that read the clock when the
// request arrived.
func (is *Issuers) VerifyAt(token []byte, now time.Time, st *State) (string, error) {
	return is.judged(is.v.VerifyAt(token, now, &st.Token), st)
}

// judged completes a verification into st.Token that ended with err.
func (is *Issuers) judged(err error, st *State) (string, error) {
	st.Issuer = st.Token.PolicyIssuer()
	if i := st.Token.PolicyIndex(); i >= 0 {
		return is.scopes[i], err
	}
	return "", err
}

// Keeps reports whether the verifier has a token cache.
func (is *Issuers) Keeps(*engine.Token) bool { return is.v.Cache() != nil }

// Attach attaches block to the cache entry of t.
func (is *Issuers) Attach(t *engine.Token, block []byte) { is.v.Attach(t, block) }
