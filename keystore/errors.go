package keystore

import (
	"errors"
	"fmt"
)

// Errors about a whole JWKS document. ParseJWKS returns them wrapped with the
// precise reason; test them with errors.Is.
var (
	// ErrNotJWKS: the document is not a JSON object with a "keys" array
	// (or has duplicate members, or data after the object).
	ErrNotJWKS = errors.New("not a JWK Set")
	// ErrDocumentTooLarge: the document exceeds the size bound.
	ErrDocumentTooLarge = errors.New("JWK Set document is too large")
	// ErrTooManyKeys: the set lists more than MaxKeys keys.
	ErrTooManyKeys = errors.New("JWK Set has too many keys")
	// ErrAmbiguousKid: two usable keys share a kid and an algorithm, so a
	// token could not say which one signed it. The whole set is rejected.
	ErrAmbiguousKid = errors.New("ambiguous key set: two keys share a kid and an algorithm")
	// ErrNoUsableKeys: every key of the set was skipped (or it has none).
	ErrNoUsableKeys = errors.New("no usable verification key")
	// ErrMixedSymmetry: the set holds both symmetric secrets (kty "oct")
	// and asymmetric public keys (kty "RSA", "EC" or "OKP"). Secrets and
	// public keys have different custody; a set mixing them is mishandled
	// sooner or later, so the whole set is rejected.
	ErrMixedSymmetry = errors.New("key set mixes symmetric secrets and asymmetric public keys")
	// ErrPublishedSecret: a key set fetched over the network (JWKS URL or
	// discovery) holds a symmetric secret (kty "oct"): a secret anyone can
	// fetch is no secret. The whole set is rejected; an HMAC secret belongs
	// in a key file or an inline key set.
	ErrPublishedSecret = errors.New("fetched key set contains a symmetric secret")
)

// Reasons a single key is skipped. Each skipped key is reported as a
// *KeyError wrapping one of these or engine.ErrInvalidKey (weak or
// inconsistent key material: small RSA modulus, bad exponent, point off the
// curve, curve not matching alg, short HMAC secret, ROCA fingerprint).
var (
	// ErrMalformedJWK: a member is missing, has the wrong JSON type, is
	// duplicated or is not strict base64url.
	ErrMalformedJWK = errors.New("malformed JWK")
	// ErrUnsupportedKey: kty, crv or alg names something jwtgate does not
	// verify with (e.g. RSA-OAEP, Ed448, secp256k1).
	ErrUnsupportedKey = errors.New("unsupported key")
	// ErrNotForVerification: "use" is not "sig", or "key_ops" lacks "verify".
	ErrNotForVerification = errors.New("key is not for signature verification")
	// ErrKeyUseConflict: "use" and "key_ops" contradict each other (RFC 7517 §4.3).
	ErrKeyUseConflict = errors.New("JWK use and key_ops contradict each other")
	// ErrNoAlgorithm: the JWK has no "alg" and no allowed algorithm fits its
	// type (oct keys never get an inferred algorithm).
	ErrNoAlgorithm = errors.New("key algorithm cannot be determined")
	// ErrPrivateKeyMaterial: an asymmetric key carries private members (d,
	// p, q, ...). A published private key cannot be trusted.
	ErrPrivateKeyMaterial = errors.New("public key set contains private key material")
	// ErrCertificateMismatch: the x5c leaf certificate (or x5t thumbprint)
	// does not match the key members of the JWK.
	ErrCertificateMismatch = errors.New("x5c certificate does not match the JWK")
	// ErrMalformedPEM: PEM data with junk, encryption headers or a block
	// that does not parse.
	ErrMalformedPEM = errors.New("malformed PEM")
)

// Errors of remote fetching, wrapped in a *FetchError.
var (
	// ErrRedirectRefused: the server redirected to another host or scheme.
	ErrRedirectRefused = errors.New("redirect refused")
	// ErrBodyTooLarge: the response body exceeded the configured MaxBody.
	ErrBodyTooLarge = errors.New("response body exceeds the size limit")
	// ErrUnexpectedStatus: the response status was not 200 (or 304 to a
	// conditional request).
	ErrUnexpectedStatus = errors.New("unexpected HTTP status")
	// ErrIssuerMismatch: the discovery document names another issuer.
	ErrIssuerMismatch = errors.New("discovery document issuer does not match the configured issuer")
	// ErrDiscovery: the discovery document is malformed or lacks jwks_uri.
	ErrDiscovery = errors.New("invalid OpenID discovery document")
	// ErrClosed: the store has been closed.
	ErrClosed = errors.New("keystore is closed")
)

// ErrConfig is returned (wrapped, naming the issuer and field) by New, and by
// Start for unreadable or invalid local key files.
var ErrConfig = errors.New("invalid keystore config")

// KeyError is one key of a set that was skipped, with the reason.
type KeyError struct {
	Index int    // position in the "keys" array (or PEM block number)
	Kid   string // the key's kid, if it had a readable one
	Err   error  // the reason: wraps engine.ErrInvalidKey or a keystore Err* value
}

// Error names the key and the reason.
func (e *KeyError) Error() string {
	if e.Kid != "" {
		return fmt.Sprintf("key #%d (kid %q): %v", e.Index, e.Kid, e.Err)
	}
	return fmt.Sprintf("key #%d: %v", e.Index, e.Err)
}

// Unwrap returns the reason.
func (e *KeyError) Unwrap() error { return e.Err }

// Fetch error kinds, the keys of Stats.FetchErrors.
const (
	KindTimeout   = "timeout"   // the fetch took longer than FetchTimeout
	KindNetwork   = "network"   // connection refused, reset, DNS, TLS, truncated body
	KindStatus    = "status"    // a status other than 200 (or 304)
	KindTooLarge  = "too_large" // the body exceeded MaxBody
	KindInvalid   = "invalid"   // the body is not a usable JWKS
	KindRedirect  = "redirect"  // a redirect to another host or scheme
	KindDiscovery = "discovery" // the discovery document is malformed or names another issuer
)

// fetchKinds lists every kind, in a stable order.
var fetchKinds = [...]string{KindTimeout, KindNetwork, KindStatus, KindTooLarge, KindInvalid, KindRedirect, KindDiscovery}

// FetchError is a failed fetch of an issuer's discovery document or JWKS.
type FetchError struct {
	Issuer string // the configured issuer
	URL    string // the URL that failed
	Kind   string // one of the Kind* constants
	Status int    // the HTTP status, for KindStatus
	Err    error  // the cause
}

// Error names the issuer, the URL, the kind and the cause.
func (e *FetchError) Error() string {
	return fmt.Sprintf("keystore: issuer %q: fetch %s failed (%s): %v", e.Issuer, e.URL, e.Kind, e.Err)
}

// Unwrap returns the cause.
func (e *FetchError) Unwrap() error { return e.Err }
