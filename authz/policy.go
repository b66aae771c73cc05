package authz

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/jwtgate/jwtgate/engine"
)

// Options are what Compile needs besides the Config.
type Options struct {
	// Issuers are the issuers whose tokens the verifier accepts (their
	// exact "iss"). A route may only name issuers from this list.
	Issuers []string
}

// Policy is a compiled Config: token sources, route table and identity
// headers. It is immutable and safe for concurrent use.
type Policy struct {
	sources    sources
	routes     []route // the configured routes, then the default route
	identity   *identity
	preflight  bool // some route lets preflights through
	needPath   bool // some route matches on the path
	needHost   bool // some route matches on the host
	needMethod bool // some route matches on methods, or preflights pass

	// Route lookup: the routes that can match a path whose first segment
	// is a key of byFirst, in order; other paths can only match generic
	// routes.
	byFirst firstIndex
	generic []*route

	// The token block (view.go).
	tag         uint64
	slots       slotTable
	memos       int  // routes with a memo word
	indexAt     int  // offset of the index in a block
	blockHeader int  // tag, memo and index
	needBlock   bool // conditions or identity headers read claims
}

// policyTags numbers the policies whose configuration cannot be hashed.
var policyTags atomic.Uint64

// tagOf is the tag of the blocks a policy compiled from cfg and opts keeps
// with cached tokens: a hash of the configuration, so that a policy compiled
// again from an equal configuration (a reload that changes no route) reads
// the blocks of the one before, while any other policy's differ.
func tagOf(cfg *Config, opts *Options) uint64 {
	b, err := json.Marshal(struct {
		C *Config
		O *Options
	}{cfg, opts})
	if err != nil {
		return policyTags.Add(1) | 1<<63
	}
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64() &^ (1 << 63)
}

// Refusals about the request itself: a route cannot be chosen.
var (
	// DenialURIUnknown refuses a request whose path the front end could not
	// tell when the route table matches on paths.
	DenialURIUnknown = NewDenial(403, "", "uri_unknown",
		"the original request URI is unknown: the proxy must send X-Forwarded-Uri or X-Original-URI, or call /auth/<path>")
)

// access is a route's access mode.
type access uint8

const (
	accessRequired access = iota
	accessOptional
	accessPublic
)

var accessNames = [...]string{AccessRequired, AccessOptional, AccessPublic}

// route is a compiled Route.
type route struct {
	name      string
	index     int    // in Policy.routes
	field     string // "routes[3]" or "default_route"
	access    access
	preflight bool
	host      hostPattern
	path      pathPattern
	cfg       *Route // for the table
	methods   []string
	issuers   []string
	audiences []string
	scopes    []string
	require   *condition
	keyed     bool      // its path starts with a literal segment: it is looked up by it (see indexRoutes)
	memo      int       // its memo word in a token's block; -1: none
	denials   []*Denial // the refusals of require, numbered for the memo

	badIssuer, badAudience, badScope *Denial
}

// Compile checks cfg and compiles it. Every problem is reported, joined;
// each is a *CompileError that names the setting and the fix.
func Compile(cfg *Config, opts Options) (*Policy, error) {
	var p problems
	pol := &Policy{tag: tagOf(cfg, &opts), slots: slotTable{slots: map[string]int{}}}
	pol.sources = compileSources(&p, &cfg.Tokens)
	pol.identity = compileIdentity(&p, &pol.slots, &cfg.Identity)
	if len(cfg.Routes) > maxRoutes {
		p.add(ErrSetting, "routes", fmt.Sprintf("%d routes, more than %d", len(cfg.Routes), maxRoutes), "merge routes with * and ** patterns")
		return nil, p.err()
	}
	issuers := map[string]bool{}
	for _, is := range opts.Issuers {
		issuers[is] = true
	}
	names := map[string]string{}
	for i := range cfg.Routes {
		field := fmt.Sprintf("routes[%d]", i)
		r := compileRoute(&p, &pol.slots, field, field, &cfg.Routes[i], cfg.CORSPreflight, issuers)
		if other, dup := names[r.name]; dup {
			p.add(ErrSetting, field+".name", fmt.Sprintf("the name %q is taken by %s", r.name, other), "give each route its own name")
		}
		names[r.name] = field
		pol.routes = append(pol.routes, r)
	}
	def := &cfg.Default
	if def.Host != "" || def.Path != "" || def.Prefix != "" || len(def.Methods) > 0 {
		p.add(ErrSetting, "default_route", "the default route applies to every request no route matches: it has no host, path, prefix or methods",
			"move the matching settings into a route under routes")
	}
	dr := compileRoute(&p, &pol.slots, "default_route", "default", def, cfg.CORSPreflight, issuers)
	pol.routes = append(pol.routes, dr)
	checkReachable(&p, pol.routes[:len(pol.routes)-1])
	for i := range pol.routes {
		r := &pol.routes[i]
		r.index = i
		pol.preflight = pol.preflight || r.preflight
		pol.needPath = pol.needPath || r.path.kind != pathAny
		pol.needHost = pol.needHost || !r.host.any
		pol.needMethod = pol.needMethod || r.methods != nil || r.preflight
		pol.needBlock = pol.needBlock || r.require != nil
	}
	pol.needBlock = pol.needBlock || !pol.identity.empty()
	for i := range pol.routes {
		r := &pol.routes[i]
		r.memo = -1
		if r.require != nil && pol.memos < maxMemo {
			r.memo = pol.memos
			pol.memos++
			r.require.eachDenial(func(d *Denial) { r.denials = append(r.denials, d) })
		}
	}
	pol.indexAt = tagBytes + pol.memos*memoBytes
	pol.blockHeader = pol.indexAt + len(pol.slots.slots)*slotBytes
	if len(p) > 0 {
		return nil, p.err()
	}
	pol.indexRoutes()
	return pol, nil
}

// indexRoutes builds the lookup by first path segment.
func (pol *Policy) indexRoutes() {
	lists := map[string][]*route{}
	configured := pol.routes[:len(pol.routes)-1]
	for i := range configured {
		if key, ok := configured[i].path.firstLiteral(); ok {
			lists[key] = nil
		}
	}
	for i := range configured {
		r := &configured[i]
		key, ok := r.path.firstLiteral()
		r.keyed = ok
		if !ok {
			pol.generic = append(pol.generic, r)
		}
		for k := range lists {
			if !ok || k == key {
				lists[k] = append(lists[k], r)
			}
		}
	}
	pol.byFirst.build(lists)
}

// firstIndex maps a first path segment to its routes: an open-addressing
// table with segmentHash, faster than a Go map for these short keys and
// never allocating.
type firstIndex struct {
	shift uint   // a key's first slot is the top bits of its hash: 64 - log2(len(slots))
	mask  uint64 // len(slots) - 1
	slots []firstSlot
}

type firstSlot struct {
	used   bool
	key    string
	routes []*route
}

func (fi *firstIndex) build(lists map[string][]*route) {
	n, shift := 4, uint(62)
	for n < 2*len(lists) {
		n, shift = n*2, shift-1
	}
	fi.shift, fi.mask, fi.slots = shift, uint64(n-1), make([]firstSlot, n)
	for k, rs := range lists {
		i := segmentHash([]byte(k)) >> fi.shift
		for fi.slots[i].used {
			i = (i + 1) & fi.mask
		}
		fi.slots[i] = firstSlot{used: true, key: k, routes: rs}
	}
}

func (fi *firstIndex) lookup(seg []byte) ([]*route, bool) {
	if len(fi.slots) == 0 {
		return nil, false
	}
	for i := segmentHash(seg) >> fi.shift; ; i = (i + 1) & fi.mask {
		s := &fi.slots[i]
		if !s.used {
			return nil, false
		}
		if s.key == string(seg) {
			return s.routes, true
		}
	}
}

// segmentHash hashes a first segment for firstIndex: eight bytes per
// multiply, the tail packed into one word for the last; the top bits (the
// slot) of a product depend on every bit of what was multiplied.
func segmentHash(b []byte) uint64 {
	const k = 0x9e3779b97f4a7c15
	h := uint64(len(b)) * k
	for len(b) >= 8 {
		h = (h ^ binary.LittleEndian.Uint64(b)) * k
		b = b[8:]
	}
	// The tail (0 to 7 bytes; the length is already mixed in) in at most
	// two loads: two overlapping 4-byte words, or the first, middle and
	// last byte.
	var t uint64
	switch n := len(b); {
	case n >= 4:
		t = uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[n-4:]))<<32
	case n > 0:
		t = uint64(b[0]) | uint64(b[n/2])<<8 | uint64(b[n-1])<<16
	}
	return (h ^ t) * k
}

func compileRoute(p *problems, slots *slotTable, field, defName string, rc *Route, preflight bool, issuers map[string]bool) route {
	r := route{name: rc.Name, field: field, cfg: rc, preflight: preflight}
	if r.name == "" {
		r.name = defName
	} else if !IsQuotable(r.name) || len(r.name) > 128 {
		p.add(ErrSetting, field+".name", fmt.Sprintf("%q: a route name is printable ASCII without quotes or backslashes, at most 128 bytes", r.name), "rename the route")
	}
	if rc.CORSPreflight != nil {
		r.preflight = *rc.CORSPreflight
	}
	switch rc.Access {
	case "", AccessRequired:
	case AccessOptional:
		r.access = accessOptional
	case AccessPublic:
		r.access = accessPublic
	default:
		p.add(ErrSetting, field+".access", fmt.Sprintf("unknown access %q", rc.Access), "use required, optional or public")
	}
	r.host = parseHost(p, field+".host", rc.Host)
	switch {
	case rc.Path != "" && rc.Prefix != "":
		p.add(ErrPattern, field, "both path and prefix are set", "keep one: path for segment patterns, prefix for a prefix at a word boundary")
	case rc.Prefix != "":
		r.path = parsePrefix(p, field+".prefix", rc.Prefix)
	default:
		r.path = parsePath(p, field+".path", rc.Path)
	}
	if len(rc.Methods) > maxMethodsPerRte {
		p.add(ErrPattern, field+".methods", fmt.Sprintf("more than %d methods", maxMethodsPerRte), "leave methods out to match any")
	}
	seenM := map[string]bool{}
	for j, m := range rc.Methods {
		if !IsToken(m) || strings.ToUpper(m) != m {
			p.add(ErrPattern, fmt.Sprintf("%s.methods[%d]", field, j), fmt.Sprintf("%q is not an upper-case HTTP method", m), "write methods in upper case: GET, POST, ...")
		}
		if seenM[m] {
			p.add(ErrPattern, fmt.Sprintf("%s.methods[%d]", field, j), fmt.Sprintf("%s is listed twice", m), "list each method once")
		}
		seenM[m] = true
		r.methods = append(r.methods, m)
	}
	for j, is := range rc.Issuers {
		if !issuers[is] {
			p.add(ErrIssuer, fmt.Sprintf("%s.issuers[%d]", field, j), fmt.Sprintf("%q is not a configured issuer", is),
				"add it under issuers, or name one of the configured issuers exactly")
		}
	}
	r.issuers = rc.Issuers
	for j, a := range rc.Audiences {
		if a == "" {
			p.add(ErrSetting, fmt.Sprintf("%s.audiences[%d]", field, j), "empty audience", "remove it")
		}
	}
	r.audiences = rc.Audiences
	for j, s := range rc.Scopes {
		if s == "" || strings.ContainsAny(s, " \"\\") || !IsQuotable(s) {
			p.add(ErrSetting, fmt.Sprintf("%s.scopes[%d]", field, j), fmt.Sprintf("%q: a scope is one word of printable ASCII without quotes or backslashes", s),
				"list each scope as its own element")
		}
	}
	r.scopes = rc.Scopes
	if r.access == accessPublic && (len(rc.Issuers) > 0 || len(rc.Audiences) > 0 || len(rc.Scopes) > 0 || len(rc.Require) > 0) {
		p.add(ErrSetting, field+".access", "a public route verifies no token, so its issuers, audiences, scopes and require can never apply",
			"remove them, or use access: optional to check a token when there is one")
	}
	quoted := fmt.Sprintf("%q", r.name)
	r.require = compileConditions(p, slots, field+".require", quoted, rc.Require)
	r.badIssuer = NewDenial(403, engine.OAuthInsufficientScope, "rule_issuer",
		fmt.Sprintf("tokens of this issuer are not accepted by route %s", quoted))
	r.badAudience = NewDenial(403, engine.OAuthInsufficientScope, "rule_audience",
		fmt.Sprintf("the token audience is not accepted by route %s", quoted))
	if len(rc.Scopes) > 0 {
		r.badScope = NewDenial(403, engine.OAuthInsufficientScope, "rule_scope",
			fmt.Sprintf("the token lacks a scope required by route %s", quoted))
		r.badScope.scope = strings.Join(rc.Scopes, " ")
	}
	return r
}

// checkReachable refuses a route that an earlier one shadows.
func checkReachable(p *problems, routes []route) {
	for j := range routes {
		for i := 0; i < j; i++ {
			a, b := &routes[i], &routes[j]
			if !a.host.covers(&b.host) || !methodsCover(a.methods, b.methods) || !a.path.covers(&b.path) {
				continue
			}
			if b.host.covers(&a.host) && methodsCover(b.methods, a.methods) && b.path.covers(&a.path) {
				p.add(ErrUnreachable, b.field, fmt.Sprintf("route %q matches the same requests as %s (%q), which comes first and always wins", b.name, a.field, a.name),
					"merge the two routes, or make one narrower")
			} else {
				p.add(ErrUnreachable, b.field, fmt.Sprintf("route %q can never match: %s (%q) comes first and matches every request it would", b.name, a.field, a.name),
					"move it before "+a.field+", or narrow "+a.field)
			}
			break
		}
	}
}

// methodsCover reports whether the method set a includes the set b (nil:
// every method).
func methodsCover(a, b []string) bool {
	if a == nil {
		return true
	}
	if b == nil {
		return false
	}
	for _, m := range b {
		found := false
		for _, n := range a {
			found = found || n == m
		}
		if !found {
			return false
		}
	}
	return true
}

// match returns the route for the request: the first that matches, else the
// default. Only the routes that can match the path's first segment are
// tried.
func (pol *Policy) match(host, path, method []byte) *route {
	candidates := pol.generic
	var rest []byte // after the first segment, for the keyed routes
	if path != nil {
		seg, after := splitFirst(path)
		if list, ok := pol.byFirst.lookup(seg); ok {
			candidates, rest = list, after
		}
	}
	for _, r := range candidates {
		// A keyed route is only in the list of its first segment, the one
		// the path was looked up by: the segments after it remain.
		var ok bool
		if r.keyed {
			ok = r.path.matchAfterFirst(rest)
		} else {
			ok = r.path.match(path)
		}
		if ok && r.host.match(host) && r.matchMethod(method) {
			return r
		}
	}
	return &pol.routes[len(pol.routes)-1]
}

// matchMethod reports whether the route takes method m. Methods are
// compared ignoring ASCII case: a route for GET also takes "get", which
// some upstreams serve as GET, so that a request cannot leave a route by
// changing the case of its method.
func (r *route) matchMethod(m []byte) bool {
	if r.methods == nil {
		return true
	}
	for _, x := range r.methods {
		if equalFold(m, x) {
			return true
		}
	}
	return false
}

// check applies the route's issuer, audience and scope requirements to a
// verified token.
func (r *route) check(t *engine.Token) *Denial {
	c := &t.Claims
	// A route names configured issuers: a tenant template matches the
	// tokens its policy accepted, whatever their tenant.
	if len(r.issuers) > 0 && !containsString(r.issuers, c.Issuer) && !slices.Contains(r.issuers, t.PolicyIssuer()) {
		return r.badIssuer
	}
	if len(r.audiences) > 0 {
		ok := false
		for _, a := range c.Audience {
			if containsString(r.audiences, a) {
				ok = true
				break
			}
		}
		if !ok {
			return r.badAudience
		}
	}
	for _, s := range r.scopes {
		if !c.HasScope(s) {
			return r.badScope
		}
	}
	return nil
}

func containsString(list []string, b []byte) bool {
	for _, s := range list {
		if string(b) == s {
			return true
		}
	}
	return false
}
