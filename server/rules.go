package server

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/server/config"
)

// rule is one compiled config.Rule.
type rule struct {
	prefix    []byte // without a trailing slash, except for "/"
	methods   [][]byte
	issuers   [][]byte
	audiences [][]byte
	scopes    []string

	badIssuer   *denial
	badAudience *denial
	badScope    *denial
}

// ruleSet finds the rule for an original request: the longest matching
// prefix, a rule naming the method winning a tie.
type ruleSet struct {
	rules    []rule // sorted: longest prefix first, then rules with methods
	byMethod bool   // some rule names methods
}

func newRuleSet(cfg []config.Rule) *ruleSet {
	rs := &ruleSet{}
	for _, r := range cfg {
		cr := rule{prefix: []byte(r.Path)}
		if len(cr.prefix) > 1 {
			cr.prefix = bytes.TrimRight(cr.prefix, "/")
			if len(cr.prefix) == 0 {
				cr.prefix = []byte("/")
			}
		}
		for _, m := range r.Methods {
			cr.methods = append(cr.methods, []byte(m))
		}
		for _, s := range r.Issuers {
			cr.issuers = append(cr.issuers, []byte(s))
		}
		for _, s := range r.Audiences {
			cr.audiences = append(cr.audiences, []byte(s))
		}
		cr.scopes = r.Scopes
		rs.byMethod = rs.byMethod || len(r.Methods) > 0
		where := "for " + r.Path
		if len(r.Methods) > 0 {
			where = "for " + strings.Join(r.Methods, ",") + " " + r.Path
		}
		cr.badIssuer = newDenial(403, codeInsufficientScope, "rule_issuer",
			fmt.Sprintf("tokens of this issuer are not accepted %s", where))
		cr.badAudience = newDenial(403, codeInsufficientScope, "rule_audience",
			fmt.Sprintf("the token audience is not accepted %s", where))
		if len(r.Scopes) > 0 {
			cr.badScope = newDenial(403, codeInsufficientScope, "rule_scope",
				fmt.Sprintf("the token lacks a scope required %s", where))
			cr.badScope.scope = strings.Join(r.Scopes, " ")
		}
		rs.rules = append(rs.rules, cr)
	}
	sort.SliceStable(rs.rules, func(i, j int) bool {
		a, b := &rs.rules[i], &rs.rules[j]
		if len(a.prefix) != len(b.prefix) {
			return len(a.prefix) > len(b.prefix)
		}
		return len(a.methods) > 0 && len(b.methods) == 0
	})
	return rs
}

func (rs *ruleSet) empty() bool { return len(rs.rules) == 0 }

// needsMethod reports whether any rule depends on the method.
func (rs *ruleSet) needsMethod() bool { return rs.byMethod }

// match returns the rule for path (normalized) and method, or nil.
func (rs *ruleSet) match(path, method []byte) *rule {
	for i := range rs.rules {
		r := &rs.rules[i]
		if !pathUnder(path, r.prefix) {
			continue
		}
		if len(r.methods) > 0 && !containsBytes(r.methods, method) {
			continue
		}
		return r
	}
	return nil
}

// pathUnder reports whether path is prefix or lies below it. The prefix
// must end at a word boundary: "/admin" covers "/admin", "/admin/x" and
// also "/admin;jsessionid=1" and "/admin.json" (which some frameworks route
// to /admin), but not "/administrator" or "/admin-ui".
func pathUnder(path, prefix []byte) bool {
	if len(prefix) == 1 && prefix[0] == '/' {
		return true
	}
	if !bytes.HasPrefix(path, prefix) {
		return false
	}
	if len(path) == len(prefix) {
		return true
	}
	c := path[len(prefix)]
	return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_')
}

// check applies the rule to a verified token. A rule names configured
// issuers: a tenant template matches the tokens its policy accepted.
func (r *rule) check(t *engine.Token) *denial {
	c := &t.Claims
	if len(r.issuers) > 0 && !containsBytes(r.issuers, c.Issuer) && !containsString(r.issuers, t.PolicyIssuer()) {
		return r.badIssuer
	}
	if len(r.audiences) > 0 {
		ok := false
		for _, a := range c.Audience {
			if containsBytes(r.audiences, a) {
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

func containsString(list [][]byte, s string) bool {
	for _, x := range list {
		if string(x) == s {
			return true
		}
	}
	return false
}

func containsBytes(list [][]byte, b []byte) bool {
	for _, x := range list {
		if bytes.Equal(x, b) {
			return true
		}
	}
	return false
}
