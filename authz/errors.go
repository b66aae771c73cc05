package authz

import "errors"

// The kinds of compile error; a *CompileError matches one with errors.Is.
var (
	// ErrOperator: a condition names an unknown operator, or is not
	// exactly one of a test and a group.
	ErrOperator = errors.New("bad condition operator")
	// ErrValue: a condition's operand does not suit its operator.
	ErrValue = errors.New("bad condition value")
	// ErrClaimPath: a claim path is malformed.
	ErrClaimPath = errors.New("malformed claim path")
	// ErrIssuer: a route names an issuer that is not configured.
	ErrIssuer = errors.New("issuer not configured")
	// ErrPattern: a host, path or method pattern is malformed, too long,
	// or looks like a regular expression.
	ErrPattern = errors.New("bad route pattern")
	// ErrUnreachable: a route can never match (an earlier route matches
	// every request it would), or two routes conflict.
	ErrUnreachable = errors.New("unreachable route")
	// ErrSetting: any other setting is invalid.
	ErrSetting = errors.New("invalid setting")
)

// CompileError is one problem found by Compile: the setting (its YAML path,
// e.g. "routes[2].require[0].claim"), what is wrong, and how to fix it.
type CompileError struct {
	Field   string
	Problem string
	Fix     string
	Kind    error // ErrOperator, ErrValue, ...
}

// Error formats the problem as "field: problem: fix".
func (e *CompileError) Error() string {
	s := e.Problem
	if e.Field != "" {
		s = e.Field + ": " + s
	}
	if e.Fix != "" {
		s += "; " + e.Fix
	}
	return s
}

// Unwrap returns the kind of the problem.
func (e *CompileError) Unwrap() error { return e.Kind }

// problems collects compile errors.
type problems []error

func (p *problems) add(kind error, field, problem, fix string) {
	*p = append(*p, &CompileError{Field: field, Problem: problem, Fix: fix, Kind: kind})
}

func (p problems) err() error { return errors.Join(p...) }
