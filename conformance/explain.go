package conformance

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/internal/excerpt"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// Explain renders a result for people: the rule, what was expected, and
// what came back (h2spec's Expected/Actual, with the wire exchanges).
func (r *Result) Explain() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s — %s [%s, %s]\n", r.ID, r.Title, r.Verdict, r.Level, r.Profile)
	fmt.Fprintf(&b, "  Rule:     %s\n", r.Rule)
	fmt.Fprintf(&b, "  Recipe:   %s\n", r.Recipe)
	fmt.Fprintf(&b, "  Expected: %s\n", joinOutcomes(r.Expected))
	if r.Reason != "" {
		fmt.Fprintf(&b, "  Reason:   %s\n", r.Reason)
	}
	if r.Observed == nil {
		return b.String()
	}
	o := r.Observed
	if o.Omitted > 0 {
		fmt.Fprintf(&b, "  (%d exchanges not kept: the first %d and the latest are)\n", o.Omitted, kit.MaxExchanges/4)
	}
	for i, x := range o.Exchanges {
		if len(o.Exchanges) > 6 && i >= 3 && i < len(o.Exchanges)-3 {
			if i == 3 {
				fmt.Fprintf(&b, "  … %d more exchanges …\n", len(o.Exchanges)-6)
			}
			continue
		}
		fmt.Fprintf(&b, "  Actual:   [%s] %s %s -> %s\n", x.Step, x.Method, excerpt.String(x.URL, 100), x.Brief())
		if x.Body != "" {
			fmt.Fprintf(&b, "            body: %s\n", excerpt.String(strings.ReplaceAll(x.Body, "\n", " "), 200))
		}
	}
	keys := make([]string, 0, len(o.Facts))
	for k := range o.Facts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "  Fact:     %s = %s\n", k, o.Facts[k])
	}
	for _, role := range []string{"access", "id", "service"} {
		if t, ok := o.Tokens[role]; ok {
			fmt.Fprintf(&b, "  Token %-7s %s\n", role+":", DecodeForHumans(t))
		}
	}
	return b.String()
}

// Claims decodes the payload of a compact JWS (its second segment,
// base64url with or without padding) as a JSON object, verifying nothing
// (tokenfactory.Inspect).
func Claims(tok string) (map[string]any, error) { return tokenfactory.Inspect(tok).Claims() }

// DecodeForHumans shows a token's header and payload (as far as they decode) on one line.
func DecodeForHumans(tok string) string {
	in := tokenfactory.Inspect(tok)
	var out []string
	for _, p := range []tokenfactory.Part{in.Header, in.Payload} {
		switch {
		case !p.Present():
		case p.Err != nil:
			out = append(out, "<not base64url>")
		default:
			out = append(out, excerpt.String(string(p.Bytes), 300))
		}
	}
	return fmt.Sprintf("%d segments, %d bytes: %s", in.Segments, len(tok), strings.Join(out, " . "))
}
