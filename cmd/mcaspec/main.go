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
	"regexp"
	"strings"
	"syscall"

	"golang.org/x/term"

	"github.com/mcaspec/mcaspec/internal/fileio"
)

// command is one subcommand. Each lives in a file of its own
// (cmd_<name>.go); the table below lists them all.
type command struct {
	name    string
	summary string
	// run parses args (without the subcommand name) and does the work.
	// It returns errUsage (wrapped) for bad flags, so main exits 2.
	run func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commandTable lists the subcommands, in the order usage shows them.
func commandTable() []command {
	return []command{
		{name: "run", summary: "the main job: whole suite + short benchmark against the built-in reference target", run: runMainJob},
		{name: "conformance", summary: "run the conformance catalogue against a target and write verdicts", run: runConformanceCmd},
		{name: "bench", summary: "load benchmarks: every answer checked, targets side by side, ratios to a no-validation baseline", run: runBench},
		{name: "report", summary: "render results files as HTML (one run or a comparison) and JUnit XML", run: runReport},
		{name: "fakeaz", summary: "run the fake MCA authorization server (with its admin API)", run: runFakeAZ},
		{name: "idp", summary: "run an identity-provider simulator (custom, facebook, google)", run: runIDP},
		{name: "device", summary: "simulate an iOS/Android MCA client: register, log in, call a resource (or a fleet of them)", run: runDevice},
		{name: "token", summary: "mint valid or deliberately broken MCA tokens", run: runToken},
		{name: "reference", summary: "run the reference target (the reference validator behind the target contract)", run: runReference},
		{name: "reference-web", summary: "run the reference web RP (authorization-code sign-in behind the web target contract)", run: runReferenceWeb},
		{name: "version", summary: "print mcaspec's version, commit and catalogue digest (also: mcaspec --version)", run: runVersion},
		{name: "help", summary: "list the commands (mcaspec <command> --help: a command's flags)", run: runHelp},
	}
}

func lookup(name string) (command, bool) {
	for _, c := range commandTable() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
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
	} else if len(args) > 0 {
		switch args[0] {
		case "-h", "--help", "-help":
			usage(stdout)
			return 0
		case "--version", "-version":
			name, args = "version", args[1:]
		}
	}
	c, ok := lookup(name)
	if !ok {
		fmt.Fprintf(stderr, "mcaspec: unknown command %q\n\n", name)
		usage(stderr)
		return 2
	}
	err := c.run(ctx, args, stdout, stderr)
	var pc *printedConfig
	switch {
	case err == nil:
		return 0
	case errors.As(err, &pc):
		if _, werr := stdout.Write(pc.yaml); werr != nil {
			return 1
		}
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "mcaspec %s: %s\n", name, plain(stderr, err.Error()))
		return 2
	case errors.Is(err, syscall.EADDRINUSE):
		// the same exit code in every command: the user picked the address
		fmt.Fprintf(stderr, "mcaspec %s: %s (pick another port, or 0 for a free one)\n", name, plain(stderr, err.Error()))
		return 2
	case errors.Is(err, fileio.ErrTooLarge):
		fmt.Fprintf(stderr, "mcaspec %s: %s\n", name, plain(stderr, err.Error()))
		return 2
	default:
		fmt.Fprintf(stderr, "mcaspec %s: %s\n", name, plain(stderr, err.Error()))
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
	for _, c := range commandTable() {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'mcaspec <command> --help' for a command's flags. conformance and bench also read\n")
	fmt.Fprintf(w, "a run file (--config FILE) and MCASPEC_* environment variables (docs/examples/README.md).\n")
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
	if runFileCommands[name] {
		addRunFileFlags(fs)
	}
	return fs
}

// listFlag is a repeatable string flag (its values space-separated when
// printed, as --print-config does).
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// parseFlags parses args, turning parse errors into errUsage and rejecting
// stray positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q (see --help)", errUsage, fs.Arg(0))
	}
	// Run files are for the commands that declared both flags (fakeaz's
	// own --config is its JSON app list, not a run file).
	if fs.Lookup(configFlag) == nil || fs.Lookup(printConfigFlag) == nil {
		return nil
	}
	if err := applyRunFile(fs); err != nil {
		return err
	}
	if fs.Lookup(printConfigFlag).Value.String() == "true" {
		y, err := effectiveConfig(fs)
		if err != nil {
			return err
		}
		return &printedConfig{yaml: y}
	}
	return nil
}

// ansi matches terminal colour and style sequences (Ginkgo's parse errors
// carry them).
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

// plain drops colour codes from msg unless w is a terminal: logs, pipes and
// CI get plain text.
func plain(w io.Writer, msg string) string {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return msg
	}
	return ansi.ReplaceAllString(msg, "")
}
