module github.com/jwtgate/jwtgate

go 1.26

require (
	github.com/cespare/xxhash/v2 v2.3.0
	github.com/goccy/go-json v0.10.5
)
