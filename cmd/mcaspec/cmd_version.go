package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/internal/buildinfo"
)

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", `Prints which mcaspec this is: the version (a release's tag, or (devel) for a build
from a work tree), the commit it was built from, the Go that built it, and the digest of
its case catalogue (the "catalogue" every results file records).`, stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	in := buildinfo.Read()
	cat := conformance.CatalogueDigest(conformance.Catalogue())
	if *asJSON {
		b, err := json.MarshalIndent(struct {
			buildinfo.Info
			Catalogue string `json:"catalogue"`
			Cases     int    `json:"cases"`
		}{in, cat, len(conformance.Catalogue())}, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	fmt.Fprintf(stdout, "%s\n", in)
	if in.GoVersion != "" {
		fmt.Fprintf(stdout, "go:        %s\n", in.GoVersion)
	}
	_, err := fmt.Fprintf(stdout, "catalogue: %s (%d cases)\n", cat, len(conformance.Catalogue()))
	return err
}

func runHelp(_ context.Context, args []string, stdout, _ io.Writer) error {
	if len(args) > 0 {
		if c, ok := lookup(args[0]); ok && c.name != "help" {
			return c.run(context.Background(), []string{"--help"}, stdout, stdout)
		}
		return fmt.Errorf("%w: no command %q (mcaspec help lists them)", errUsage, args[0])
	}
	usage(stdout)
	return nil
}
