package authz

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"strings"

	"github.com/jwtgate/jwtgate/engine"
)

// Bounds of the conditions of one route.
const (
	maxConditionDepth = 8
	maxConditions     = 256 // per route, groups included
	maxOperands       = 256 // elements of one list operand
	maxOperandBytes   = 1024
)

type opKind uint8

const (
	opEquals opKind = iota + 1
	opOneOf
	opExists
	opPrefix
	opContains
	opContainsAny
	opContainsAll
	opAll
	opAny
)

var opNames = map[string]opKind{
	OpEquals: opEquals, OpOneOf: opOneOf, OpExists: opExists, OpPrefix: opPrefix,
	OpContains: opContains, OpContainsAny: opContainsAny, OpContainsAll: opContainsAll,
}

const opList = "equals, one_of, exists, prefix, contains, contains_any or contains_all"

// scalar is a compiled operand: a string, a number or a boolean.
type scalar struct {
	kind jsonKind
	s    string
	n    float64
	b    bool
}

// condition is a compiled Condition.
type condition struct {
	op   opKind
	path ClaimPath
	vals []scalar
	kids []condition
	fail *Denial // the refusal when this test, or this any-group, fails
}

// satisfied reports nil when the claims in view satisfy c, or the refusal naming the condition that failed. scratch is memory for
// unescaping strings. It does not allocate once scratch has grown.
func (c *condition) satisfied(view *claimView, scratch *[]byte) *Denial {
	switch c.op {
	case opAll:
		for i := range c.kids {
			if d := c.kids[i].satisfied(view, scratch); d != nil {
				return d
			}
		}
		return nil
	case opAny:
		for i := range c.kids {
			if c.kids[i].satisfied(view, scratch) == nil {
				return nil
			}
		}
		return c.fail
	}
	v, ok := view.lookup(&c.path)
	if !ok || !c.test(v, scratch) {
		return c.fail
	}
	return nil
}

// test applies the operator to the claim's JSON value v.
func (c *condition) test(v []byte, scratch *[]byte) bool {
	switch c.op {
	case opEquals:
		return equalsScalar(v, &c.vals[0])
	case opOneOf:
		for i := range c.vals {
			if equalsScalar(v, &c.vals[i]) {
				return true
			}
		}
		return false
	case opExists:
		return kindAt(v, 0) != kindNull && kindAt(v, 0) != kindInvalid
	case opPrefix:
		content, esc, ok := stringContent(v)
		if !ok {
			return false
		}
		if !esc {
			return len(content) >= len(c.vals[0].s) && string(content[:len(c.vals[0].s)]) == c.vals[0].s
		}
		_, ok = unescapedPrefix(content, c.vals[0].s)
		return ok
	case opContains:
		return holds(v, &c.vals[0], scratch)
	case opContainsAny:
		for i := range c.vals {
			if holds(v, &c.vals[i], scratch) {
				return true
			}
		}
		return false
	case opContainsAll:
		for i := range c.vals {
			if !holds(v, &c.vals[i], scratch) {
				return false
			}
		}
		return true
	}
	return false
}

// stringContent returns the content of the JSON string v (between its
// quotes) and whether it holds escapes; ok is false when v is no string.
func stringContent(v []byte) (content []byte, esc, ok bool) {
	if kindAt(v, 0) != kindString {
		return nil, false, false
	}
	end, esc, ok := stringEnd(v, 0)
	if !ok || end != len(v) {
		return nil, false, false
	}
	return v[1 : end-1], esc, true
}

// equalsScalar reports whether the JSON value v is the scalar s, of the same
// type: a number never equals a string.
func equalsScalar(v []byte, s *scalar) bool {
	switch s.kind {
	case kindString:
		content, esc, ok := stringContent(v)
		if !ok {
			return false
		}
		if !esc {
			return string(content) == s.s
		}
		return unescapedEqual(content, s.s)
	case kindNumber:
		if kindAt(v, 0) != kindNumber {
			return false
		}
		n, ok := parseNumber(v)
		return ok && n == s.n
	case kindBool:
		return s.b && string(v) == "true" || !s.b && string(v) == "false"
	}
	return false
}

// holds reports whether the claim v holds s: as an element of an array, or
// as a word of a space-separated string.
func holds(v []byte, s *scalar, scratch *[]byte) bool {
	switch kindAt(v, 0) {
	case kindArray:
		return eachElement(v, func(e []byte) bool { return equalsScalar(e, s) })
	case kindString:
		if s.kind != kindString {
			return false
		}
		content, esc, ok := stringContent(v)
		if !ok {
			return false
		}
		if esc {
			*scratch = appendUnescaped((*scratch)[:0], content)
			content = *scratch
		}
		return hasWord(content, s.s)
	}
	return false
}

// hasWord reports whether the space-separated list holds word.
func hasWord(list []byte, word string) bool {
	for len(list) > 0 {
		i := bytes.IndexByte(list, ' ')
		if i < 0 {
			return string(list) == word
		}
		if string(list[:i]) == word {
			return true
		}
		list = list[i+1:]
	}
	return false
}

// compileConditions compiles a route's Require list as an all-group.
func compileConditions(p *problems, slots *slotTable, field, route string, conds []Condition) *condition {
	if len(conds) == 0 {
		return nil
	}
	n := 0
	root := &condition{op: opAll}
	root.kids = compileList(p, slots, field, route, conds, 1, &n)
	if n > maxConditions {
		p.add(ErrSetting, field, fmt.Sprintf("the route has %d conditions, more than %d", n, maxConditions),
			"split the route, or test a role that stands for several")
	}
	return root
}

func compileList(p *problems, slots *slotTable, field, route string, conds []Condition, depth int, n *int) []condition {
	out := make([]condition, len(conds))
	for i := range conds {
		f := fmt.Sprintf("%s[%d]", field, i)
		out[i] = compileCondition(p, slots, f, route, &conds[i], depth, n)
	}
	return out
}

func compileCondition(p *problems, slots *slotTable, field, route string, c *Condition, depth int, n *int) condition {
	*n++
	label := c.Name
	if label == "" {
		label = field
	}
	cc := condition{fail: &Denial{
		status:    403,
		code:      engine.OAuthInsufficientScope,
		reason:    "rule_condition",
		desc:      fmt.Sprintf("the token does not meet condition %s of route %s", label, route),
		condition: route + ": " + label,
	}}
	if depth > maxConditionDepth {
		p.add(ErrOperator, field, fmt.Sprintf("conditions are nested more than %d deep", maxConditionDepth), "flatten the all/any groups")
		return cc
	}
	kinds := 0
	if c.Claim != "" || c.Op != "" || c.Value != nil {
		kinds++
	}
	if c.All != nil {
		kinds++
	}
	if c.Any != nil {
		kinds++
	}
	if kinds != 1 {
		p.add(ErrOperator, field, "a condition must be exactly one of a test (claim, op, value), an all group or an any group",
			"split it into separate conditions, or put them in an all: or any: list")
		return cc
	}
	switch {
	case c.All != nil || c.Any != nil:
		cc.op = opAll
		list, key := c.All, "all"
		if c.Any != nil {
			cc.op, list, key = opAny, c.Any, "any"
		}
		if len(list) == 0 {
			p.add(ErrOperator, field+"."+key, "the group is empty", "list at least one condition in it, or remove it")
		}
		cc.kids = compileList(p, slots, field+"."+key, route, list, depth+1, n)
		return cc
	}
	op, ok := opNames[c.Op]
	if !ok {
		problem := fmt.Sprintf("unknown operator %q", c.Op)
		if c.Op == "" {
			problem = "the condition has no op"
		}
		p.add(ErrOperator, field+".op", problem, "use one of "+opList)
		return cc
	}
	cc.op = op
	path, err := parseClaimPath(c.Claim)
	if err != nil {
		p.add(ErrClaimPath, field+".claim", fmt.Sprintf("claim path %q: %v", c.Claim, err),
			pathFix)
	}
	slots.register(&path)
	cc.path = path
	cc.vals = compileOperand(p, field+".value", op, c.Op, c.Value)
	return cc
}

// compileOperand checks and converts the operand of op.
func compileOperand(p *problems, field string, op opKind, name string, v any) []scalar {
	switch op {
	case opExists:
		if v != nil {
			p.add(ErrValue, field, "exists takes no value", "remove the value")
		}
		return nil
	case opOneOf, opContainsAny, opContainsAll:
		rv := reflect.ValueOf(v)
		if v == nil || rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
			p.add(ErrValue, field, name+" takes a list", "write value: [a, b] (a list of strings, numbers or booleans)")
			return nil
		}
		if rv.Len() == 0 || rv.Len() > maxOperands {
			p.add(ErrValue, field, fmt.Sprintf("the list has %d elements", rv.Len()), fmt.Sprintf("list between 1 and %d values", maxOperands))
			return nil
		}
		out := make([]scalar, 0, rv.Len())
		for i := 0; i < rv.Len(); i++ {
			s, ok := toScalar(p, fmt.Sprintf("%s[%d]", field, i), rv.Index(i).Interface())
			if ok {
				out = append(out, s)
			}
		}
		return out
	}
	s, ok := toScalar(p, field, v)
	if !ok {
		return []scalar{{}}
	}
	if op == opPrefix && s.kind != kindString {
		p.add(ErrValue, field, "prefix takes a string", "quote the value")
		return []scalar{{}}
	}
	if op == opPrefix && s.s == "" {
		p.add(ErrValue, field, "an empty prefix matches every string", "use op: exists, or name a prefix")
	}
	return []scalar{s}
}

// toScalar converts a YAML or Go operand.
func toScalar(p *problems, field string, v any) (scalar, bool) {
	if v == nil {
		p.add(ErrValue, field, "the value is missing (or null)", "give a string, a number or a boolean; to test that a claim is present use op: exists")
		return scalar{}, false
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		s := rv.String()
		if len(s) > maxOperandBytes {
			p.add(ErrValue, field, fmt.Sprintf("the value is longer than %d bytes", maxOperandBytes), "shorten it")
			return scalar{}, false
		}
		return scalar{kind: kindString, s: s}, true
	case reflect.Bool:
		return scalar{kind: kindBool, b: rv.Bool()}, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return scalar{kind: kindNumber, n: float64(rv.Int())}, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return scalar{kind: kindNumber, n: float64(rv.Uint())}, true
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			p.add(ErrValue, field, "the value is not a finite number", "give a finite number")
			return scalar{}, false
		}
		return scalar{kind: kindNumber, n: f}, true
	}
	p.add(ErrValue, field, fmt.Sprintf("a %s cannot be compared with a claim", kindWord(rv.Kind())),
		"give a string, a number or a boolean (a list only for one_of, contains_any and contains_all)")
	return scalar{}, false
}

func kindWord(k reflect.Kind) string {
	switch k {
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map, reflect.Struct:
		return "mapping"
	}
	return strings.ToLower(k.String())
}
