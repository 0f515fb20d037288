package reports

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mcaspec/mcaspec/conformance"
)

// JUnitOptions tune WriteJUnit.
type JUnitOptions struct {
	// FailOnNonStrict reports NON-STRICT cases (a SHOULD missed) as failures
	// instead of passes with a note.
	FailOnNonStrict bool
}

// The JUnit XML shapes (the de-facto schema read by Jenkins, GitLab, GitHub
// test reporters and Surefire-style readers).
type (
	junitSuites struct {
		XMLName xml.Name `xml:"testsuites"`
		Name    string   `xml:"name,attr"`
		junitCounts
		Suites []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name string `xml:"name,attr"`
		junitCounts
		Properties *junitProperties `xml:"properties,omitempty"`
		Cases      []junitCase      `xml:"testcase"`
	}
	// junitCounts are the attributes a <testsuites> and a <testsuite> share.
	junitCounts struct {
		Tests     int    `xml:"tests,attr"`
		Failures  int    `xml:"failures,attr"`
		Errors    int    `xml:"errors,attr"`
		Skipped   int    `xml:"skipped,attr"`
		Time      string `xml:"time,attr"`
		Timestamp string `xml:"timestamp,attr,omitempty"`
	}
	junitProperties struct {
		Property []junitProperty `xml:"property"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitMessage `xml:"failure,omitempty"`
		Error     *junitMessage `xml:"error,omitempty"`
		Skipped   *junitMessage `xml:"skipped,omitempty"`
		SystemOut *junitText    `xml:"system-out,omitempty"`
	}
	junitMessage struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr,omitempty"`
		Body    string `xml:",cdata"`
	}
	junitText struct {
		Text string `xml:",cdata"`
	}
)

// WriteJUnit writes r as JUnit XML: one <testsuite> per area (named
// mcaspec.<profile>.<area>), one <testcase> per case. A FAIL is a <failure>
// whose message is the reason and whose body holds the rule, the expected
// outcomes and every exchange; an ERROR (the harness could not run the
// case) is an <error>, never a <failure>; a SKIPPED case is <skipped>; a NON-STRICT case
// passes with a note in <system-out> (or fails, with FailOnNonStrict); an
// INFORMATIONAL case passes with the observed behaviour in <system-out>.
func WriteJUnit(w io.Writer, r *conformance.RunReport, opts JUnitOptions) error {
	if r == nil {
		return errors.New("reports: WriteJUnit: nil report")
	}
	doc := junitSuites{Name: "mcaspec " + junitTargetName(r)}
	if !r.StartedAt.IsZero() {
		doc.Timestamp = r.StartedAt.UTC().Format("2006-01-02T15:04:05")
	}
	props := junitPropertyList(r)
	var total time.Duration
	for _, g := range groupByArea(r.Results) {
		s := junitSuite{junitCounts: junitCounts{Timestamp: doc.Timestamp}}
		if len(doc.Suites) == 0 {
			s.Properties = &junitProperties{props}
		}
		var suiteTime time.Duration
		for _, res := range g.Results {
			profile := res.Profile
			if profile == "" {
				profile = r.Profile
			}
			class := "mcaspec." + string(profile) + "." + g.Area.Key
			s.Name = class
			d := time.Duration(res.Duration)
			suiteTime += d
			tc := junitCase{Name: strings.TrimSpace(res.ID + " " + res.Title), Classname: class, Time: seconds(d)}
			switch res.Verdict {
			case conformance.Fail:
				tc.Failure = &junitMessage{Message: res.Reason, Type: failureType(res), Body: xmlSafe(evidenceText(res))}
				s.Failures++
			case conformance.Skipped:
				tc.Skipped = &junitMessage{Message: res.Reason}
				s.Skipped++
			case conformance.Errored:
				tc.Error = &junitMessage{Message: res.Reason, Type: "harness", Body: xmlSafe("ERROR: the harness could not run this case; it is not a verdict on the target.\n" + evidenceText(res))}
				s.Errors++
			case conformance.NonStrict:
				if opts.FailOnNonStrict {
					tc.Failure = &junitMessage{Message: res.Reason, Type: "SHOULD", Body: xmlSafe(evidenceText(res))}
					s.Failures++
				} else {
					tc.SystemOut = &junitText{xmlSafe("NON-STRICT: a SHOULD was missed (not a failure; use --fail-on-nonstrict to fail on it).\n" + evidenceText(res))}
				}
			case conformance.Informational:
				tc.SystemOut = &junitText{xmlSafe("INFORMATIONAL: behaviour recorded, never a failure.\n" + evidenceText(res))}
			case conformance.Pass:
			default:
				tc.Failure = &junitMessage{Message: fmt.Sprintf("unknown verdict %q", res.Verdict), Type: "unknown", Body: xmlSafe(evidenceText(res))}
				s.Failures++
			}
			s.Cases = append(s.Cases, tc)
			s.Tests++
		}
		s.Time = seconds(suiteTime)
		total += suiteTime
		doc.add(s.junitCounts)
		doc.Suites = append(doc.Suites, s)
	}
	if r.Duration > 0 {
		total = time.Duration(r.Duration)
	}
	doc.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("reports: write JUnit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("reports: write JUnit: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("reports: write JUnit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// add counts o's cases in c.
func (c *junitCounts) add(o junitCounts) {
	c.Tests += o.Tests
	c.Failures += o.Failures
	c.Skipped += o.Skipped
	c.Errors += o.Errors
}

func failureType(r *conformance.Result) string {
	if strings.HasPrefix(r.Reason, "harness error:") {
		return "harness"
	}
	if r.Level == "" {
		return "MUST"
	}
	return string(r.Level)
}

func junitTargetName(r *conformance.RunReport) string {
	name := r.Target.Name
	if name == "" {
		name = r.Target.URL
	}
	if name == "" {
		name = "target"
	}
	return name + " (" + string(r.Profile) + ")"
}

func junitPropertyList(r *conformance.RunReport) []junitProperty {
	ps := []junitProperty{
		{"profile", string(r.Profile)},
		{"target.name", r.Target.Name},
		{"target.url", r.Target.URL},
		{"target.mode", r.Target.Mode},
	}
	if r.ToolVersion != "" {
		ps = append(ps, junitProperty{"mcaspec.version", r.ToolVersion})
	}
	if r.Catalogue != "" {
		ps = append(ps, junitProperty{"mcaspec.catalogue", r.Catalogue})
	}
	ps = append(ps, junitProperty{"target.family", r.Target.Family.Name()})
	if r.Target.FixedAppID != "" {
		ps = append(ps, junitProperty{"target.fixedAppId", r.Target.FixedAppID})
	}
	keys := make([]string, 0, len(r.Target.Versions))
	for k := range r.Target.Versions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ps = append(ps, junitProperty{"version." + k, r.Target.Versions[k]})
	}
	return ps
}

// xmlSafe replaces what XML 1.0 cannot carry (invalid UTF-8, control
// characters but tab and newlines, U+FFFE/U+FFFF) with U+FFFD, for CDATA
// sections, which encoding/xml writes unfiltered.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r == utf8.RuneError, r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF:
			return '\uFFFD'
		}
		return r
	}, s)
}
