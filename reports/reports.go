// Package reports renders conformance results (conformance.RunReport) and the
// conformance catalogue for people and for CI: JUnit XML for CI test
// dashboards, a self-contained HTML page for one run or a side-by-side
// comparison of several runs (targets × cases, Autobahn style), and the case
// catalogue as Markdown and JSON documentation.
//
// Every writer is deterministic: the same input gives the same bytes (no
// clock is read, maps are walked in sorted order), so outputs can be checked
// in as golden files. Everything that came from a target or a token is
// attacker-controlled text; the HTML is built with html/template and the XML
// with encoding/xml, so all of it is escaped.
package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/internal/excerpt"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// Limits on how much attacker-controlled text a report shows.
const (
	// maxTokenDisplay is the longest token (or decoded token part) shown in full.
	maxTokenDisplay = 16 << 10
	// shortTokenAbove is the length above which a token in a table is shortened.
	shortTokenAbove = 48
)

// verdictOrder is the order verdicts are counted and shown in.
var verdictOrder = conformance.Verdicts()

// verdictClass is the CSS class of a verdict.
func verdictClass(v conformance.Verdict) string {
	switch v {
	case conformance.Pass:
		return "pass"
	case conformance.Fail:
		return "fail"
	case conformance.NonStrict:
		return "nonstrict"
	case conformance.Informational:
		return "info"
	case conformance.Skipped:
		return "skipped"
	case conformance.Errored:
		return "error"
	}
	return "unknown"
}

// areaGroup is the results of one area, in run order.
type areaGroup struct {
	Area    conformance.Area
	Results []*conformance.Result
}

// groupByArea groups results by area: known areas in conformance.Areas()
// order, then unknown areas in order of first appearance.
func groupByArea(rs []conformance.Result) []areaGroup {
	idx := map[string]int{}
	var groups []areaGroup
	for _, a := range conformance.Areas() {
		idx[a.Key] = len(groups)
		groups = append(groups, areaGroup{Area: a})
	}
	for i := range rs {
		r := &rs[i]
		j, ok := idx[r.Area]
		if !ok {
			j = len(groups)
			idx[r.Area] = j
			groups = append(groups, areaGroup{Area: unknownArea(r.Area)})
		}
		groups[j].Results = append(groups[j].Results, r)
	}
	out := groups[:0]
	for _, g := range groups {
		if len(g.Results) > 0 {
			out = append(out, g)
		}
	}
	return out
}

func unknownArea(key string) conformance.Area {
	if key == "" {
		return conformance.Area{Key: "", Title: "(no area)"}
	}
	return conformance.Area{Key: key, Title: key}
}

// counts counts verdicts of rs.
func counts(rs []conformance.Result) map[conformance.Verdict]int {
	return conformance.Summarize(rs)
}

// fmtDuration prints a latency or case duration readably.
func fmtDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < 10*time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}

// seconds prints d in seconds for JUnit.
func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// joinOutcomes prints outcomes as "401i or 400".
func joinOutcomes(os []kit.Outcome) string {
	s := make([]string, len(os))
	for i, o := range os {
		s[i] = string(o)
	}
	return strings.Join(s, " or ")
}

// shortenWords shortens every whitespace-separated word longer than
// shortTokenAbove (tokens) to its head and tail, keeping the rest of s.
func shortenWords(s string) string {
	var b strings.Builder
	word := func(w string) {
		if utf8.RuneCountInString(w) <= shortTokenAbove {
			b.WriteString(w)
			return
		}
		r := []rune(w)
		fmt.Fprintf(&b, "%s…%s", string(r[:20]), string(r[len(r)-8:]))
	}
	start := -1
	for i, c := range s {
		if c == ' ' || c == '\t' {
			if start >= 0 {
				word(s[start:i])
				start = -1
			}
			b.WriteRune(c)
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		word(s[start:])
	}
	return b.String()
}

// clip cuts s to n bytes (on a rune boundary) and says how much was cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	head := excerpt.Prefix(s, n)
	return fmt.Sprintf("%s%s (%d more bytes)", head, excerpt.Ellipsis, len(s)-len(head))
}

// headerLine is one header field.
type headerLine struct {
	Name, Value, Short string
}

// headerLines flattens h in sorted name order.
func headerLines(h http.Header) []headerLine {
	var out []headerLine
	for _, k := range sortedKeys(h) {
		for _, v := range h[k] {
			out = append(out, headerLine{Name: k, Value: clip(v, maxTokenDisplay), Short: shortenWords(clip(v, maxTokenDisplay))})
		}
	}
	return out
}

// challenge returns the WWW-Authenticate values of h, whatever the case
// of the header name (results files may hold non-canonical keys).
func challenge(h http.Header) string {
	var vs []string
	for _, k := range sortedKeys(h) {
		if strings.EqualFold(k, "WWW-Authenticate") {
			vs = append(vs, h[k]...)
		}
	}
	return strings.Join(vs, ", ")
}

// responseLines are the response headers but WWW-Authenticate (shown on its own).
func responseLines(h http.Header) []headerLine {
	var out []headerLine
	for _, l := range headerLines(h) {
		if !strings.EqualFold(l.Name, "WWW-Authenticate") {
			out = append(out, l)
		}
	}
	return out
}

func sortedKeys(h http.Header) []string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// keyValue is one fact.
type keyValue struct{ Key, Value string }

func sortedKV(m map[string]string) []keyValue {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]keyValue, len(keys))
	for i, k := range keys {
		out[i] = keyValue{k, m[k]}
	}
	return out
}

// decodedToken is a token taken apart for display; whatever does not
// decode is said so, never an error.
type decodedToken struct {
	Role     string
	Raw      string // clipped
	Short    string
	Length   int
	Segments int
	// Header and Payload are pretty JSON, or the decoded text when not JSON.
	Header, Payload         string
	HeaderNote, PayloadNote string
	// Signature says how long the signature segment is.
	Signature string
	// Times are exp/iat/nbf of the payload as dates.
	Times []keyValue
}

// decodeToken decodes a compact JWS as far as it goes.
func decodeToken(role, tok string) decodedToken {
	d := decodedToken{Role: role, Raw: clip(tok, maxTokenDisplay), Short: shortenWords(tok), Length: len(tok)}
	if tok == "" {
		d.HeaderNote = "empty token"
		return d
	}
	in := tokenfactory.Inspect(tok)
	d.Segments = in.Segments
	if in.Segments < 2 {
		d.HeaderNote = "not a compact JWS (no '.')"
		return d
	}
	d.Header, d.HeaderNote = decodeSegment(in.Header)
	d.Payload, d.PayloadNote = decodeSegment(in.Payload)
	if sig := in.Signature; sig.Present() {
		switch {
		case sig.Raw == "":
			d.Signature = "empty"
		case sig.Err != nil:
			d.Signature = fmt.Sprintf("%d characters, not base64url: %v", len(sig.Raw), sig.Err)
		default:
			d.Signature = fmt.Sprintf("%d bytes", len(sig.Bytes))
		}
	}
	if in.Segments != 3 {
		d.Signature += fmt.Sprintf(" (%d segments, a JWS has 3)", in.Segments)
		d.Signature = strings.TrimSpace(d.Signature)
	}
	d.Times = claimTimes(in)
	return d
}

// decodeSegment returns the segment as pretty JSON, or as text with a note.
func decodeSegment(seg tokenfactory.Part) (text, note string) {
	if seg.Raw == "" {
		return "", "empty segment"
	}
	raw := seg.Bytes
	if seg.Err != nil {
		return clip(seg.Raw, maxTokenDisplay), "not base64url (" + seg.Err.Error() + "); shown as sent"
	}
	if json.Valid(raw) {
		if pretty, err := indentJSON(raw); err == nil {
			if !strings.HasPrefix(pretty, "{") {
				return clip(pretty, maxTokenDisplay), "JSON, but not an object"
			}
			return clip(pretty, maxTokenDisplay), ""
		}
	}
	if utf8.Valid(raw) {
		return clip(string(raw), maxTokenDisplay), "not JSON; decoded text shown"
	}
	return clip(fmt.Sprintf("%q", raw), maxTokenDisplay), "not JSON nor UTF-8; decoded bytes shown quoted"
}

func indentJSON(raw []byte) (string, error) {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// claimTimes shows numeric exp, iat and nbf of a token's payload as UTC dates.
func claimTimes(in tokenfactory.Inspection) []keyValue {
	m, err := in.Claims()
	if err != nil {
		return nil
	}
	var out []keyValue
	for _, k := range []string{"iat", "nbf", "exp"} {
		if f, ok := m[k].(float64); ok && f > 0 && f < 1e11 {
			out = append(out, keyValue{k, time.Unix(int64(f), 0).UTC().Format(time.RFC3339)})
		}
	}
	return out
}

// sortedTokens decodes the observation's tokens by role: access, id, then the rest sorted.
func sortedTokens(m map[string]string) []decodedToken {
	roles := make([]string, 0, len(m))
	for k := range m {
		roles = append(roles, k)
	}
	rank := func(r string) int {
		switch r {
		case "access":
			return 0
		case "id":
			return 1
		}
		return 2
	}
	sort.Slice(roles, func(i, j int) bool {
		if rank(roles[i]) != rank(roles[j]) {
			return rank(roles[i]) < rank(roles[j])
		}
		return roles[i] < roles[j]
	})
	out := make([]decodedToken, len(roles))
	for i, r := range roles {
		out[i] = decodeToken(r, m[r])
	}
	return out
}

// judgedIndex is the index of the exchange the outcome was judged on, or -1.
func judgedIndex(o *kit.Observation) int {
	if o == nil || len(o.Exchanges) == 0 {
		return -1
	}
	if o.JudgedIndex != nil && *o.JudgedIndex >= 0 && *o.JudgedIndex < len(o.Exchanges) {
		return *o.JudgedIndex
	}
	return len(o.Exchanges) - 1
}

// evidenceText is the plain-text evidence of a result: the rule, what was
// expected and everything that came back. JUnit bodies use it.
func evidenceText(r *conformance.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s\n", r.ID, r.Title, r.Verdict)
	if r.Reason != "" {
		fmt.Fprintf(&b, "Reason:   %s\n", r.Reason)
	}
	fmt.Fprintf(&b, "Rule:     %s\n", r.Rule)
	fmt.Fprintf(&b, "Level:    %s (profile %s)\n", r.Level, r.Profile)
	fmt.Fprintf(&b, "Expected: %s\n", joinOutcomes(r.Expected))
	if r.Recipe != "" {
		fmt.Fprintf(&b, "Recipe:   %s\n", r.Recipe)
	}
	for _, ref := range r.Refs {
		fmt.Fprintf(&b, "Ref:      %s\n", ref)
	}
	o := r.Observed
	if o == nil {
		return b.String()
	}
	j := judgedIndex(o)
	if o.Omitted > 0 {
		fmt.Fprintf(&b, "(%d exchanges not kept: the first %d and the latest are)\n", o.Omitted, kit.MaxExchanges/4)
	}
	for i := range o.Exchanges {
		x := &o.Exchanges[i]
		mark := ""
		if i == j {
			mark = " (judged)"
		}
		fmt.Fprintf(&b, "Exchange %d%s: %s: %s %s\n", i+1, mark, x.Step, x.Method, x.URL)
		for _, h := range headerLines(x.RequestHeader) {
			fmt.Fprintf(&b, "  > %s: %s\n", h.Name, h.Short)
		}
		if x.Error != "" {
			fmt.Fprintf(&b, "  error: %s (after %s)\n", x.Error, fmtDuration(x.Latency))
			continue
		}
		fmt.Fprintf(&b, "  < status %d in %s\n", x.Status, fmtDuration(x.Latency))
		for _, h := range headerLines(x.Header) {
			fmt.Fprintf(&b, "  < %s: %s\n", h.Name, h.Value)
		}
		if x.Body != "" {
			fmt.Fprintf(&b, "  < body: %s\n", x.Body)
		}
	}
	for _, f := range o.Failures {
		fmt.Fprintf(&b, "Check failed: %s\n", f)
	}
	for _, kv := range sortedKV(o.Facts) {
		fmt.Fprintf(&b, "Fact:     %s = %s\n", kv.Key, kv.Value)
	}
	for _, d := range o.Downstream {
		fmt.Fprintf(&b, "Downstream: %s %s\n", d.Method, d.Path)
	}
	return b.String()
}

func marshalIndent(v any) (string, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	return string(b), err
}
