package config_test

import (
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/server/config"
)

// TestYAMLErrorsNameTheFix checks the messages a new user meets when the
// YAML is wrong: the setting's YAML path and line and the type it takes
// (never a Go struct field), and a tab in the indentation called a tab.
func TestYAMLErrorsNameTheFix(t *testing.T) {
	cases := []struct {
		name, src string
		line      int
		contains  string
	}{
		{"quoted boolean", minimal + "    require_kid: \"true\"\n", 6,
			`issuers[0].require_kid: must be a boolean (true or false), not "true" (a quoted string): remove the quotes`},
		{"word for a boolean", minimal + "    require_kid: yes please\n", 6, "issuers[0].require_kid: must be a boolean (true or false)"},
		{"word for a number", minimal + "limits:\n  max_token_bytes: lots\n", 7, `limits.max_token_bytes: must be a number, not the string "lots"`},
		{"list for a string", minimal + "listen: [a, b]\n", 6, "listen: must be a string, not a list"},
		{"string for a list", "issuers:\n  - issuer: https://i\n    jwks_url: https://i/j\n    audiences: api\n", 4, "issuers[0].audiences: must be a list"},
		{"tab indent", "issuers:\n\t- issuer: https://i\n", 2, "a tab in the indentation"},
		{"tab deeper", "issuers:\n  - issuer: https://i\n  \taudiences: [a]\n", 3, "replace the tab with spaces"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			problem(t, c.src, c.line, c.contains)
			_, err := parseErr(c.src)
			if strings.Contains(err, "Go struct") || strings.Contains(err, "Config.") {
				t.Errorf("error names Go types: %s", err)
			}
		})
	}
}

func parseErr(src string) (bool, string) {
	_, err := config.Parse([]byte(src))
	if err == nil {
		return false, ""
	}
	return true, err.Error()
}
