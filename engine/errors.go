package engine

// Error is a verification failure. Every failure jwtgate reports is an *Error:
// a stable machine-readable reason (Reason), a one-line human description
// (Error), and the RFC 6750 error code to send to the client (OAuthCode).
//
// The exported Err* values are the reasons; a returned error may refine one
// with a more precise description ("claim \"exp\" must be a number"), and
// errors.Is matches it against the reason it refines:
//
//	if errors.Is(err, engine.ErrExpired) { ... }
//
// Errors are immutable and preallocated: failing costs no allocation.
type Error struct {
	reason string
	desc   string
	oauth  string
	base   *Error
}

// RFC 6750 §3.1 error codes.
const (
	OAuthInvalidToken      = "invalid_token"
	OAuthInsufficientScope = "insufficient_scope"
)

// Error returns the one-line human description.
func (e *Error) Error() string { return e.desc }

// Reason returns the stable machine-readable reason, e.g. "expired".
func (e *Error) Reason() string { return e.reason }

// OAuthCode returns the RFC 6750 error code: "invalid_token" or "insufficient_scope".
func (e *Error) OAuthCode() string { return e.oauth }

// Is reports whether target is e or the reason e refines.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && (t == e || (e.base != nil && t == e.base))
}

// Unwrap returns the reason e refines, or nil when e is itself a reason.
func (e *Error) Unwrap() error {
	if e.base == nil {
		return nil
	}
	return e.base
}

func newReason(reason, oauth, desc string) *Error {
	return &Error{reason: reason, desc: desc, oauth: oauth}
}

// Refine returns an error with the same reason and RFC 6750 code as e and a
// more precise description; errors.Is(refined, e) holds. Call it once, at
// setup, and keep the result: the verify path must not allocate.
func (e *Error) Refine(desc string) *Error {
	base := e
	if e.base != nil {
		base = e.base
	}
	return &Error{reason: base.reason, desc: desc, oauth: base.oauth, base: base}
}

// The reasons a token is rejected.
var (
	ErrMalformed       = newReason("malformed", OAuthInvalidToken, "token is not a well-formed compact JWS")
	ErrTooLarge        = newReason("too_large", OAuthInvalidToken, "token is larger than the configured maximum size")
	ErrAlgNone         = newReason("alg_none", OAuthInvalidToken, "unsigned tokens (alg \"none\") are never accepted")
	ErrUnsupportedAlg  = newReason("unsupported_alg", OAuthInvalidToken, "token alg is not a supported signature algorithm")
	ErrAlgNotAllowed   = newReason("alg_not_allowed", OAuthInvalidToken, "token alg is not allowed by this verifier")
	ErrAlgMismatch     = newReason("alg_mismatch", OAuthInvalidToken, "token alg does not match the algorithm its key is bound to")
	ErrKidRequired     = newReason("kid_required", OAuthInvalidToken, "kid is required: the token header has no kid")
	ErrUnknownKid      = newReason("unknown_kid", OAuthInvalidToken, "no key with the token's kid is known for its issuer")
	ErrKeyRemoved      = newReason("key_removed", OAuthInvalidToken, "the token's key was removed by its issuer")
	ErrUnknownIssuer   = newReason("unknown_issuer", OAuthInvalidToken, "no keys are configured for the token's issuer")
	ErrKeysUnavailable = newReason("keys_unavailable", OAuthInvalidToken, "the issuer's signing keys are unavailable")
	ErrUnknownCrit     = newReason("unknown_crit", OAuthInvalidToken, "token header lists a critical extension that is not understood")
	ErrDuplicate       = newReason("duplicate_member", OAuthInvalidToken, "token has a duplicate JSON member")
	ErrBadSignature    = newReason("bad_signature", OAuthInvalidToken, "token signature is invalid")
	ErrExpired         = newReason("expired", OAuthInvalidToken, "token has expired")
	ErrNotYetValid     = newReason("not_yet_valid", OAuthInvalidToken, "token is not valid yet (nbf)")
	ErrIssuedInFuture  = newReason("issued_in_future", OAuthInvalidToken, "token was issued in the future (iat)")
	ErrTooOld          = newReason("too_old", OAuthInvalidToken, "token is older than the maximum token age")
	ErrIssuer          = newReason("issuer", OAuthInvalidToken, "token issuer is not accepted")
	ErrAudience        = newReason("audience", OAuthInvalidToken, "token audience is not accepted")
	ErrTyp             = newReason("typ", OAuthInvalidToken, "token typ is not the required type")
	ErrMissingClaim    = newReason("missing_claim", OAuthInvalidToken, "token lacks a required claim")
	ErrClaimType       = newReason("claim_type", OAuthInvalidToken, "token claim has the wrong JSON type")
	ErrScope           = newReason("insufficient_scope", OAuthInsufficientScope, "token lacks a required scope")
)

// reasons lists every reason, in the order of their declaration.
var reasons = []*Error{
	ErrMalformed, ErrTooLarge, ErrAlgNone, ErrUnsupportedAlg, ErrAlgNotAllowed, ErrAlgMismatch,
	ErrKidRequired, ErrUnknownKid, ErrKeyRemoved, ErrUnknownIssuer, ErrKeysUnavailable, ErrUnknownCrit,
	ErrDuplicate, ErrBadSignature, ErrExpired, ErrNotYetValid, ErrIssuedInFuture, ErrTooOld, ErrIssuer,
	ErrAudience, ErrTyp, ErrMissingClaim, ErrClaimType, ErrScope,
}

// Reasons returns every reason a token is rejected for (the Err* values
// above): every error the verify path returns is one of them or refines one.
// Metrics can register a counter per reason from it. The slice is a copy.
func Reasons() []*Error { return append([]*Error(nil), reasons...) }

// Precise descriptions for structural failures.
var (
	errSegments      = ErrMalformed.Refine("token must have exactly three dot-separated segments")
	errEmpty         = ErrMalformed.Refine("token is empty")
	errHeaderB64     = ErrMalformed.Refine("token header is not strict base64url (no padding, whitespace or foreign characters)")
	errPayloadB64    = ErrMalformed.Refine("token payload is not strict base64url (no padding, whitespace or foreign characters)")
	errSigB64        = ErrMalformed.Refine("token signature is not strict base64url (no padding, whitespace or foreign characters)")
	errHeaderJSON    = ErrMalformed.Refine("token header is not a JSON object")
	errPayloadJSON   = ErrMalformed.Refine("token payload is not a JSON object")
	errNoAlg         = ErrMalformed.Refine("token header has no alg")
	errAlgType       = ErrMalformed.Refine("token header alg must be a string")
	errKidType       = ErrMalformed.Refine("token header kid must be a string")
	errTypType       = ErrMalformed.Refine("token header typ must be a string")
	errCtyType       = ErrMalformed.Refine("token header cty must be a string")
	errB64Type       = ErrMalformed.Refine("token header b64 must be a boolean")
	errB64False      = ErrMalformed.Refine("unencoded payloads (b64=false) are not supported")
	errCritType      = ErrMalformed.Refine("token header crit must be a non-empty array of strings")
	errCritDup       = ErrMalformed.Refine("token header crit lists a name twice")
	errCritAbsent    = ErrMalformed.Refine("token header crit lists a name that is not in the header")
	errNested        = ErrMalformed.Refine("nested JWTs (cty JWT) are not supported")
	errHeaderDup     = ErrDuplicate.Refine("token header has a duplicate member")
	errClaimDup      = ErrDuplicate.Refine("token payload has a duplicate claim")
	errSigEmpty      = ErrBadSignature.Refine("token signature is empty")
	errSigLength     = ErrBadSignature.Refine("token signature has the wrong length for its algorithm")
	errSigECRange    = ErrBadSignature.Refine("ECDSA signature r or s is outside [1, n-1]")
	errSigECDER      = ErrBadSignature.Refine("ECDSA signature must be r‖s (IEEE P1363, RFC 7518 §3.4), not ASN.1 DER")
	errAlgNoneHeader = ErrAlgNone.Refine("unsigned tokens (alg \"none\", in any spelling) are never accepted")
)

// Precise descriptions for registered claims of the wrong JSON type.
var (
	errTypeIss   = ErrClaimType.Refine("claim \"iss\" must be a string")
	errTypeSub   = ErrClaimType.Refine("claim \"sub\" must be a string")
	errTypeJti   = ErrClaimType.Refine("claim \"jti\" must be a string")
	errTypeAud   = ErrClaimType.Refine("claim \"aud\" must be a string or an array of strings")
	errTypeExp   = ErrClaimType.Refine("claim \"exp\" must be a number (NumericDate)")
	errTypeNbf   = ErrClaimType.Refine("claim \"nbf\" must be a number (NumericDate)")
	errTypeIat   = ErrClaimType.Refine("claim \"iat\" must be a number (NumericDate)")
	errTypeScope = ErrClaimType.Refine("claim \"scope\" must be a space-separated string")
	errTypeScp   = ErrClaimType.Refine("claim \"scp\" must be a string or an array of strings")
)

// Precise descriptions for policy failures.
var (
	errNoExp      = ErrMissingClaim.Refine("token has no exp claim, and this verifier requires one")
	errNoIatAge   = ErrMissingClaim.Refine("token has no iat claim, needed to enforce the maximum token age")
	errNoIss      = ErrIssuer.Refine("token has no iss claim")
	errNoAud      = ErrAudience.Refine("token has no aud claim")
	errNoTyp      = ErrTyp.Refine("token header has no typ, and this verifier requires one")
	errKeyRetired = ErrUnknownKid.Refine("the key that verified this token has been removed by its issuer")
)

// algPairErrs holds, for each (token alg, key alg) pair, the alg-mismatch and
// kid-required errors naming both algorithms, built once so that failing
// allocates nothing.
var algPairErrs = func() (t [numAlgs][numAlgs][2]*Error) {
	for tok := AlgUnknown + 1; tok < numAlgs; tok++ {
		for key := AlgUnknown + 1; key < numAlgs; key++ {
			t[tok][key][0] = ErrAlgMismatch.Refine("token alg " + tok.String() + " does not match its key, which is bound to " + key.String())
			t[tok][key][1] = ErrKidRequired.Refine("kid is required: the " + tok.String() + " token has no kid, and the issuer's keys are " + key.String())
		}
	}
	return t
}()

// AlgMismatchError returns the ErrAlgMismatch refinement naming both algorithms.
func AlgMismatchError(tokenAlg, keyAlg Alg) error {
	if !tokenAlg.Valid() || !keyAlg.Valid() {
		return ErrAlgMismatch
	}
	return algPairErrs[tokenAlg][keyAlg][0]
}

// KidRequiredError returns the ErrKidRequired refinement naming the token's
// algorithm and that of the issuer's keys.
func KidRequiredError(tokenAlg, keyAlg Alg) error {
	if !tokenAlg.Valid() || !keyAlg.Valid() {
		return ErrKidRequired
	}
	return algPairErrs[tokenAlg][keyAlg][1]
}
