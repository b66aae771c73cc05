package main

import (
	"fmt"
	"io"
)

func init() {
	register(command{
		name:    "keys",
		summary: "generate keys and JWKS, sign test tokens",
		run:     runKeys,
	})
}

// keysSubcommands are the subcommands of "jwtgate keys".
var keysSubcommands = map[string]command{
	"generate": {name: "generate", summary: "generate a private JWK and its public JWKS", run: runKeysGenerate},
	"sign":     {name: "sign", summary: "sign a token with a private JWK", run: runKeysSign},
}

func runKeys(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		keysUsage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		keysUsage(stdout)
		return exitOK
	}
	sub, ok := keysSubcommands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "jwtgate keys: unknown subcommand %q%s\n\n", args[0], didYouMean(args[0], commandNames(keysSubcommands), ""))
		keysUsage(stderr)
		return exitUsage
	}
	return sub.run(args[1:], stdout, stderr)
}

func keysUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: jwtgate keys SUBCOMMAND [flags]")
	fmt.Fprintln(w)
	listCommands(w, "Subcommands:", keysSubcommands)
	fmt.Fprintln(w, "Run 'jwtgate keys SUBCOMMAND --help' for its flags.")
}
