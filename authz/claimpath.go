package authz

import (
	"fmt"
	"strings"

	"github.com/jwtgate/jwtgate/engine"
)

// Bounds of a claim path.
const (
	maxPathBytes    = 512
	maxPathSegments = 16
)

// ClaimPath is a parsed claim path (see the package documentation): the
// member names to walk, outermost first.
type ClaimPath struct {
	text  string // as configured, for messages
	names []string
	slot  int // of names[0] in the policy's block index; -1: none
}

// ParseClaimPath parses a claim path. The error is a *CompileError of kind
// ErrClaimPath.
func ParseClaimPath(s string) (ClaimPath, error) {
	p, err := parseClaimPath(s)
	if err != nil {
		return p, &CompileError{Problem: fmt.Sprintf("claim path %q: %v", s, err), Fix: pathFix, Kind: ErrClaimPath}
	}
	return p, nil
}

// pathFix says how to write a claim path.
const pathFix = `write names separated by dots (realm_access.roles); escape a dot in a name (a\.b) or bracket the name (["https://example.com/roles"])`

// Lookup returns the raw JSON value at the path in the claims of a verified
// token (for a string, with its quotes and escapes: engine.AppendClaimText
// renders it), and whether it is there. It does not allocate.
func (p *ClaimPath) Lookup(c *engine.Claims) ([]byte, bool) { return p.lookup(c.Raw()) }

// parseClaimPath parses the claim path syntax described in the package
// documentation. The error says what is wrong; the caller adds the fix.
func parseClaimPath(s string) (ClaimPath, error) {
	p := ClaimPath{text: s, slot: -1}
	if s == "" {
		return p, fmt.Errorf("the claim path is empty")
	}
	if len(s) > maxPathBytes {
		return p, fmt.Errorf("the claim path is longer than %d bytes", maxPathBytes)
	}
	var name strings.Builder
	i := 0
	for {
		name.Reset()
		switch {
		case i < len(s) && s[i] == '[':
			j, err := parseBracket(s, i, &name)
			if err != nil {
				return p, err
			}
			i = j
		default:
			for i < len(s) && s[i] != '.' && s[i] != '[' {
				c := s[i]
				switch {
				case c == '\\':
					if i+1 >= len(s) || s[i+1] != '.' && s[i+1] != '\\' && s[i+1] != '[' {
						return p, fmt.Errorf("at byte %d: a backslash escapes only '.', '[' or '\\'", i)
					}
					name.WriteByte(s[i+1])
					i += 2
					continue
				case c == ']' || c == '"':
					return p, fmt.Errorf("at byte %d: %q belongs inside a bracketed name such as [\"a.b\"]", i, c)
				case c < 0x20 || c == 0x7f:
					return p, fmt.Errorf("at byte %d: control character", i)
				}
				name.WriteByte(c)
				i++
			}
			if name.Len() == 0 {
				return p, fmt.Errorf("at byte %d: empty name (two dots in a row, or a dot at an end)", i)
			}
		}
		p.names = append(p.names, name.String())
		if len(p.names) > maxPathSegments {
			return p, fmt.Errorf("the claim path has more than %d names", maxPathSegments)
		}
		if i == len(s) {
			return p, nil
		}
		switch s[i] {
		case '.':
			i++
			if i == len(s) {
				return p, fmt.Errorf("the claim path ends with a dot")
			}
			if s[i] == '[' {
				return p, fmt.Errorf("at byte %d: write a[\"b\"], not a.[\"b\"]", i)
			}
		case '[':
		default:
			return p, fmt.Errorf("at byte %d: a bracketed name must be followed by '.', '[' or the end", i)
		}
	}
}

// parseBracket reads ["name"] at s[i] into name and returns the index past it.
func parseBracket(s string, i int, name *strings.Builder) (int, error) {
	start := i
	i++
	if i >= len(s) || s[i] != '"' {
		return i, fmt.Errorf("at byte %d: a bracketed name is quoted: [\"name\"]", start)
	}
	i++
	for {
		if i >= len(s) {
			return i, fmt.Errorf("at byte %d: unterminated bracketed name", start)
		}
		c := s[i]
		switch {
		case c == '\\':
			if i+1 >= len(s) || s[i+1] != '"' && s[i+1] != '\\' {
				return i, fmt.Errorf("at byte %d: inside brackets a backslash escapes only '\"' or '\\'", i)
			}
			name.WriteByte(s[i+1])
			i += 2
			continue
		case c == '"':
			if i+1 >= len(s) || s[i+1] != ']' {
				return i, fmt.Errorf("at byte %d: a bracketed name ends with \"]", i)
			}
			if name.Len() == 0 {
				return i, fmt.Errorf("at byte %d: empty name", start)
			}
			return i + 2, nil
		case c < 0x20 || c == 0x7f:
			return i, fmt.Errorf("at byte %d: control character", i)
		}
		name.WriteByte(c)
		i++
	}
}

// lookup walks the path through the JSON object payload and returns the
// value found, or false when a name is missing or a value on the way is not
// an object. It does not allocate.
func (p *ClaimPath) lookup(payload []byte) ([]byte, bool) {
	v := payload
	for _, name := range p.names {
		var ok bool
		if v, ok = member(v, name); !ok {
			return nil, false
		}
	}
	return v, true
}

// String returns the path as configured.
func (p *ClaimPath) String() string { return p.text }
