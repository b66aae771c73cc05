package engine

import (
	"bytes"
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

// Defaults (README.md, "Defaults").
const (
	DefaultMaxTokenSize = 16 << 10
	DefaultLeeway       = 30 * time.Second
)

// Config configures a Verifier: the shared settings (keys, size cap,
// clock, cache, critical headers) and the policy of each accepted issuer.
//
// A Verifier of one issuer (or of several issuers sharing one policy) sets
// the policy fields of Config itself: Issuers, AnyIssuer, Audiences and the
// rest. A Verifier of several issuers, each with its own policy and keys,
// lists them in Policies instead and leaves those fields empty. Either way a
// token is split, decoded and parsed once; its "iss" picks the policy (and
// the policy's keys), and one verified-token cache serves every issuer.
//
// The zero value of each field is the safe default, except that a policy
// must say which issuers and audiences it accepts (or explicitly accept
// any): a valid signature alone proves nothing about whom a token is for
// (RFC 8725 §3.8, §3.9).
type Config struct {
	// Keys finds the key for each token. Required, unless every entry of
	// Policies has Keys of its own.
	Keys KeyLookup

	// Policies are the accepted issuers, each with its own policy. A token
	// whose "iss" names none of them is refused with ErrUnknownIssuer
	// (with one policy, it is refused by that policy: ErrIssuer). When
	// Policies is set, the single-policy fields below must be empty.
	Policies []IssuerPolicy

	// Issuers lists the accepted "iss" values, matched exactly. Required
	// unless AnyIssuer is set (or Policies is used).
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
	// It applies to every issuer.
	CriticalHeaders []string

	// Leeway absorbs clock skew for exp, nbf and iat. 0 means DefaultLeeway;
	// NoLeeway (any negative value) means none.
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
	// MaxTokenSizeSetting names the setting that raises MaxTokenSize, for
	// the description of ErrTooLarge (e.g. "limits.max_token_bytes").
	// Empty means "Config.MaxTokenSize".
	MaxTokenSizeSetting string
	// Clock tells the time. nil means the system clock.
	Clock Clock

	// CacheEntries sizes the verified-token cache, shared by every issuer.
	// 0 means DefaultCacheEntries; a negative value turns the cache off.
	CacheEntries int
	// CacheBytes bounds the memory of the cache. 0 means DefaultCacheBytes.
	CacheBytes int64
}

// NoLeeway is the Leeway that means none (0 means DefaultLeeway).
const NoLeeway time.Duration = -1

// Verifier verifies tokens against a Config. It is safe for concurrent use.
type Verifier struct {
	policies  []*policy
	only      *policy            // the one policy, which judges every token
	byIss     map[string]*policy // exact "iss" → policy, with several
	templates []*policy          // tenant templates, with several
	sigKeys   KeyLookup          // keys for VerifySignature
	header    headerParser
	maxSize   int
	tooLarge  *Error
	clock     Clock
	cache     *Cache
	headers   headerCache
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
	v := &Verifier{maxSize: cfg.MaxTokenSize, clock: cfg.Clock}
	list := cfg.Policies
	var names []string
	single := false
	if len(list) == 0 {
		if len(cfg.Issuers) == 0 && !cfg.AnyIssuer {
			return nil, fmt.Errorf("%w: set Issuers, or AnyIssuer to skip the issuer check", ErrConfig)
		}
		one := IssuerPolicy{
			AnyIssuer: cfg.AnyIssuer,
			Audiences: cfg.Audiences, AllAudiences: cfg.AllAudiences, AnyAudience: cfg.AnyAudience,
			Algorithms: cfg.Algorithms, RequireKid: cfg.RequireKid, Leeway: cfg.Leeway,
			ExpOptional: cfg.ExpOptional, MaxAge: cfg.MaxAge, Typ: cfg.Typ,
			RequiredClaims: cfg.RequiredClaims, RequiredScopes: cfg.RequiredScopes,
		}
		if len(cfg.Issuers) > 0 {
			one.Issuer = cfg.Issuers[0]
			names = cfg.Issuers
		}
		single = true
		list = []IssuerPolicy{one}
	} else if len(cfg.Issuers) > 0 || cfg.AnyIssuer || len(cfg.Audiences) > 0 || cfg.AllAudiences || cfg.AnyAudience ||
		len(cfg.Algorithms) > 0 || cfg.RequireKid || cfg.Leeway != 0 || cfg.ExpOptional || cfg.MaxAge != 0 ||
		cfg.Typ != "" || len(cfg.RequiredClaims) > 0 || len(cfg.RequiredScopes) > 0 {
		return nil, fmt.Errorf("%w: with Policies, set each issuer's policy in its IssuerPolicy and leave Config's policy fields empty", ErrConfig)
	}
	for i := range list {
		p, err := compilePolicy(&list[i], i, cfg.Keys, single, names)
		if err != nil {
			return nil, err
		}
		v.policies = append(v.policies, p)
	}
	if err := v.index(); err != nil {
		return nil, err
	}
	v.sigKeys = cfg.Keys
	if v.sigKeys == nil {
		v.sigKeys = v.policies[0].keys
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
	if v.maxSize == 0 {
		v.maxSize = DefaultMaxTokenSize
	}
	if v.maxSize < 0 {
		return nil, fmt.Errorf("%w: MaxTokenSize must not be negative", ErrConfig)
	}
	setting := cfg.MaxTokenSizeSetting
	if setting == "" {
		setting = "Config.MaxTokenSize"
	}
	v.tooLarge = ErrTooLarge.Refine(fmt.Sprintf("token is over the %d-byte cap (%s raises it)", v.maxSize, setting))
	if v.clock == nil {
		v.clock = SystemClock
	}
	if cfg.CacheEntries >= 0 {
		v.cache = NewCache(cfg.CacheEntries, cfg.CacheBytes)
	}
	return v, nil
}

// index builds the lookup of policies by "iss".
func (v *Verifier) index() error {
	if len(v.policies) == 1 {
		v.only = v.policies[0]
		return nil
	}
	v.byIss = make(map[string]*policy, len(v.policies))
	for _, p := range v.policies {
		switch {
		case p.anyIssuer:
			return fmt.Errorf("%w: Policies[%d]: a policy for any issuer must be the only one", ErrConfig, p.index)
		case p.tmpl != nil:
			for _, o := range v.templates {
				if o.name == p.name {
					return fmt.Errorf("%w: Policies[%d]: issuer %q is listed twice", ErrConfig, p.index, p.name)
				}
			}
			v.templates = append(v.templates, p)
		default:
			if _, dup := v.byIss[p.name]; dup {
				return fmt.Errorf("%w: Policies[%d]: issuer %q is listed twice", ErrConfig, p.index, p.name)
			}
			v.byIss[p.name] = p
		}
	}
	return nil
}

// policyFor returns the policy that judges a token whose "iss" is iss (read
// from the payload before the signature is checked: it only chooses), or
// nil when no policy is for it.
func (v *Verifier) policyFor(iss []byte) *policy {
	if v.only != nil {
		return v.only
	}
	if p, ok := v.byIss[string(iss)]; ok {
		return p
	}
	for _, p := range v.templates {
		if _, ok := p.tmpl.tenant(iss); ok {
			return p
		}
	}
	return nil
}

// Policies returns the verifier's issuer policies, in order, as PolicyIndex
// numbers them. They are copies. A Config without Policies has one, made of
// its own policy fields, whose Issuer is the first of Config.Issuers.
func (v *Verifier) Policies() []IssuerPolicy {
	out := make([]IssuerPolicy, len(v.policies))
	for i, p := range v.policies {
		out[i] = p.cfg
	}
	return out
}

// Cache returns the verifier's verified-token cache (nil when it is off).
func (v *Verifier) Cache() *Cache { return v.cache }

// Verify checks token — signature with the trusted key of its issuer, then
// that issuer's policy — and fills t. It returns nil only for a token that
// is genuine, meant for this verifier and valid now; otherwise an *Error
// naming the reason, and t holds nothing readable: its Header, Claims,
// Payload, Attachment and Key are empty, whatever the failure and whatever
// t held before (PolicyIndex still tells which policy judged it). With the
// cache on, a token seen valid before is answered without cryptography
// after its time limits and its key are checked again.
func (v *Verifier) Verify(token []byte, t *Token) error {
	return v.verifyAt(token, v.clock.Now().Unix(), t)
}

// VerifyAt is Verify at the time now instead of the Config.Clock's: for a
// caller that has read the clock for this token already, as a server has
// when a request arrives (fasthttp's RequestCtx.Time), so that the
// verification does not read it again. Time limits are checked to the
// second, as NumericDates are.
func (v *Verifier) VerifyAt(token []byte, now time.Time, t *Token) error {
	return v.verifyAt(token, now.Unix(), t)
}

// verifyAt is Verify at now, in seconds since the Unix epoch.
func (v *Verifier) verifyAt(token []byte, now int64, t *Token) error {
	if err := v.verifyCached(token, now, t); err != nil {
		p := t.pol
		t.reset(nil)
		t.pol = p
		return err
	}
	return nil
}

// verifyCached is Verify before the failure reset: the cache, then the full
// path, storing a newly verified token.
func (v *Verifier) verifyCached(token []byte, now int64, t *Token) error {
	t.reset(token)
	if len(token) == 0 {
		return errEmpty
	}
	if len(token) > v.maxSize {
		return v.tooLarge
	}
	var h uint64
	if v.cache != nil {
		h = v.cache.hashOf(token)
		if e := v.cache.get(h, token, t); e != nil {
			if e.key.Retired() {
				v.cache.invalidate(h, e)
			} else {
				t.fromEntry(e)
				return e.pol.checkTimes(&t.Claims, now)
			}
		}
	}
	if err := v.verify(token, t, now, true); err != nil {
		return err
	}
	if v.cache != nil {
		if t.sharedH == nil {
			// The header is new: verify just stored it in the header cache.
			// The entry shares that immutable copy, which a hit copies
			// whole, rather than locating the header's strings itself.
			if dot := bytes.IndexByte(token, '.'); dot > 0 {
				t.sharedH = v.headers.get(token[:dot])
			}
		}
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
// is looked up without an issuer, in Config.Keys (else the first policy's
// keys). On failure t holds nothing readable, as after Verify.
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
		return v.tooLarge
	}
	return v.verify(token, t, 0, false)
}

// verify is the full, uncached path: parse, choose the issuer's policy by
// the payload's "iss", find the key in that issuer's keys, check the
// signature, then (withClaims) the claims policy.
//
// When the header is one seen before, the HMAC starts before the parse,
// with the key that verified the last token under that header (see
// headerEntry.key), a compression at a time between the parse's steps: the
// CPU runs the two side by side. The MAC counts only if the lookup, done
// as always once the payload is parsed, returns that same key; otherwise
// the key it returns verifies from scratch.
func (v *Verifier) verify(token []byte, t *Token, now int64, withClaims bool) error {
	err := v.verifySplit(token, t, now, withClaims)
	if err != nil {
		if _, _, bad := splitToken(token); bad != nil {
			return bad // first, as if the token had been split before anything
		}
	}
	return err
}

// verifySplit is verify, except that a token without exactly three
// segments may get another error than errSegments: it splits the token as
// it goes. The header segment of the last header cached ends at the first
// dot when the token starts with it and a dot; otherwise the first dot is
// searched. The payload ends at the next dot. The signature is not
// searched for a third: the decoders refuse every '.', so a token with
// more segments fails somewhere, and verify then reports errSegments.
func (v *Verifier) verifySplit(token []byte, t *Token, now int64, withClaims bool) error {
	entry, dot1 := v.headers.prefix(token)
	if entry == nil {
		if dot1 = bytes.IndexByte(token, '.'); dot1 < 0 {
			return errSegments
		}
		entry = v.headers.entry(token[:dot1])
	}
	dot2 := bytes.IndexByte(token[dot1+1:], '.')
	if dot2 < 0 {
		return errSegments
	}
	dot2 += dot1 + 1
	t.grow(len(token))
	seg := token[:dot1]
	var run hmacRun
	predicted, pads := entry.predictedPads()
	if pads != nil {
		run.start(pads, token[:dot2], true)
	}
	if entry != nil {
		t.Header, t.sharedH = entry.header, &entry.header
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
	if v.only != nil && !v.only.allowed[alg] {
		return ErrAlgNotAllowed
	}
	payload, plain, ok := t.decodePlain(token[dot1+1 : dot2])
	if !ok {
		return errPayloadB64
	}
	t.payload = payload
	sig, ok := t.decode(token[dot2+1:])
	if !ok {
		return errSigB64
	}
	var claimErr error
	var iss []byte
	keys, requireKid := v.sigKeys, false
	if withClaims {
		if pads != nil {
			claimErr = parseClaimsBeside(t, t.payload, plain, &run)
		} else {
			claimErr = parseClaims(t, t.payload, plain)
		}
		if claimErr == nil {
			iss = t.Claims.Issuer
		}
	}
	mac := run.finish() // the lookup and the checks below overlap its last steps
	if withClaims {
		p := v.policyFor(iss)
		if p == nil {
			if claimErr != nil {
				return claimErr // the payload is broken: more precise than "unknown issuer"
			}
			return ErrUnknownIssuer
		}
		if !p.allowed[alg] {
			return ErrAlgNotAllowed
		}
		t.pol, keys, requireKid = p, p.keys, p.requireKid
	} else if v.only != nil {
		requireKid = v.only.requireKid
	}
	key, err := keys.LookupKey(iss, t.Header.Kid, alg)
	if err != nil {
		if claimErr != nil {
			return claimErr // the payload is broken: more precise than "no key"
		}
		return err
	}
	if key.alg != alg {
		if !t.Header.HasKid && requireKid {
			return KidRequiredError(alg, key.alg)
		}
		return AlgMismatchError(alg, key.alg)
	}
	if !t.Header.HasKid && requireKid {
		return KidRequiredError(alg, key.alg)
	}
	if key == predicted {
		err = key.checkMAC(mac, sig)
	} else {
		err = key.verify(token[:dot2], sig, t.keyBuf[:])
	}
	if err != nil {
		return err
	}
	// Genuine now: worth remembering, with the key for the next token.
	if entry == nil {
		entry = v.headers.put(seg, &t.Header)
	}
	if entry != nil && key != predicted && key.pads != nil {
		if predicted != nil && entry.mispredicted.Load() < maxMispredictions {
			entry.mispredicted.Add(1)
		}
		entry.key.Store(key)
	}
	// Only now, with the signature verified, do claims count.
	if claimErr != nil {
		return claimErr
	}
	// The usual policy's shortcut first: a token that passes it has
	// nothing for check to find.
	if withClaims && !(t.pol.simple && t.pol.passes(&t.Claims, now)) {
		if err := t.pol.check(t, now); err != nil {
			return err
		}
	}
	t.key = key
	return nil
}
