// Package engine verifies compact JWS / JWT tokens on the hot path of an API
// gateway: no allocation in its own code, no lock, and no way to be talked
// into trusting the token about how to verify it.
//
// A Verifier holds the policy (Config) of one issuer, or of several
// (Config.Policies: one IssuerPolicy per issuer, an exact "iss" or a tenant
// template such as Microsoft Entra ID's); a KeyLookup — usually a
// keystore.Store, or one issuer's key set from it — supplies trusted,
// pre-parsed keys; a Token is the caller's reusable result and scratch
// memory. A token is split, decoded and parsed once, whatever the number of
// issuers, and one verified-token cache serves them all. Verify checks, in
// order:
//
//  1. size (Config.MaxTokenSize) and exactly three segments;
//  2. the verified-token cache: an exact byte match of a token verified before,
//     whose time limits and key are checked again;
//  3. the header, from strict base64url: one JSON object, no duplicate members,
//     alg a supported algorithm (never "none"), crit understood;
//  4. the issuer policy that the payload's "iss" names (ErrUnknownIssuer if
//     none), and the key for the kid in that issuer's keys — "iss" only
//     routes here;
//  5. the signature, with the algorithm the key is bound to, which must equal
//     the header's;
//  6. the claims (read before 5 to route, trusted only after it), then the
//     policy: iss, aud, exp, nbf, iat, typ, required claims and scopes.
//
// Every failure is an *Error: errors.Is matches its reason (ErrExpired,
// ErrBadSignature, ...), Reason gives a stable code and OAuthCode the RFC
// 6750 error for the WWW-Authenticate header. After a failure the Token
// holds nothing readable — no claim, header, payload or attachment — so a
// rejected token's claims cannot be used by mistake; diagnostics come from
// the error.
package engine
