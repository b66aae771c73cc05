package engine_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/engine"
)

// TestVerifySplitDots checks that Verify and VerifySignature answer "three
// segments" for every token whose dots are not exactly two, wherever the
// extra or missing dots are: verify scans only the first and the signature
// for dots and leaves the payload's to its strict decoding, so a dot added
// at any position, one put in place of any byte, one removed, and tokens
// of one, three and four dots with empty segments are all tried.
func TestVerifySplitDots(t *testing.T) {
	f := newFixture(t, engine.HS256, nil)
	tok := f.token(t, accessClaims())
	var res engine.Token
	if err := f.v.VerifyString(tok, &res); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	p, s := parts[1], parts[2]
	var bad []string
	for i := 0; i <= len(tok); i++ {
		bad = append(bad, tok[:i]+"."+tok[i:])
		if i < len(tok) && tok[i] != '.' {
			bad = append(bad, tok[:i]+"."+tok[i+1:])
		}
		if i < len(tok) && tok[i] == '.' {
			bad = append(bad, tok[:i]+tok[i+1:])
		}
	}
	hdr := tok[:strings.IndexByte(tok, '.')]
	bad = append(bad, ".", "..", "...", "....", hdr, hdr+".", hdr+"."+p, "."+p+".",
		tok+".", tok+"..", "."+tok, hdr+".."+p+"."+s, hdr+"."+p+".."+s, hdr+"."+p+"."+s+".x", hdr+"."+p+"."+s[:8]+"."+s[8:])
	for _, b := range bad {
		for name, verify := range map[string]func(string, *engine.Token) error{
			"Verify":          f.v.VerifyString,
			"VerifySignature": func(s string, t *engine.Token) error { return f.v.VerifySignature([]byte(s), t) },
		} {
			err := verify(b, &res)
			if strings.Count(b, ".") == 2 && b != tok {
				if err == nil {
					t.Errorf("%s(%q) accepted a changed token", name, b)
				}
				continue
			}
			if !errors.Is(err, engine.ErrMalformed) || !strings.Contains(err.Error(), "exactly three dot-separated segments") {
				t.Errorf("%s(%q) = %v, want the three-segments error", name, b, err)
			}
		}
	}
}
