package engine

import (
	"errors"
	"fmt"
	"time"
)

// KeyLookup finds the trusted key for a token. keystore.Store implements it.
//
// iss is the token's "iss" claim as read from the not yet verified payload
// (nil when absent or unreadable): use it only to choose the issuer's key
// set, never as proof of anything. kid is the header's kid (empty when
// absent: then the issuer's one key for alg, if it has exactly one, is the
// answer). alg is the header's alg; the returned key may be bound to a
// different algorithm, which the Verifier reports as ErrAlgMismatch.
//
// Errors should be, or refine, ErrUnknownKid, ErrUnknownIssuer,
// ErrKeysUnavailable, ErrKidRequired or ErrAlgMismatch. LookupKey must be
// safe for concurrent use and should not allocate.
type KeyLookup interface {
	LookupKey(iss, kid []byte, alg Alg) (*Key, error)
}

// Defaults (see ARCHITECTURE.md).
const (
	DefaultMaxTokenSize = 16 << 10
	DefaultLeeway       = 30 * time.Second
)

// Config is the verification policy. The zero value of each field is the
// safe default, except that a policy must say which issuers and audiences it
// accepts (or explicitly accept any): a valid signature alone proves nothing
// about whom a token is for (RFC 8725 §3.8, §3.9).
type Config struct {
	// Keys finds the key for each token. Required.
	Keys KeyLookup

	// Issuers lists the accepted "iss" values, matched exactly. Required
	// unless AnyIssuer is set.
	Issuers []string
	// AnyIssuer skips the issuer check. Use it only when the key set itself
	// is trusted for exactly one issuer.
	AnyIssuer bool

	// Audiences lists accepted "aud" values. By default a token must carry at
	// least one of them; with AllAudiences, all of them. Required unless
	// AnyAudience is set.
	Audiences    []string
	AllAudiences bool
	// AnyAudience skips the audience check.
	AnyAudience bool

	// Algorithms restricts the accepted algorithms further than the keys do.
	// Empty means every algorithm a key is bound to.
	Algorithms []Alg
	// RequireKid rejects tokens without a kid header.
	RequireKid bool
	// CriticalHeaders lists the "crit" extensions the caller understands and
	// checks itself. Empty (the default) rejects every token with "crit".
	CriticalHeaders []string

	// Leeway absorbs clock skew for exp, nbf and iat. 0 means DefaultLeeway;
	// a negative value means none.
	Leeway time.Duration
	// ExpOptional accepts tokens without "exp". Off by default.
	ExpOptional bool
	// MaxAge, if positive, rejects tokens whose "iat" is older (and tokens
	// without "iat").
	MaxAge time.Duration
	// Typ, if set, requires the header "typ" to equal it, ignoring ASCII case
	// and an "application/" prefix (RFC 8725 §3.11), e.g. "at+jwt".
	Typ string
	// RequiredClaims lists claims every token must carry.
	RequiredClaims []string
	// RequiredScopes lists scopes every token must grant ("scope" or "scp").
	RequiredScopes []string

	// MaxTokenSize caps the token length in bytes. 0 means DefaultMaxTokenSize.
	MaxTokenSize int
	// Clock tells the time. nil means the system clock.
	Clock Clock

	// CacheEntries sizes the verified-token cache. 0 means DefaultCacheEntries;
	// a negative value turns the cache off.
	CacheEntries int
	// CacheBytes bounds the memory of the cache. 0 means DefaultCacheBytes.
	CacheBytes int64
}

// Verifier verifies tokens against a Config. It is safe for concurrent use.
type Verifier struct {
	keys        KeyLookup
	issuers     [][]byte
	anyIssuer   bool
	audiences   [][]byte
	allAuds     bool
	anyAudience bool
	allowed     [numAlgs]bool
	requireKid  bool
	header      headerParser
	leeway      int64
	expOptional bool
	maxAge      int64
	typ         []byte
	required    []requiredClaim
	scopes      []requiredScope
	maxSize     int
	clock       Clock
	cache       *Cache
	headers     headerCache
}

type requiredClaim struct {
	name string
	err  *Error
}

type requiredScope struct {
	scope string
	err   *Error
}

// ErrConfig is returned (wrapped, with the reason) by New for an unusable Config.
var ErrConfig = errors.New("invalid verifier config")

// New checks cfg and returns a Verifier.
func New(cfg Config) (*Verifier, error) {
	if cfg.Keys == nil {
		return nil, fmt.Errorf("%w: Keys is required", ErrConfig)
	}
	if len(cfg.Issuers) == 0 && !cfg.AnyIssuer {
		return nil, fmt.Errorf("%w: set Issuers, or AnyIssuer to skip the issuer check", ErrConfig)
	}
	if len(cfg.Audiences) == 0 && !cfg.AnyAudience {
		return nil, fmt.Errorf("%w: set Audiences, or AnyAudience to skip the audience check", ErrConfig)
	}
	v := &Verifier{
		keys:        cfg.Keys,
		anyIssuer:   cfg.AnyIssuer,
		allAuds:     cfg.AllAudiences,
		anyAudience: cfg.AnyAudience,
		requireKid:  cfg.RequireKid,
		expOptional: cfg.ExpOptional,
		maxSize:     cfg.MaxTokenSize,
		clock:       cfg.Clock,
	}
	for _, s := range cfg.Issuers {
		v.issuers = append(v.issuers, []byte(s))
	}
	if len(cfg.Audiences) > 0 {
		v.anyAudience = false
	}
	for _, s := range cfg.Audiences {
		v.audiences = append(v.audiences, []byte(s))
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = Algorithms()
	}
	for _, a := range cfg.Algorithms {
		if !a.Valid() {
			return nil, fmt.Errorf("%w: unknown algorithm %d", ErrConfig, a)
		}
		v.allowed[a] = true
	}
	if len(cfg.CriticalHeaders) > 64 {
		return nil, fmt.Errorf("%w: at most 64 CriticalHeaders", ErrConfig)
	}
	for _, name := range cfg.CriticalHeaders {
		switch name {
		case "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit", "b64":
			return nil, fmt.Errorf("%w: %q cannot be a critical extension", ErrConfig, name)
		}
		v.header.crit = append(v.header.crit, []byte(name))
	}
	switch {
	case cfg.Leeway == 0:
		v.leeway = int64(DefaultLeeway / time.Second)
	case cfg.Leeway > 0:
		v.leeway = int64(cfg.Leeway / time.Second)
	}
	if cfg.MaxAge < 0 {
		return nil, fmt.Errorf("%w: MaxAge must not be negative", ErrConfig)
	}
	v.maxAge = int64(cfg.MaxAge / time.Second)
	if cfg.MaxAge > 0 && v.maxAge == 0 {
		v.maxAge = 1
	}
	if cfg.Typ != "" {
		v.typ = []byte(cfg.Typ)
	}
	for _, c := range cfg.RequiredClaims {
		v.required = append(v.required, requiredClaim{c, ErrMissingClaim.Refine(fmt.Sprintf("token lacks the required claim %q", c))})
	}
	for _, s := range cfg.RequiredScopes {
		v.scopes = append(v.scopes, requiredScope{s, ErrScope.Refine(fmt.Sprintf("token lacks the required scope %q", s))})
	}
	if v.maxSize == 0 {
		v.maxSize = DefaultMaxTokenSize
	}
	if v.maxSize < 0 {
		return nil, fmt.Errorf("%w: MaxTokenSize must not be negative", ErrConfig)
	}
	if v.clock == nil {
		v.clock = SystemClock
	}
	if cfg.CacheEntries >= 0 {
		v.cache = NewCache(cfg.CacheEntries, cfg.CacheBytes)
	}
	return v, nil
}

// Cache returns the verifier's verified-token cache (nil when it is off).
func (v *Verifier) Cache() *Cache { return v.cache }

// Verify checks token — signature with the trusted key, then the policy —
// and fills t. It returns nil only for a token that is genuine, meant for
// this verifier and valid now; otherwise an *Error naming the reason, and t
// holds nothing readable: its Header, Claims, Payload, Attachment and Key
// are empty, whatever the failure and whatever t held before. With the cache
// on, a token seen valid before is answered without cryptography after its
// time limits and its key are checked again.
func (v *Verifier) Verify(token []byte, t *Token) error {
	if err := v.verifyCached(token, t); err != nil {
		t.reset(nil)
		return err
	}
	return nil
}

// verifyCached is Verify before the failure reset: the cache, then the full
// path, storing a newly verified token.
func (v *Verifier) verifyCached(token []byte, t *Token) error {
	t.reset(token)
	if len(token) == 0 {
		return errEmpty
	}
	if len(token) > v.maxSize {
		return ErrTooLarge
	}
	now := v.clock.Now().Unix()
	var h uint64
	if v.cache != nil {
		h = v.cache.hashOf(token)
		if e := v.cache.get(h, token, t); e != nil {
			if e.key.Retired() {
				v.cache.invalidate(h, e)
			} else {
				if err := v.checkTimes(&e.claims, now); err != nil {
					return err
				}
				t.fromEntry(e)
				return nil
			}
		}
	}
	if err := v.verify(token, t, now, true); err != nil {
		return err
	}
	if v.cache != nil {
		t.entry = v.cache.put(h, t)
	}
	return nil
}

// VerifyString is Verify for a token held in a string. It does not copy it.
func (v *Verifier) VerifyString(token string, t *Token) error {
	return v.Verify(s2b(token), t)
}

// VerifySignature checks only the compact JWS: structure, header and the
// signature with the trusted key. The payload may be any bytes
// (t.Payload()); no claim is read or checked and nothing is cached. The key
// is looked up without an issuer. On failure t holds nothing readable, as
// after Verify.
func (v *Verifier) VerifySignature(token []byte, t *Token) error {
	if err := v.verifySignature(token, t); err != nil {
		t.reset(nil)
		return err
	}
	return nil
}

func (v *Verifier) verifySignature(token []byte, t *Token) error {
	t.reset(token)
	if len(token) == 0 {
		return errEmpty
	}
	if len(token) > v.maxSize {
		return ErrTooLarge
	}
	return v.verify(token, t, 0, false)
}

// verify is the full, uncached path: parse, find the key, check the
// signature, then (withClaims) the claims policy.
func (v *Verifier) verify(token []byte, t *Token, now int64, withClaims bool) error {
	dot1, dot2, err := splitToken(token)
	if err != nil {
		return err
	}
	t.grow(len(token))
	seg := token[:dot1]
	cachedHeader := v.headers.get(seg)
	if cachedHeader != nil {
		t.Header, t.sharedH = *cachedHeader, true
	} else {
		hdr, ok := t.decode(seg)
		if !ok {
			return errHeaderB64
		}
		if err := v.header.parse(t, hdr); err != nil {
			return err
		}
	}
	alg := t.Header.Alg
	if !v.allowed[alg] {
		return ErrAlgNotAllowed
	}
	var ok bool
	if t.payload, ok = t.decode(token[dot1+1 : dot2]); !ok {
		return errPayloadB64
	}
	sig, ok := t.decode(token[dot2+1:])
	if !ok {
		return errSigB64
	}
	var claimErr error
	var iss []byte
	if withClaims {
		claimErr = parseClaims(t, t.payload)
		if claimErr == nil {
			iss = t.Claims.Issuer
		}
	}
	key, err := v.keys.LookupKey(iss, t.Header.Kid, alg)
	if err != nil {
		if claimErr != nil {
			return claimErr // the payload is broken: more precise than "no key"
		}
		return err
	}
	if key.alg != alg {
		if !t.Header.HasKid && v.requireKid {
			return KidRequiredError(alg, key.alg)
		}
		return AlgMismatchError(alg, key.alg)
	}
	if !t.Header.HasKid && v.requireKid {
		return KidRequiredError(alg, key.alg)
	}
	if err := key.verify(token[:dot2], sig, t.keyBuf[:]); err != nil {
		return err
	}
	if cachedHeader == nil { // genuine now: worth remembering
		v.headers.put(seg, &t.Header)
	}
	// Only now, with the signature verified, do claims count.
	if claimErr != nil {
		return claimErr
	}
	if withClaims {
		if err := v.checkPolicy(t, now); err != nil {
			return err
		}
	}
	t.key = key
	return nil
}
