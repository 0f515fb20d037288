package reports

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reports/ -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs at line %d:\n got: %.300s\nwant: %.300s\n(run go test ./reports/ -update if the change is intended)", name, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s differs in length: %d lines, want %d (run go test ./reports/ -update if intended)", name, len(gl), len(wl))
	}
}

// docCases is a small hand-made catalogue for the docs goldens.
func docCases() []conformance.Case {
	return []conformance.Case{
		{ID: "SIG-001", Area: "signature", Title: `alg "none"`, Rule: "A token with alg none MUST be refused.",
			Refs:   []string{"RFC 8725 §2.1"},
			Expect: map[conformance.Profile]conformance.Expect{conformance.MCA: {Level: conformance.Must, Outcomes: []kit.Outcome{kit.InvalidToken}}, conformance.Strict: {Level: conformance.Must, Outcomes: []kit.Outcome{kit.InvalidToken}}},
			Recipe: kit.Tokens{Access: []tokenfactory.Mutation{tokenfactory.AlgNone("none", false)}}},
		{ID: "HDR-001", Area: "header", Title: "Basic scheme | not Bearer", Rule: "It SHOULD get a bare challenge; the seed answers 400.",
			Refs:   []string{"seed README", "RFC 6750 §3.1"},
			Expect: map[conformance.Profile]conformance.Expect{conformance.MCA: {Level: conformance.Should, Outcomes: []kit.Outcome{kit.BadRequest}}, conformance.Strict: {Level: conformance.Should, Outcomes: []kit.Outcome{kit.BareChallenge}}},
			Recipe: kit.Tokens{NoID: true, Format: func(a, _ string) []string { return []string{"Basic " + a} }, FormatDoc: "Basic <access>"}},
		{ID: "KEY-004", Area: "keys", Title: "Key rotation", Rule: "After a rotation the new key MUST be fetched.",
			Refs: []string{"fakeaz/README.md §AZ endpoints"}, Needs: []conformance.Need{conformance.NeedAZControl, conformance.NeedFreshApp},
			Families: []kit.Family{kit.FamilyMCA, kit.FamilyAppID},
			Expect:   map[conformance.Profile]conformance.Expect{conformance.MCA: {Level: conformance.Must, Outcomes: []kit.Outcome{kit.Accepted}}, conformance.Strict: {Level: conformance.Must, Outcomes: []kit.Outcome{kit.Accepted}}},
			Recipe:   kit.Procedure{Doc: "rotate the AZ key; send a pair signed by the new key"}},
		{ID: "HDR-002", Area: "header", Title: "Spacing", Rule: "Parts separated by tabs MUST be accepted; informational in strict.",
			Refs:   []string{"seed README"},
			Expect: map[conformance.Profile]conformance.Expect{conformance.MCA: {Level: conformance.Must, Outcomes: []kit.Outcome{kit.Accepted}}, conformance.Strict: {Level: conformance.Info, Outcomes: []kit.Outcome{kit.Observed}}},
			Recipe: kit.Tokens{FormatDoc: "Bearer<TAB><access><TAB><id>"}},
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	ref, npm, strict := fx.fixtureReport("reference"), fx.fixtureReport("npm"), fx.fixtureReport("strict")
	tests := []struct {
		name  string
		write func(w io.Writer) error
	}{
		{"reference.json", ref.WriteJSON},
		{"npm.json", npm.WriteJSON},
		{"strict.json", strict.WriteJSON},
		{"npm.junit.xml", func(w io.Writer) error { return WriteJUnit(w, npm, JUnitOptions{}) }},
		{"npm-nonstrict.junit.xml", func(w io.Writer) error { return WriteJUnit(w, npm, JUnitOptions{FailOnNonStrict: true}) }},
		{"npm.html", func(w io.Writer) error { return WriteHTML(w, npm) }},
		{"compare.html", func(w io.Writer) error { return WriteHTML(w, ref, npm, strict) }},
		{"cases.md", func(w io.Writer) error { return WriteCasesMarkdown(w, docCases()) }},
		{"cases.json", func(w io.Writer) error { return WriteCasesJSON(w, docCases()) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.write(&b); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.name, b.Bytes())
			// The same input gives the same bytes.
			var again bytes.Buffer
			if err := tt.write(&again); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.Bytes(), again.Bytes()) {
				t.Fatalf("%s: output is not deterministic", tt.name)
			}
		})
	}
}

// The parsed shapes of a JUnit file, as a CI reader sees them.
type (
	parsedJUnit struct {
		XMLName  xml.Name      `xml:"testsuites"`
		Tests    int           `xml:"tests,attr"`
		Failures int           `xml:"failures,attr"`
		Skipped  int           `xml:"skipped,attr"`
		Errors   int           `xml:"errors,attr"`
		Suites   []parsedSuite `xml:"testsuite"`
	}
	parsedSuite struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Errors   int    `xml:"errors,attr"`
		Time     string `xml:"time,attr"`
		Props    []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []parsedCase `xml:"testcase"`
	}
	parsedCase struct {
		Name      string `xml:"name,attr"`
		Classname string `xml:"classname,attr"`
		Time      string `xml:"time,attr"`
		Error     *struct {
			Message string `xml:"message,attr"`
			Type    string `xml:"type,attr"`
		} `xml:"error"`
		Failure *struct {
			Message string `xml:"message,attr"`
			Type    string `xml:"type,attr"`
			Body    string `xml:",chardata"`
		} `xml:"failure"`
		Skipped *struct {
			Message string `xml:"message,attr"`
		} `xml:"skipped"`
		SystemOut string `xml:"system-out"`
	}
)

func TestJUnitCounts(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	npm := fx.fixtureReport("npm")
	// Attacker-controlled bytes that are not valid in XML 1.0 must not break the file.
	hostile := npm.ByID()["HDR-004"]
	hostile.Observed.Exchanges[0].Body += "\x00\x1b[31m\xff\xfe ]]> </failure><x>"
	hostile.Reason += " \x00\xff\"<"
	tests := []struct {
		name                     string
		opts                     JUnitOptions
		tests, failures, skipped int
	}{
		{"default", JUnitOptions{}, 12, 3, 1},
		{"fail on non-strict", JUnitOptions{FailOnNonStrict: true}, 12, 4, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := WriteJUnit(&b, npm, tt.opts); err != nil {
				t.Fatal(err)
			}
			var got parsedJUnit
			if err := xml.Unmarshal(b.Bytes(), &got); err != nil {
				t.Fatalf("output does not parse as XML: %v", err)
			}
			// KEY-005 is a harness ERROR: an <error>, never a <failure>.
			if got.Tests != tt.tests || got.Failures != tt.failures || got.Skipped != tt.skipped || got.Errors != 1 {
				t.Fatalf("totals tests=%d failures=%d skipped=%d errors=%d, want %d/%d/%d/1", got.Tests, got.Failures, got.Skipped, got.Errors, tt.tests, tt.failures, tt.skipped)
			}
			var sumTests, sumFail, sumSkip, sumErr int
			for _, s := range got.Suites {
				var f, sk, e int
				for _, c := range s.Cases {
					if c.Failure != nil {
						f++
					}
					if c.Error != nil {
						e++
						if c.Failure != nil || c.Error.Type != "harness" {
							t.Errorf("case %q: error %+v, failure %+v: an ERROR is only an <error type=harness>", c.Name, c.Error, c.Failure)
						}
					}
					if c.Skipped != nil {
						sk++
					}
					if c.Classname != s.Name || !strings.HasPrefix(c.Classname, "mcaspec.mca.") {
						t.Errorf("case %q classname %q in suite %q", c.Name, c.Classname, s.Name)
					}
					if !caseName.MatchString(c.Name) {
						t.Errorf("case name %q is not 'ID title'", c.Name)
					}
				}
				if s.Errors != e {
					t.Errorf("suite %s errors=%d, but holds %d", s.Name, s.Errors, e)
				}
				sumErr += e
				if s.Tests != len(s.Cases) || s.Failures != f || s.Skipped != sk {
					t.Errorf("suite %s attributes tests=%d failures=%d skipped=%d, but holds %d/%d/%d", s.Name, s.Tests, s.Failures, s.Skipped, len(s.Cases), f, sk)
				}
				sumTests, sumFail, sumSkip = sumTests+s.Tests, sumFail+s.Failures, sumSkip+s.Skipped
			}
			if sumTests != got.Tests || sumFail != got.Failures || sumSkip != got.Skipped || sumErr != got.Errors {
				t.Fatalf("suite sums %d/%d/%d differ from totals", sumTests, sumFail, sumSkip)
			}
			if len(got.Suites[0].Props) == 0 || got.Suites[0].Props[0].Name != "profile" {
				t.Errorf("first suite has no properties: %+v", got.Suites[0].Props)
			}
			if got.Suites[0].Name != "mcaspec.mca.calibration" {
				t.Errorf("first suite %q, want calibration first", got.Suites[0].Name)
			}
			c := findCase(t, &got, "HDR-004")
			if c.Failure == nil || !strings.Contains(c.Failure.Message, "got 500") {
				t.Fatalf("HDR-004 failure = %+v", c.Failure)
			}
			for _, want := range []string{"Rule:", "MUST be refused with 400", "Expected: 400 or 400ir", "status 500 in 2.9ms", "TypeError", "> Authorization: Bearer "} {
				if !strings.Contains(c.Failure.Body, want) {
					t.Errorf("HDR-004 failure body lacks %q:\n%s", want, c.Failure.Body)
				}
			}
			if c := findCase(t, &got, "SIG-004"); c.Failure == nil || !strings.Contains(c.Failure.Body, "status 200") {
				t.Errorf("SIG-004 failure has no evidence: %+v", c.Failure)
			}
			if c := findCase(t, &got, "RES-002"); c.Failure == nil || !strings.Contains(c.Failure.Body, "context deadline exceeded") {
				t.Errorf("RES-002 failure lacks the error: %+v", c.Failure)
			}
			ns := findCase(t, &got, "KEY-002")
			if tt.opts.FailOnNonStrict {
				if ns.Failure == nil || ns.Failure.Type != "SHOULD" {
					t.Errorf("KEY-002 with FailOnNonStrict: failure %+v", ns.Failure)
				}
			} else if ns.Failure != nil || !strings.Contains(ns.SystemOut, "NON-STRICT") {
				t.Errorf("KEY-002 should pass with a note: failure %+v, out %q", ns.Failure, ns.SystemOut)
			}
			if c := findCase(t, &got, "TIM-003"); c.Failure != nil || !strings.Contains(c.SystemOut, "leeway = between 30s and 5m") {
				t.Errorf("TIM-003 informational: %+v", c)
			}
			if c := findCase(t, &got, "PRP-004"); c.Skipped == nil || !strings.Contains(c.Skipped.Message, "no service credentials") {
				t.Errorf("PRP-004 skipped: %+v", c.Skipped)
			}
			if c := findCase(t, &got, "RES-002"); c.Time != "7.012" {
				t.Errorf("RES-002 time %q, want 7.012", c.Time)
			}
		})
	}
}

func findCase(t *testing.T, j *parsedJUnit, id string) parsedCase {
	t.Helper()
	for _, s := range j.Suites {
		for _, c := range s.Cases {
			if strings.HasPrefix(c.Name, id+" ") {
				return c
			}
		}
	}
	t.Fatalf("case %s not in the JUnit output", id)
	return parsedCase{}
}

var caseName = regexp.MustCompile(`^[A-Z]{3}-[0-9]{3} \S`)

const xss = `<script>alert("x")</script>`

// TestHTMLEscapes puts script tags everywhere a target or a token can put
// text: none may come out as markup.
func TestHTMLEscapes(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	r := fx.fixtureReport("npm")
	evil, err := fx.f.AccessToken(tokenfactory.Access{AppID: fixAppID, ClientID: xss}, tokenfactory.WithClaim("name", xss))
	if err != nil {
		t.Fatal(err)
	}
	res := r.ByID()["HDR-004"]
	res.Observed.Tokens["access"] = evil
	res.Observed.Tokens[xss] = xss + "." + tokenfactory.B64.EncodeToString([]byte(xss)) + ".x"
	res.Observed.Exchanges[0].Body = xss
	// A results file may spell the name either way; both are shown.
	res.Observed.Exchanges[0].Header["WWW-Authenticate"] = []string{`Bearer realm="` + xss + `"`}
	res.Observed.Exchanges[0].RequestHeader["Authorization"] = []string{"Bearer " + xss}
	res.Observed.Exchanges[0].URL = `javascript:alert(1)//` + xss
	res.Observed.Facts = map[string]string{xss: xss}
	res.Observed.Failures = []string{xss}
	res.Observed.Downstream = []kit.SinkRequest{{Method: "GET", Path: xss, Header: http.Header{"X-Evil": {xss}}}}
	res.Reason = xss
	res.Title = xss
	res.ID = `HDR-004"><script>`
	r.Target.Name = xss
	r.Target.Log = xss
	r.Target.Versions = map[string]string{xss: xss}
	for _, reps := range [][]*conformance.RunReport{{r}, {r, r}} {
		var b bytes.Buffer
		if err := WriteHTML(&b, reps...); err != nil {
			t.Fatal(err)
		}
		out := withoutOwnScript(t, b.String())
		if i := strings.Index(strings.ToLower(out), "<script"); i >= 0 {
			t.Fatalf("unescaped script tag in the HTML (%d reports) at %d: %.200s", len(reps), i, out[i:])
		}
		if !strings.Contains(out, "&lt;script&gt;") {
			t.Fatalf("the escaped text is missing (%d reports)", len(reps))
		}
		if strings.Contains(out, `href="javascript:`) {
			t.Fatal("javascript: URL in an href")
		}
		// The decoded payload of the evil token shows the claim, escaped.
		if !strings.Contains(out, `&#34;name&#34;: &#34;\u003cscript\u003ealert(\&#34;x\&#34;)\u003c/script\u003e&#34;`) &&
			!strings.Contains(out, `&#34;name&#34;: &#34;&lt;script&gt;`) {
			t.Errorf("decoded payload of the evil token not shown")
		}
	}
}

// TestHTMLComparison renders three reports, one missing a case, and checks
// the matrix: a column per target, a dash for the missing case, and every
// link landing on an element of the page.
func TestHTMLComparison(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	ref, npm, strict := fx.fixtureReport("reference"), fx.fixtureReport("npm"), fx.fixtureReport("strict")
	var b bytes.Buffer
	if err := WriteHTML(&b, ref, npm, strict); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	matrix := between(t, out, `<table class="matrix">`, `</table>`)
	rows := regexp.MustCompile(`(?s)<tr[^>]*><th class="cid"><b>([A-Z]{3}-\d{3})</b>.*?</tr>`).FindAllStringSubmatch(matrix, -1)
	if len(rows) != 13 {
		t.Fatalf("matrix has %d case rows, want 13", len(rows))
	}
	var order []string
	for _, row := range rows {
		order = append(order, row[1])
		cells := strings.Count(row[0], `<td class="cell`)
		if cells != 3 {
			t.Errorf("row %s has %d cells, want 3", row[1], cells)
		}
		missing, want := strings.Count(row[0], "—"), map[string]int{"SIG-007": 1, "KEY-005": 2}[row[1]]
		if missing != want {
			t.Errorf("row %s has %d missing cells", row[1], missing)
		}
	}
	if got := strings.Join(order, " "); got != "CAL-001 CAL-003 HDR-001 HDR-004 SIG-004 SIG-007 TIM-003 AUD-002 KEY-002 KEY-005 PRP-001 PRP-004 RES-002" {
		t.Errorf("row order %s", got)
	}
	for _, want := range []string{`href="#t1-HDR-004" title="FAIL: request: got 500`, `href="#t2-HDR-001" title="NON-STRICT: `, `href="#t0-SIG-007" title="PASS">PASS</a>`, `class="differs"`,
		`href="#t1-KEY-005" title="ERROR: harness error (not a verdict on the target)`} {
		if !strings.Contains(matrix, want) {
			t.Errorf("matrix lacks %s", want)
		}
	}
	// Per-target summary row.
	sum := between(t, matrix, `<tr class="sum">`, `</tr>`)
	if strings.Count(sum, "<td>") != 3 || !strings.Contains(sum, "3 FAIL") {
		t.Errorf("summary row: %s", sum)
	}
	// MUST failures: the npm target's three, with the judged exchange.
	mf := between(t, out, `<h2 id="must-failures">`, `<section class="target"`)
	if n := strings.Count(mf, `<div class="mf">`); n != 3 {
		t.Errorf("%d MUST failures listed, want 3", n)
	}
	for _, want := range []string{"context deadline exceeded", `<span class="status s5">500</span>`, "None."} {
		if !strings.Contains(mf, want) {
			t.Errorf("MUST failures lack %q", want)
		}
	}
	// The harness ERROR is shown apart from the failures, as not a verdict on the target.
	if n := strings.Count(mf, "KEY-005"); n != 0 {
		t.Errorf("KEY-005 (ERROR) listed %d times among the MUST failures", n)
	}
	if !strings.Contains(out, `during <b>RES-002</b>: the target stopped answering`) {
		t.Error("the page does not show the target's restart")
	}
	if !strings.Contains(out, `Harness errors: 1 case could not be run`) || !strings.Contains(out, `<span class="badge error">ERROR</span>`) {
		t.Error("the page does not show the harness ERROR")
	}
	checkLinks(t, out)
}

func between(t *testing.T, s, from, to string) string {
	t.Helper()
	i := strings.Index(s, from)
	if i < 0 {
		t.Fatalf("%q not found", from)
	}
	j := strings.Index(s[i:], to)
	if j < 0 {
		t.Fatalf("%q not found after %q", to, from)
	}
	return s[i : i+j+len(to)]
}

// checkLinks asserts that every href is a fragment naming an id on the
// page, and that nothing is loaded from elsewhere.
func checkLinks(t *testing.T, out string) {
	t.Helper()
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(` id="([^"]+)"`).FindAllStringSubmatch(out, -1) {
		if ids[m[1]] {
			t.Errorf("duplicate id %q", m[1])
		}
		ids[m[1]] = true
	}
	hrefs := regexp.MustCompile(` href="([^"]*)"`).FindAllStringSubmatch(out, -1)
	if len(hrefs) == 0 {
		t.Fatal("no links")
	}
	for _, m := range hrefs {
		if !strings.HasPrefix(m[1], "#") || !ids[m[1][1:]] {
			t.Errorf("link %q does not land on the page", m[1])
		}
	}
	inline := withoutOwnScript(t, out)
	for _, bad := range []string{" src=", "<link", "<script", "@import", "url("} {
		if strings.Contains(inline, bad) {
			t.Errorf("page is not self-contained: has %q", bad)
		}
	}
}

func TestHTMLSingle(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	r := fx.fixtureReport("npm")
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	checkLinks(t, out)
	for _, want := range []string{
		"<title>mcaspec conformance: bms-mca-token-validation-strategy (mca)</title>",
		`<span class="badge fail">3 FAIL</span>`, `<span class="badge nonstrict">1 NON-STRICT</span>`,
		`<span class="badge skipped">1 SKIPPED</span>`, `<span class="badge info">1 INFORMATIONAL</span>`,
		"bms-mca-token-validation-strategy 2.0.11", "Target log (tail)", "Strategy.authenticate",
		// Decoded tokens: the jpk header and the claims.
		"&#34;alg&#34;: &#34;none&#34;", "&#34;prn&#34;:", "exp 2026-03-14T10:26:53Z",
		// The garbage payload is shown as text with a note.
		"this is not json", "not JSON; decoded text shown",
		// Facts, downstream, judged marker, skipped reason.
		"publickeyFetches", "/case/PRP-001/7", `<span class="tag">judged</span>`, "no service credentials",
		// Challenge shown, whatever the case of the header name.
		`&lt; WWW-Authenticate</td><td><code>Bearer realm=&#34;imfAuthentication&#34;, error=&#34;invalid_token&#34;</code>`,
		// Baseline.
		"baselines/npm.json",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Tokens are shortened in tables but complete in a <details>.
	tok := r.ByID()["CAL-001"].Observed.Tokens["access"]
	if !strings.Contains(out, "<pre>"+tok+"</pre>") {
		t.Error("full access token not in the page")
	}
	if !strings.Contains(out, "<code>Bearer "+tok[:20]+"…") {
		t.Error("shortened Authorization header not in the page")
	}
	if strings.Contains(out, "MUST failures") {
		t.Error("single report has the comparison sections")
	}
}

func TestDecodeToken(t *testing.T) {
	t.Parallel()
	hdr := tokenfactory.B64.EncodeToString([]byte(`{"alg":"RS256"}`))
	pay := tokenfactory.B64.EncodeToString([]byte(`{"exp":1773484013,"prn":"c"}`))
	tests := []struct {
		name, tok                    string
		header, hnote, payload, note string
		sig                          string
	}{
		{"valid", hdr + "." + pay + ".c2ln", "\"alg\": \"RS256\"", "", "\"prn\": \"c\"", "", "3 bytes"},
		{"padded std alphabet", strings.TrimRight(hdr, "") + "." + pay + "==.", "\"alg\"", "", "\"exp\"", "", "empty"},
		{"garbage", "garbage-not-a-token", "", "not a compact JWS", "", "", ""},
		{"empty", "", "", "empty token", "", "", ""},
		{"two segments", hdr + "." + pay, "\"alg\"", "", "\"prn\"", "", "2 segments"},
		{"five segments", hdr + "." + pay + ".a.b.c", "\"alg\"", "", "\"prn\"", "", "5 segments"},
		{"bad base64", "!!!." + pay + ".x", "!!!", "not base64url", "\"prn\"", "", "not base64url"},
		{"array payload", hdr + "." + tokenfactory.B64.EncodeToString([]byte(`[1,2]`)) + ".", "\"alg\"", "", "1,", "JSON, but not an object", "empty"},
		{"binary payload", hdr + "." + tokenfactory.B64.EncodeToString([]byte{0xff, 0x00, 0x41}) + ".", "\"alg\"", "", `"\xff\x00A"`, "not JSON nor UTF-8", "empty"},
		{"empty header", "." + pay + ".", "", "empty segment", "\"prn\"", "", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := decodeToken("access", tt.tok)
			checks := []struct{ what, got, want string }{
				{"header", d.Header, tt.header}, {"header note", d.HeaderNote, tt.hnote},
				{"payload", d.Payload, tt.payload}, {"payload note", d.PayloadNote, tt.note}, {"signature", d.Signature, tt.sig},
			}
			for _, c := range checks {
				if c.want == "" && c.got != "" && (c.what == "header note" || c.what == "payload note") {
					t.Errorf("%s = %q, want none", c.what, c.got)
				}
				if !strings.Contains(c.got, c.want) {
					t.Errorf("%s = %q, want it to contain %q", c.what, c.got, c.want)
				}
			}
		})
	}
	if d := decodeToken("access", hdr+"."+pay+".x"); len(d.Times) != 1 || d.Times[0].Value != "2026-03-14T10:26:53Z" {
		t.Errorf("times = %v", d.Times)
	}
}

func TestShortenWords(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 30) + strings.Repeat("b", 30)
	tests := []struct{ in, want string }{
		{"Bearer short", "Bearer short"},
		{"Bearer " + long, "Bearer " + strings.Repeat("a", 20) + "…" + strings.Repeat("b", 8)},
		{"Bearer\t" + long + "  x", "Bearer\t" + strings.Repeat("a", 20) + "…" + strings.Repeat("b", 8) + "  x"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := shortenWords(tt.in); got != tt.want {
			t.Errorf("shortenWords(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestCasesDocsCatalogue renders the real catalogue: every case appears
// once, in area order, and the JSON has the documented shape.
func TestCasesDocsCatalogue(t *testing.T) {
	t.Parallel()
	cases := conformance.Catalogue()
	var js bytes.Buffer
	if err := WriteCasesJSON(&js, cases); err != nil {
		t.Fatal(err)
	}
	var docs []struct {
		ID       string              `json:"id"`
		Area     string              `json:"area"`
		Title    string              `json:"title"`
		Rule     string              `json:"rule"`
		Refs     []string            `json:"refs"`
		Needs    []string            `json:"needs"`
		Families []string            `json:"families"`
		Levels   map[string]string   `json:"levels"`
		Outcomes map[string][]string `json:"outcomes"`
		Recipe   string              `json:"recipe"`
	}
	if err := json.Unmarshal(js.Bytes(), &docs); err != nil {
		t.Fatal(err)
	}
	if len(docs) != len(cases) {
		t.Fatalf("%d docs for %d cases", len(docs), len(cases))
	}
	rank := map[string]int{}
	for i, a := range conformance.Areas() {
		rank[a.Key] = i
	}
	for i, d := range docs {
		if d.Rule == "" || d.Recipe == "" || len(d.Refs) == 0 || d.Needs == nil || len(d.Families) == 0 ||
			d.Levels["mca"] == "" || d.Levels["strict"] == "" || len(d.Outcomes["mca"]) == 0 || len(d.Outcomes["strict"]) == 0 {
			t.Errorf("%s: incomplete doc %+v", d.ID, d)
		}
		if i > 0 && rank[d.Area] < rank[docs[i-1].Area] {
			t.Errorf("%s (%s) after %s (%s): not in area order", d.ID, d.Area, docs[i-1].ID, docs[i-1].Area)
		}
	}
	var md bytes.Buffer
	if err := WriteCasesMarkdown(&md, cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		// Once in its area's table, once in the rules.
		if n := strings.Count(md.String(), "| "+c.ID+" |"); n != 1 {
			t.Errorf("%s in %d table rows", c.ID, n)
		}
		if n := strings.Count(md.String(), "- **"+c.ID+"** "); n != 1 {
			t.Errorf("%s in %d rule lines", c.ID, n)
		}
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after -= len(p); f.after < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestWriteErrors(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	r := fx.fixtureReport("reference")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"junit nil", WriteJUnit(io.Discard, nil, JUnitOptions{}), "nil report"},
		{"html none", WriteHTML(io.Discard), "no report"},
		{"html nil", WriteHTML(io.Discard, r, nil), "report 2 is nil"},
		{"junit disk full", WriteJUnit(&failWriter{after: 100}, r, JUnitOptions{}), "disk full"},
		{"html disk full", WriteHTML(&failWriter{after: 100}, r), "disk full"},
		{"md disk full", WriteCasesMarkdown(&failWriter{after: 100}, docCases()), "disk full"},
		{"json disk full", WriteCasesJSON(&failWriter{after: 10}, docCases()), "disk full"},
	}
	for _, tt := range tests {
		if tt.err == nil || !strings.Contains(tt.err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, tt.err, tt.want)
		}
	}
}

func TestFmtDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"}, {850 * time.Microsecond, "850µs"}, {4213 * time.Microsecond, "4.21ms"},
		{123456 * time.Microsecond, "123ms"}, {7012 * time.Millisecond, "7.01s"},
	}
	for _, tt := range tests {
		if got := fmtDuration(tt.d); got != tt.want {
			t.Errorf("fmtDuration(%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// FuzzDecodeToken: any token text decodes without panicking, and a page
// showing it still escapes it.
func FuzzDecodeToken(f *testing.F) {
	for _, s := range []string{"", "a.b.c", "garbage-not-a-token", "eyJhbGciOiJub25lIn0.e30.", "....", "\xff.\x00.", xss, "e30.WzFd.x.y.z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		d := decodeToken("access", tok)
		if d.Length != len(tok) {
			t.Fatalf("length %d, want %d", d.Length, len(tok))
		}
		_ = shortenWords(tok)
		r := &conformance.RunReport{Results: []conformance.Result{{ID: "X-1", Verdict: conformance.Fail,
			Observed: &kit.Observation{Tokens: map[string]string{"access": tok}}}}}
		var b bytes.Buffer
		if err := WriteHTML(&b, r); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.ToLower(withoutOwnScript(t, b.String())), "<script") {
			t.Fatal("unescaped script tag")
		}
	})
}

func TestChallengeEitherSpelling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		h    http.Header
		want string
		rest int
	}{
		{http.Header{"Www-Authenticate": {chBare}, "Content-Type": {"a"}}, chBare, 1},
		{http.Header{"WWW-Authenticate": {chInvalid}}, chInvalid, 0},
		{http.Header{"Content-Type": {"a"}}, "", 1},
		{nil, "", 0},
	}
	for _, tt := range tests {
		if got := challenge(tt.h); got != tt.want {
			t.Errorf("challenge(%v) = %q, want %q", tt.h, got, tt.want)
		}
		if got := len(responseLines(tt.h)); got != tt.rest {
			t.Errorf("responseLines(%v) has %d lines, want %d", tt.h, got, tt.rest)
		}
	}
}

// ownScript starts the report's one script (the filters).
const ownScript = `<script id="mcaspec-filters">`

// withoutOwnScript removes the report's own script, which must be there
// exactly once, so that any other script tag is a leak.
func withoutOwnScript(t *testing.T, html string) string {
	t.Helper()
	if n := strings.Count(html, ownScript); n != 1 {
		t.Fatalf("the filter script appears %d times, want once", n)
	}
	i := strings.Index(html, ownScript)
	j := strings.Index(html[i:], "</script>")
	if j < 0 {
		t.Fatal("the filter script is not closed")
	}
	return html[:i] + html[i+j+len("</script>"):]
}
