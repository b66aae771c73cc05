package authz

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable prints the compiled route table, one route per line in the
// order they are tried, the default route last: what each matches, its
// access, and what it requires.
func (pol *Policy) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tROUTE\tHOST\tMETHODS\tPATH\tACCESS\tPREFLIGHT\tREQUIRES")
	for i := range pol.routes {
		r := &pol.routes[i]
		num := fmt.Sprint(i)
		if i == len(pol.routes)-1 {
			num = "-"
		}
		host, methods, path := "*", "*", "*"
		if r.cfg.Host != "" {
			host = r.cfg.Host
		}
		if len(r.methods) > 0 {
			methods = strings.Join(r.methods, ",")
		}
		switch {
		case r.cfg.Prefix != "":
			path = "prefix " + r.cfg.Prefix
		case r.cfg.Path != "":
			path = r.cfg.Path
		}
		preflight := "no"
		if r.preflight {
			preflight = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", num, r.name, host, methods, path, accessNames[r.access], preflight, r.requirements())
	}
	return tw.Flush()
}

// requirements describes what the route requires of a token.
func (r *route) requirements() string {
	var parts []string
	if len(r.issuers) > 0 {
		parts = append(parts, "issuer in ["+strings.Join(r.issuers, ", ")+"]")
	}
	if len(r.audiences) > 0 {
		parts = append(parts, "aud in ["+strings.Join(r.audiences, ", ")+"]")
	}
	if len(r.scopes) > 0 {
		parts = append(parts, "scopes "+strings.Join(r.scopes, " "))
	}
	if r.require != nil {
		for i := range r.require.kids {
			parts = append(parts, r.require.kids[i].String())
		}
	}
	req := strings.Join(parts, "; ")
	if len(parts) == 0 {
		req = "a valid token"
	}
	switch r.access {
	case accessPublic:
		return "-"
	case accessOptional:
		return "nothing; a token sent: " + req
	}
	return req
}

// String describes the condition in the configuration's terms.
func (c *condition) String() string {
	switch c.op {
	case opAll, opAny:
		word := " and "
		if c.op == opAny {
			word = " or "
		}
		parts := make([]string, len(c.kids))
		for i := range c.kids {
			parts[i] = c.kids[i].String()
		}
		return "(" + strings.Join(parts, word) + ")"
	}
	var name string
	for n, k := range opNames {
		if k == c.op {
			name = n
		}
	}
	s := c.path.text + " " + name
	switch len(c.vals) {
	case 0:
	case 1:
		if c.op == opEquals || c.op == opPrefix || c.op == opContains {
			return s + " " + c.vals[0].String()
		}
		fallthrough
	default:
		vals := make([]string, len(c.vals))
		for i := range c.vals {
			vals[i] = c.vals[i].String()
		}
		s += " [" + strings.Join(vals, ", ") + "]"
	}
	return s
}

// String renders an operand as JSON would.
func (s *scalar) String() string {
	switch s.kind {
	case kindString:
		return string(appendJSONString(nil, s.s))
	case kindBool:
		return fmt.Sprint(s.b)
	}
	return fmt.Sprint(s.n)
}

// Routes returns the route names in the order they are tried, the default
// route last.
func (pol *Policy) Routes() []string {
	names := make([]string, len(pol.routes))
	for i := range pol.routes {
		names[i] = pol.routes[i].name
	}
	return names
}

// RouteDenial is a refusal a route can answer with (Route is "" for those
// made before a route is chosen).
type RouteDenial struct {
	Route  string
	Denial *Denial
}

// Denials lists every refusal the policy itself can answer with, by route,
// for a front end that counts refusals from the start. Verification
// failures are not among them: see engine.Reasons.
func (pol *Policy) Denials() []RouteDenial {
	var out []RouteDenial
	if pol.needPath {
		out = append(out, RouteDenial{"", DenialURIUnknown})
	}
	for i := range pol.routes {
		r := &pol.routes[i]
		if r.access == accessPublic {
			continue
		}
		for _, d := range []*Denial{DenialMultipleTokens, DenialBearerEmpty, DenialBearerSpaces, DenialHeaderEmpty} {
			out = append(out, RouteDenial{r.name, d})
		}
		if r.access == accessRequired {
			out = append(out, RouteDenial{r.name, DenialNoToken})
		}
		if len(r.issuers) > 0 {
			out = append(out, RouteDenial{r.name, r.badIssuer})
		}
		if len(r.audiences) > 0 {
			out = append(out, RouteDenial{r.name, r.badAudience})
		}
		if r.badScope != nil {
			out = append(out, RouteDenial{r.name, r.badScope})
		}
		if r.require != nil {
			r.require.eachDenial(func(d *Denial) { out = append(out, RouteDenial{r.name, d}) })
		}
		for j := range pol.identity.headers {
			h := &pol.identity.headers[j]
			out = append(out, RouteDenial{r.name, h.tooLong}, RouteDenial{r.name, h.control})
		}
		if pol.identity.payload != nil {
			out = append(out, RouteDenial{r.name, pol.identity.payload.tooLong})
		}
	}
	return out
}

// eachDenial calls fn with every refusal the condition tree can answer with.
func (c *condition) eachDenial(fn func(*Denial)) {
	switch c.op {
	case opAll:
		for i := range c.kids {
			c.kids[i].eachDenial(fn)
		}
	case opAny:
		fn(c.fail)
	default:
		fn(c.fail)
	}
}
