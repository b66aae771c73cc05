// Command caddy is Caddy v2 with its standard modules and jwtgate's
// http.handlers.jwtgate: the program xcaddy generates for
// "xcaddy build --with github.com/jwtgate/jwtgate/caddy".
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/jwtgate/jwtgate/caddy"
)

func main() {
	caddycmd.Main()
}
