package mdtext

import "testing"

func TestCell(t *testing.T) {
	for in, want := range map[string]string{
		"plain":         "plain",
		"a|b":           `a\|b`,
		"two\nlines":    "two lines",
		"<b>*x*</b>":    `&lt;b&gt;\*x\*&lt;/b&gt;`,
		"[l](u) `c` \\": "\\[l\\](u) \\`c\\` \\\\",
	} {
		if got := Cell(in); got != want {
			t.Errorf("Cell(%q) = %q, want %q", in, got, want)
		}
	}
}
