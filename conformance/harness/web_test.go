package harness_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/harness"
	"github.com/mcaspec/mcaspec/conformance/kit"
)

// The reference web RP passes every web case in both profiles (the
// informational ones record what it does).
func TestReferenceWebRPPassesTheWebFamily(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the web family twice")
	}
	t.Parallel()
	cases := harness.Cases(harness.Config{Family: kit.FamilyWeb})
	if len(cases) < 30 {
		t.Fatalf("%d web cases, want at least 30", len(cases))
	}
	for _, c := range cases {
		if !c.AppliesTo(kit.FamilyWeb) || c.AppliesTo(kit.FamilyMCA) {
			t.Errorf("%s: families %v in the web family", c.ID, c.Families)
		}
	}
	for _, p := range conformance.Profiles() {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			sess, err := harness.Prepare(ctx, harness.Config{Profile: p, Family: kit.FamilyWeb, AZListen: "127.0.0.1:0"})
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Close()
			if sess.Target.Name != harness.DefaultWebTargetName {
				t.Errorf("target %q, want %q", sess.Target.Name, harness.DefaultWebTargetName)
			}
			for _, c := range cases {
				r := sess.Run(ctx, c)
				switch {
				case r.Verdict == conformance.Pass:
				case r.Verdict == conformance.Informational && r.Level == conformance.Info:
				default:
					var steps []string
					if r.Observed != nil {
						for _, x := range r.Observed.Exchanges {
							steps = append(steps, x.Step+" "+x.URL+" → "+x.Brief()+" "+x.Header.Get("Location"))
						}
					}
					t.Errorf("%s %s: %s: %s\n  %s", c.ID, c.Title, r.Verdict, r.Reason, strings.Join(steps, "\n  "))
				}
			}
		})
	}
}
