package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// Exit codes shared by every command.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and found a problem (e.g. an invalid token)
	exitUsage   = 2 // bad flags, arguments or configuration
)

// cliFlags is a command's flag set with the help text jwtgate prints for it.
type cliFlags struct {
	*flag.FlagSet
	name   string // "verify", "keys generate", ...
	synops string // the usage line after "jwtgate NAME"
	about  string // paragraphs after the flags
	stderr io.Writer
}

// newFlags returns a flag set for the command name. Errors go to stderr;
// --help goes to stdout.
func newFlags(name, synopsis, about string, stderr io.Writer) *cliFlags {
	fs := flag.NewFlagSet("jwtgate "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse prints the error itself, in the -- spelling
	fs.Usage = func() {}
	return &cliFlags{FlagSet: fs, name: name, synops: synopsis, about: about, stderr: stderr}
}

// printHelp writes the command's usage, flags and notes to w.
func (f *cliFlags) printHelp(w io.Writer) {
	fmt.Fprintf(w, "Usage: jwtgate %s %s\n\n", f.name, f.synops)
	if f.about != "" {
		fmt.Fprintln(w, strings.TrimSpace(f.about))
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "Flags:")
	f.VisitAll(func(fl *flag.Flag) {
		typ, usage := flag.UnquoteUsage(fl)
		line := "  --" + fl.Name
		if typ != "" {
			line += " " + typ
		}
		switch fl.DefValue {
		case "", "false", "0", "0s", "[]":
		default:
			usage += " (default " + fl.DefValue + ")"
		}
		fmt.Fprintf(w, "%s\n    \t%s\n", line, strings.ReplaceAll(usage, "\n", "\n    \t"))
	})
}

// flagError rewrites an error of the flag package to name the flag the way
// jwtgate documents it ("--concurrency", not "-concurrency").
func flagError(err error) string {
	msg := err.Error()
	for _, from := range []string{"defined: -", "argument: -", "for flag -", "for -", "syntax: -"} {
		if i := strings.Index(msg, from); i >= 0 {
			j := i + len(from) - 1
			if !strings.HasPrefix(msg[j:], "--") {
				return msg[:j] + "-" + msg[j:]
			}
			return msg
		}
	}
	return msg
}

// parse parses args, allowing flags after positional arguments ("verify
// TOKEN --jwks f"); "--" ends the flags. It returns the positional arguments
// and, when the command must stop, its exit code: exitOK after --help,
// exitUsage after an error (already printed, naming the flag).
func (f *cliFlags) parse(args []string, stdout io.Writer) (positional []string, code int, stop bool) {
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.printHelp(stdout)
				return nil, exitOK, true
			}
			fmt.Fprintf(f.stderr, "jwtgate %s: %s%s\n", f.name, flagError(err), f.hint(err))
			fmt.Fprintf(f.stderr, "Run 'jwtgate %s --help' for usage.\n", f.name)
			return nil, exitUsage, true
		}
		rest := f.Args()
		if len(rest) == 0 {
			return positional, exitOK, false
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), exitOK, false
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// hint returns what to add to a flag parse error so that it names the fix:
// the closest flag to an unknown one, or the units of a duration.
func (f *cliFlags) hint(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		var names []string
		f.VisitAll(func(fl *flag.Flag) { names = append(names, fl.Name) })
		return didYouMean(name, names, "--")
	}
	// invalid value "1d" for flag -exp: parse error
	if _, rest, ok := strings.Cut(msg, " for flag -"); ok {
		name, _, _ := strings.Cut(strings.TrimLeft(rest, "-"), ":")
		if fl := f.Lookup(name); fl != nil {
			if g, ok := fl.Value.(flag.Getter); ok {
				if _, isDuration := g.Get().(time.Duration); isDuration {
					return durationHint
				}
			}
		}
	}
	return ""
}

// durationHint is what a bad duration flag is told.
const durationHint = ` (a duration is a number with a unit: ns, us, ms, s, m or h, e.g. 90s, 15m or 24h for a day; "d" is not a unit)`

// usageErr prints a usage error for the command and returns exitUsage.
func (f *cliFlags) usageErr(format string, args ...any) int {
	fmt.Fprintf(f.stderr, "jwtgate %s: %s\n", f.name, fmt.Sprintf(format, args...))
	fmt.Fprintf(f.stderr, "Run 'jwtgate %s --help' for usage.\n", f.name)
	return exitUsage
}

// setFlags returns the names of the flags given on the command line.
func (f *cliFlags) setFlags() map[string]bool {
	set := map[string]bool{}
	f.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	return set
}
