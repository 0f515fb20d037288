// Command mcaspec certifies, regression-tests and load-tests services that
// validate Mobile Client Access (MCA) bearer tokens.
//
// It is a thin front end: every subcommand maps its flags onto the config of
// a library package (tokenfactory, reference, fakeaz, fakedevice, ...).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand. Each lives in a file of its own (cmd_<name>.go)
// and registers itself from init.
type command struct {
	name    string
	summary string
	// run parses args (without the subcommand name) and does the work.
	// It returns errUsage (wrapped) for bad flags, so main exits 2.
	run func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("mcaspec: duplicate subcommand " + c.name)
	}
	commands[c.name] = c
}

// errUsage marks errors caused by bad command-line input (exit code 2).
var errUsage = errors.New("usage error")

// defaultCommand runs when mcaspec is called with no subcommand.
const defaultCommand = "run"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	name := defaultCommand
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	} else if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		usage(stdout)
		return 0
	}
	if name == "help" {
		usage(stdout)
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "mcaspec: unknown command %q\n\n", name)
		usage(stderr)
		return 2
	}
	err := c.run(ctx, args, stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "mcaspec %s: %v\n", name, err)
		return 2
	default:
		fmt.Fprintf(stderr, "mcaspec %s: %v\n", name, err)
		var ec interface{ ExitCode() int }
		if errors.As(err, &ec) {
			return ec.ExitCode()
		}
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "mcaspec: conformance, regression and load testing for MCA bearer-token validators.\n\n")
	fmt.Fprintf(w, "Usage: mcaspec [command] [flags]   (no command: %q, the main job)\n\nCommands:\n", defaultCommand)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nRun 'mcaspec <command> --help' for a command's flags.\n")
}

// newFlagSet returns a FlagSet that reports errors instead of exiting and
// prints its usage to stderr with a one-line description.
func newFlagSet(name, desc string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("mcaspec "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: mcaspec %s [flags]\n\n%s\n\nFlags:\n", name, desc)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, turning parse errors into errUsage and rejecting
// stray positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q (see --help)", errUsage, fs.Arg(0))
	}
	return nil
}
