package main

import (
	"strings"
)

// didYouMean returns "; did you mean PREFIX+x?" naming the candidate closest
// to name (leading dashes ignored), or "" when none is close: a candidate is
// close when at most a third of the letters differ (edit distance, at least
// one) or when one of the two begins with the other.
func didYouMean(name string, candidates []string, prefix string) string {
	name = strings.ToLower(strings.TrimLeft(name, "-"))
	if name == "" {
		return ""
	}
	best, bestDist := "", max(1, len(name)/3)+1
	for _, c := range candidates {
		d := editDistance(name, strings.ToLower(c))
		if len(name) >= 3 && (strings.HasPrefix(c, name) || strings.HasPrefix(name, c)) {
			d = min(d, 1)
		}
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return "; did you mean " + prefix + best + "?"
}

// editDistance is the edit distance between a and b in bytes, counting an
// insertion, a deletion, a substitution or a swap of two neighbours as one
// edit (optimal string alignment).
func editDistance(a, b string) int {
	rows := make([][]int, len(a)+1)
	for i := range rows {
		rows[i] = make([]int, len(b)+1)
		rows[i][0] = i
	}
	for j := range rows[0] {
		rows[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := min(rows[i-1][j]+1, rows[i][j-1]+1, rows[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d = min(d, rows[i-2][j-2]+1)
			}
			rows[i][j] = d
		}
	}
	return rows[len(a)][len(b)]
}
