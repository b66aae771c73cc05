package main

import (
	"fmt"
	"strconv"
	"strings"
)

// Token classes of `jwtgate bench http`, in the order they are reported.
const (
	classValid      = "valid"
	classInvalid    = "invalid"     // valid token with a corrupted signature
	classUnknownKid = "unknown_kid" // signed by a key the server does not know
	classExpired    = "expired"     // correctly signed, expired an hour ago
)

var benchClasses = []string{classValid, classInvalid, classUnknownKid, classExpired}

// defaultMix is the default --mix.
const defaultMix = "valid=90,invalid=5,unknown_kid=3,expired=2"

// mixWeight is one class's share of the requests.
type mixWeight struct {
	class  string
	weight int
}

// parseMix reads "valid=90,invalid=5,...": weights are non-negative
// integers, classes are those of benchClasses, each at most once; a class
// left out or weighted 0 is not sent. At least one weight must be positive.
func parseMix(spec string) ([]mixWeight, error) {
	seen := map[string]bool{}
	var mix []mixWeight
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not CLASS=WEIGHT", part)
		}
		name = strings.TrimSpace(name)
		known := false
		for _, c := range benchClasses {
			known = known || c == name
		}
		if !known {
			return nil, fmt.Errorf("unknown class %q; classes are %s", name, strings.Join(benchClasses, ", "))
		}
		if seen[name] {
			return nil, fmt.Errorf("class %q given twice", name)
		}
		seen[name] = true
		w, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil || w < 0 || w > 1000000 {
			return nil, fmt.Errorf("weight of %s must be an integer from 0 to 1000000, got %q", name, value)
		}
		if w > 0 {
			mix = append(mix, mixWeight{name, w})
		}
	}
	if len(mix) == 0 {
		return nil, fmt.Errorf("no class has a positive weight")
	}
	// Report in the canonical class order.
	ordered := make([]mixWeight, 0, len(mix))
	for _, c := range benchClasses {
		for _, m := range mix {
			if m.class == c {
				ordered = append(ordered, m)
			}
		}
	}
	return ordered, nil
}

// formatMix writes the mix back as a --mix value.
func formatMix(mix []mixWeight) string {
	parts := make([]string, len(mix))
	for i, m := range mix {
		parts[i] = fmt.Sprintf("%s=%d", m.class, m.weight)
	}
	return strings.Join(parts, ",")
}
