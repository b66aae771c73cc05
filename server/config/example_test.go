package config_test

import (
	"fmt"

	"github.com/jwtgate/jwtgate/server/config"
)

// Problems name their line; every problem is reported.
func ExampleParse() {
	_, err := config.Parse([]byte(`
issuers:
  - issuer: https://login.example.com/
    jwks_url: https://login.example.com/jwks.json
    audeince: [api]
`))
	fmt.Println(err)

	_, err = config.Parse([]byte(`
issuers:
  - issuer: https://login.example.com/
    jwks_url: https://login.example.com/jwks.json
log:
  level: loud
`))
	fmt.Println(err)
	// Output:
	// line 5: issuers[0].audeince: unknown field "audeince"
	// line 3: issuers[0].audiences: is required: the audiences this issuer's tokens must be meant for (set any_audience: true to skip the audience check explicitly)
	// line 6: log.level: must be debug, info, warn or error, not "loud"
}

// Command-line settings override the file for a single issuer.
func ExampleConfig_Apply() {
	cfg, err := config.Decode([]byte("listen: 0.0.0.0:8080\n"))
	if err != nil {
		panic(err)
	}
	err = cfg.Apply(config.Overrides{
		JWKSURL:   "https://login.example.com/jwks.json",
		Issuer:    "https://login.example.com/",
		Audiences: []string{"api://orders"},
	})
	if err == nil {
		err = cfg.Validate()
	}
	fmt.Println(err, cfg.Listen, cfg.Issuers[0].JWKSURL, cfg.Limits.MaxTokenBytes)
	// Output: <nil> 0.0.0.0:8080 https://login.example.com/jwks.json 16384
}
