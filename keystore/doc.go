// Package keystore holds the trusted verification keys of one or more
// issuers and answers engine.KeyLookup without locks or allocations.
//
// Each issuer's keys live in an immutable snapshot published through an
// atomic pointer; writers (loading files, fetching a JWKS, following an OpenID
// discovery document) build a whole new snapshot and swap it in one store,
// and only when the set changed. Keys are parsed and checked once, when they
// are loaded: a key is bound to exactly one algorithm, from its JWK "alg" or
// from its type and curve through an allow-list.
//
// Remote key sets are refreshed in the background as their Cache-Control
// says (clamped), with backoff on failure; a failed fetch never removes the
// last good keys. A token with an unknown kid triggers at most one refetch
// per issuer per cooldown window; other such tokens fail fast with
// engine.ErrUnknownKid, remembered in a bounded negative cache. After a
// refetch that brought new keys (a rotation, not a made-up kid) the next one
// may come after a short RotationGap instead of the cooldown, once. Kids
// that left the set are remembered (bounded in number and age) and refused
// at once with engine.ErrKeyRemoved, so tokens of a retired key never keep
// the cooldown hot.
//
// Sources per issuer: an inline JWKS, a JWKS file, PEM files (PKIX public
// keys or certificates), pre-built engine keys, and one remote source — a
// JWKS URL or an OpenID discovery document whose "issuer" must equal the
// configured one. ParseJWKS and ParsePEM are exported for the CLI, fuzzing
// and tests.
package keystore
