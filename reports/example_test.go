package reports_test

import (
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/reports"
)

// exampleReport is a run of two cases against a target named name.
func exampleReport(name string, hdr conformance.Verdict) *conformance.RunReport {
	x := kit.Exchange{Step: "request", Method: "GET", URL: "http://127.0.0.1:8080/v1/apps/app-1/protected",
		RequestHeader: http.Header{"Authorization": {"Bearer <script>alert(1)</script>"}},
		Status:        500, Body: "TypeError: <script>", Latency: 3 * time.Millisecond}
	rs := []conformance.Result{
		{ID: "CAL-001", Area: "calibration", Title: "A valid pair is accepted", Rule: "MUST be accepted.",
			Profile: conformance.MCA, Level: conformance.Must, Expected: []kit.Outcome{kit.Accepted}, Verdict: conformance.Pass},
		{ID: "HDR-004", Area: "header", Title: "Three parts after Bearer", Rule: "MUST be refused with 400, never a 5xx.",
			Profile: conformance.MCA, Level: conformance.Must, Expected: []kit.Outcome{kit.BadRequest},
			Verdict: hdr, Reason: "request: got 500 in 3ms; expected 400", Observed: &kit.Observation{Exchanges: []kit.Exchange{x}},
			Duration: conformance.Duration(4 * time.Millisecond)},
	}
	return &conformance.RunReport{Version: conformance.ReportVersion, Tool: "mcaspec", Profile: conformance.MCA,
		Target:    conformance.TargetInfo{Name: name, URL: "http://127.0.0.1:8080", Mode: "url"},
		StartedAt: time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC), Results: rs, Summary: conformance.Summarize(rs)}
}

// One report gives the run's page; several give a comparison matrix whose
// cells link to each target's evidence. Text from the target is escaped.
func ExampleWriteHTML() {
	ref, npm := exampleReport("reference", conformance.Pass), exampleReport("npm", conformance.Fail)

	var single strings.Builder
	if err := reports.WriteHTML(&single, npm); err != nil {
		fmt.Println(err)
		return
	}
	title := regexp.MustCompile(`<title>(.*)</title>`)
	fmt.Println(title.FindStringSubmatch(single.String())[1])
	fmt.Println("escaped:", strings.Contains(single.String(), "TypeError: &lt;script&gt;"))

	var cmp strings.Builder
	if err := reports.WriteHTML(&cmp, ref, npm); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(title.FindStringSubmatch(cmp.String())[1])
	for _, m := range regexp.MustCompile(`<a href="(#t\d-HDR-004)"[^>]*>([A-Z-]+)</a>`).FindAllStringSubmatch(cmp.String(), -1) {
		fmt.Println(m[1], m[2])
	}
	// Output:
	// mcaspec conformance: npm (mca)
	// escaped: true
	// mcaspec comparison: reference (mca) · npm (mca)
	// #t0-HDR-004 PASS
	// #t1-HDR-004 FAIL
}

func ExampleWriteJUnit() {
	r := exampleReport("npm", conformance.Fail)
	r.Results = r.Results[1:] // just the failure
	if err := reports.WriteJUnit(os.Stdout, r, reports.JUnitOptions{}); err != nil {
		fmt.Println(err)
	}
	// Output:
	// <?xml version="1.0" encoding="UTF-8"?>
	// <testsuites name="mcaspec npm (mca)" tests="1" failures="1" errors="0" skipped="0" time="0.004" timestamp="2026-03-14T09:00:00">
	//   <testsuite name="mcaspec.mca.header" tests="1" failures="1" errors="0" skipped="0" time="0.004" timestamp="2026-03-14T09:00:00">
	//     <properties>
	//       <property name="profile" value="mca"></property>
	//       <property name="target.name" value="npm"></property>
	//       <property name="target.url" value="http://127.0.0.1:8080"></property>
	//       <property name="target.mode" value="url"></property>
	//       <property name="target.family" value="mca"></property>
	//     </properties>
	//     <testcase name="HDR-004 Three parts after Bearer" classname="mcaspec.mca.header" time="0.004">
	//       <failure message="request: got 500 in 3ms; expected 400" type="MUST"><![CDATA[HDR-004 Three parts after Bearer: FAIL
	// Reason:   request: got 500 in 3ms; expected 400
	// Rule:     MUST be refused with 400, never a 5xx.
	// Level:    MUST (profile mca)
	// Expected: 400
	// Exchange 1 (judged): request: GET http://127.0.0.1:8080/v1/apps/app-1/protected
	//   > Authorization: Bearer <script>alert(1)</script>
	//   < status 500 in 3ms
	//   < body: TypeError: <script>
	// ]]></failure>
	//     </testcase>
	//   </testsuite>
	// </testsuites>
}
