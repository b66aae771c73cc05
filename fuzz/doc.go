// Package fuzz holds jwtgate's native Go fuzz targets and their seed
// corpora (testdata/fuzz/<Target>/). It has no code of its own: everything is
// in the _test.go files.
//
// The targets:
//
//   - FuzzVerify feeds arbitrary tokens to engine.Verifier (with and without
//     the verified-token cache) over a fixed key set of several algorithms
//     (testdata/keys.json: RS256, PS384, ES256, ES512, EdDSA, HS256, HS512)
//     and a fixed clock, and compares every answer with a straightforward
//     reference verifier built only on the standard library
//     (refverify_test.go). jwtgate must never panic, never accept what the
//     reference rejects nor reject what it accepts, and the two must agree
//     on signature validity: a bad signature is reported as such, before
//     anything about the claims. Where jwtgate is deliberately stricter than
//     encoding/base64 or encoding/json (line breaks, duplicate members,
//     invalid UTF-8, nesting depth), the reference encodes that strictness
//     rather than the target skipping the input. A second input byte, when
//     not zero, re-signs the first two segments with one of the HMAC,
//     Ed25519 or ECDSA keys, so that mutated headers and payloads also reach
//     the claims checks behind a valid signature.
//   - FuzzScanHeader and FuzzScanClaims compare engine.ScanHeader and
//     engine.ScanClaims with encoding/json: the same inputs are valid (modulo
//     the documented strictness) and the members jwtgate reads (alg, kid,
//     typ, cty; iss, sub, aud, exp, nbf, iat, jti, scope/scp, and raw claim
//     lookup) have the same values.
//
// The other targets of the package — FuzzParseJWKS (jwks_test.go),
// FuzzParseConfig (config_test.go) and FuzzAuthHandler (handler_test.go) —
// share the fixed keys and helpers of token_test.go (verifyWorld,
// seedClaims, resignToken, corpusFile).
//
// `go test ./fuzz` runs every target over its seed corpus as a unit test.
// `make fuzz` (FUZZTIME=10m for a long run) fuzzes each target in turn; one
// target by hand:
//
//	go test ./fuzz -run='^$' -fuzz='^FuzzVerify$' -fuzztime=2m
//
// A crasher lands in testdata/fuzz/<Target>/: fix the bug and commit the
// file, which then runs as a regression case. The seed corpora are written
// by `go test ./fuzz -run=TestSeedCorpus -write-seeds` and checked by the
// same test without the flag.
package fuzz
