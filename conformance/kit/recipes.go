package kit

import (
	"context"
	"fmt"
	"strings"

	"github.com/mcaspec/mcaspec/tokenfactory"
)

// Recipe makes the requests of a case.
type Recipe interface {
	// Describe says in words how the request is made (printed in docs and reports).
	Describe() string
	// Execute runs the case's requests and returns what it saw. A
	// *SkipError skips the case; any other error is a harness fault and
	// makes the case ERROR (wrap ErrSetup). What the target did wrong,
	// including refusing a valid token during set-up, is recorded in the
	// observation (Failf) instead, so it stays a FAIL.
	Execute(ctx context.Context, e *Env) error
}

// Tokens is the common recipe: mint a pair for a fresh app, break it with
// mutations, send it to the protected route.
type Tokens struct {
	// Access and ID are applied to the access and the id token.
	Access, ID []tokenfactory.Mutation
	// NoID sends the access token alone.
	NoID bool
	// Format builds the Authorization header value(s) from the tokens;
	// default "Bearer <access> <id>".
	Format func(access, id string) []string
	// FormatDoc describes Format.
	FormatDoc string
	// Query is appended to the protected URL (e.g. "?access_token=...").
	Query func(access string) string
}

// Describe implements Recipe.
func (t Tokens) Describe() string {
	var b strings.Builder
	b.WriteString("access token")
	writeMuts(&b, t.Access)
	if t.NoID {
		b.WriteString("; no id token")
	} else {
		b.WriteString("; id token")
		writeMuts(&b, t.ID)
	}
	switch {
	case t.FormatDoc != "":
		b.WriteString("; header: " + t.FormatDoc)
	case t.NoID:
		b.WriteString("; header: Bearer <access>")
	default:
		b.WriteString("; header: Bearer <access> <id>")
	}
	return b.String()
}

func writeMuts(b *strings.Builder, ms []tokenfactory.Mutation) {
	if len(ms) == 0 {
		b.WriteString(" (valid)")
		return
	}
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	fmt.Fprintf(b, " mutated by %s", strings.Join(names, " + "))
}

// Execute implements Recipe.
func (t Tokens) Execute(ctx context.Context, e *Env) error {
	app, err := e.NewApp(ctx)
	if err != nil {
		return err
	}
	p, err := app.Mint(!t.NoID, bindAttacker(t.Access, e), bindAttacker(t.ID, e))
	if err != nil {
		return err
	}
	e.Observation().pair(p)
	vals := []string{p.Header()}
	if t.Format != nil {
		vals = t.Format(p.Access, p.ID)
	}
	path := "/v1/apps/" + app.ID + "/protected"
	if t.Query != nil {
		path += t.Query(p.Access)
	}
	h := make(map[string][]string)
	if len(vals) > 0 {
		h["Authorization"] = vals
	}
	e.Get(ctx, "request", path, h)
	return nil
}

// Procedure is a recipe written as code, for cases with several steps
// (caching, key rotation, AZ outages, propagation).
type Procedure struct {
	Doc string
	Fn  func(ctx context.Context, e *Env) error
}

// Describe implements Recipe.
func (p Procedure) Describe() string { return p.Doc }

// Execute implements Recipe.
func (p Procedure) Execute(ctx context.Context, e *Env) error { return p.Fn(ctx, e) }
