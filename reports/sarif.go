package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/mcaspec/mcaspec/conformance"
)

// DefaultCasesDocURL is where SARIF rules and Markdown summaries link a case
// ID to its rule: docs/CASES.md of the published repository.
const DefaultCasesDocURL = "https://github.com/mcaspec/mcaspec/blob/main/docs/CASES.md"

// informationURI is mcaspec's home page, named in SARIF logs.
const informationURI = "https://github.com/mcaspec/mcaspec"

// SARIFOptions tune WriteSARIF.
type SARIFOptions struct {
	// CasesDocURL is the URL of docs/CASES.md (default DefaultCasesDocURL);
	// each rule's helpUri is it with the case's anchor.
	CasesDocURL string
	// Artifact is what each result is located in. Default: the target's
	// URL. Code scanning (GitHub) shows only results located in a file of
	// the repository: give a repository-relative path there (the target's
	// server.js, package.json...).
	Artifact string
	// MaxMessage is the longest result message in bytes (default 8 KiB).
	MaxMessage int
}

// The SARIF 2.1.0 shapes mcaspec writes (a subset of the schema).
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool        sarifTool         `json:"tool"`
		Invocations []sarifInvocation `json:"invocations"`
		Artifacts   []sarifArtifact   `json:"artifacts"`
		Results     []sarifResult     `json:"results"`
		Properties  map[string]any    `json:"properties,omitempty"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version,omitempty"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string         `json:"id"`
		Name                 string         `json:"name"`
		ShortDescription     sarifText      `json:"shortDescription"`
		FullDescription      sarifText      `json:"fullDescription"`
		Help                 sarifText      `json:"help"`
		HelpURI              string         `json:"helpUri"`
		DefaultConfiguration sarifRuleLevel `json:"defaultConfiguration"`
		Properties           map[string]any `json:"properties,omitempty"`
	}
	sarifRuleLevel struct {
		Level string `json:"level"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifInvocation struct {
		ExecutionSuccessful bool `json:"executionSuccessful"`
	}
	sarifArtifact struct {
		Location sarifArtifactLocation `json:"location"`
	}
	sarifArtifactLocation struct {
		URI   string `json:"uri"`
		Index int    `json:"index"`
	}
	sarifResult struct {
		RuleID              string            `json:"ruleId"`
		RuleIndex           int               `json:"ruleIndex"`
		Level               string            `json:"level"`
		Message             sarifText         `json:"message"`
		Locations           []sarifLocation   `json:"locations"`
		PartialFingerprints map[string]string `json:"partialFingerprints"`
		Properties          map[string]any    `json:"properties,omitempty"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysical `json:"physicalLocation"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	}
)

// sarifSchemaURI is the schema a SARIF 2.1.0 log names.
const sarifSchemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// WriteSARIF writes r as a SARIF 2.1.0 log for code scanning: one rule per
// case of the run (its title, rule sentence and a help URI into
// docs/CASES.md; level error for a MUST, warning for a SHOULD, note
// otherwise) and one result per FAIL (error) and NON-STRICT (warning),
// whose message is the evidence: the reason, what was expected and the
// exchanges observed. The target is the one artifact. Output is
// deterministic.
func WriteSARIF(w io.Writer, r *conformance.RunReport, opt SARIFOptions) error {
	if opt.CasesDocURL == "" {
		opt.CasesDocURL = DefaultCasesDocURL
	}
	if opt.Artifact == "" {
		opt.Artifact = r.Target.URL
	}
	if opt.MaxMessage <= 0 {
		opt.MaxMessage = 8 << 10
	}
	run := sarifRun{
		Tool:        sarifTool{Driver: sarifDriver{Name: "mcaspec", Version: toolVersionNumber(r.ToolVersion), InformationURI: informationURI}},
		Invocations: []sarifInvocation{{ExecutionSuccessful: r.Summary[conformance.Errored] == 0 && r.UnresponsiveSince == ""}},
		Artifacts:   []sarifArtifact{{Location: sarifArtifactLocation{URI: opt.Artifact}}},
		Results:     []sarifResult{},
		Properties:  runProperties(r),
	}
	index := map[string]int{}
	for i := range r.Results {
		res := &r.Results[i]
		if _, ok := index[res.ID]; !ok {
			index[res.ID] = len(run.Tool.Driver.Rules)
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRuleOf(res, opt.CasesDocURL))
		}
	}
	for i := range r.Results {
		res := &r.Results[i]
		level := resultLevel(res.Verdict)
		if level == "" {
			continue
		}
		run.Results = append(run.Results, sarifResult{
			RuleID: res.ID, RuleIndex: index[res.ID], Level: level,
			Message:             sarifText{Text: clip(strings.TrimSpace(evidenceText(res)), opt.MaxMessage)},
			Locations:           []sarifLocation{{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifactLocation{URI: opt.Artifact}}}},
			PartialFingerprints: map[string]string{"mcaspecCase/v1": r.Target.Name + "/" + res.ID},
			Properties:          map[string]any{"verdict": string(res.Verdict), "profile": string(res.Profile)},
		})
	}
	b, err := json.MarshalIndent(sarifLog{Schema: sarifSchemaURI, Version: "2.1.0", Runs: []sarifRun{run}}, "", "  ")
	if err != nil {
		return fmt.Errorf("sarif: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func sarifRuleOf(res *conformance.Result, docURL string) sarifRule {
	help := res.Rule
	if len(res.Refs) > 0 {
		help += "\n\nReferences:\n- " + strings.Join(res.Refs, "\n- ")
	}
	return sarifRule{
		ID: res.ID, Name: ruleName(res.Title),
		ShortDescription:     sarifText{Text: res.Title},
		FullDescription:      sarifText{Text: res.Rule},
		Help:                 sarifText{Text: help},
		HelpURI:              docURL + "#" + CaseDocAnchor(res.ID),
		DefaultConfiguration: sarifRuleLevel{Level: ruleLevel(res.Level)},
		Properties:           map[string]any{"tags": []string{"security", "mcaspec", "area:" + res.Area}, "precision": "very-high"},
	}
}

func runProperties(r *conformance.RunReport) map[string]any {
	p := map[string]any{"profile": string(r.Profile), "target": r.Target.Name, "targetUrl": r.Target.URL}
	if r.ToolVersion != "" {
		p["mcaspecVersion"] = r.ToolVersion
	}
	if r.Catalogue != "" {
		p["catalogue"] = r.Catalogue
	}
	return p
}

// ruleLevel maps a case's level to a SARIF level.
func ruleLevel(l conformance.Level) string {
	switch l {
	case conformance.Must:
		return "error"
	case conformance.Should:
		return "warning"
	}
	return "note"
}

// resultLevel is a verdict's SARIF level, "" for verdicts that are not findings.
func resultLevel(v conformance.Verdict) string {
	switch v {
	case conformance.Fail:
		return "error"
	case conformance.NonStrict:
		return "warning"
	}
	return ""
}

var nonWord = regexp.MustCompile(`[^A-Za-z0-9]+`)

// ruleName makes a title an identifier-like name: "No Authorization
// header" becomes "NoAuthorizationHeader".
func ruleName(title string) string {
	var b strings.Builder
	for _, w := range nonWord.Split(title, -1) {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// toolVersionNumber is the release number of "mcaspec v0.1.0 (abc)":
// "0.1.0"; "" for a development build (SARIF wants a number there; the
// whole string is in the run's properties).
func toolVersionNumber(s string) string {
	f := strings.Fields(s)
	if len(f) < 2 {
		return ""
	}
	v := strings.TrimPrefix(f[1], "v")
	if v == "" || v[0] < '0' || v[0] > '9' {
		return ""
	}
	return v
}
