package bench

import (
	"bytes"
	"strings"
	"testing"
)

// Every bench report (json, txt, html; runs and merges alike, both take
// machine()) records the mcaspec that wrote it.
func TestReportsRecordTheTool(t *testing.T) {
	t.Parallel()
	m := machine()
	if !strings.HasPrefix(m.Tool, "mcaspec ") {
		t.Fatalf("machine().Tool = %q, want the mcaspec version", m.Tool)
	}
	r := &Report{Shard: "0/1", Machine: m}
	for name, write := range map[string]func(*bytes.Buffer) error{
		"json": func(b *bytes.Buffer) error { return r.WriteJSON(b) },
		"txt":  func(b *bytes.Buffer) error { return r.WriteText(b) },
		"html": func(b *bytes.Buffer) error { return r.WriteHTML(b) },
	} {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.Contains(b.String(), m.Tool) {
			t.Errorf("the %s report does not record %q", name, m.Tool)
		}
	}
}
