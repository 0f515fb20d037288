package reference

import (
	"errors"
	"testing"
)

func TestParseObject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in  string
		ok  bool
		raw string // raw of the last field when ok
	}{
		{`{}`, true, ""},
		{` {"a" : {"b": [1, 2.5e-3, "x\"y", true, null]} } `, true, `{"b": [1, 2.5e-3, "x\"y", true, null]}`},
		{`{"aud":"x","au\u0064":"y"}`, false, ""},
		{`{"a":{"k":1,"k":2}}`, false, ""},
		{`{"a":[{"k":1},{"k":2}]}`, true, `[{"k":1},{"k":2}]`},
		{`[1]`, false, ""},
		{`1`, false, ""},
		{`{"a":1,}`, false, ""},
		{`{"a":1} x`, false, ""},
		{`{"a":01}`, false, ""},
		{`{"a":-}`, false, ""},
		{`{"a":"\x"}`, false, ""},
		{"{\"a\":\"\x01\"}", false, ""},
		{"{\"a\":\"\xff\"}", false, ""},
		{`{"a":tru}`, false, ""},
		{`{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`, false, ""},
		{`{"a"`, false, ""},
	}
	for _, tc := range tests {
		fs, err := parseObject([]byte(tc.in), false)
		if (err == nil) != tc.ok {
			t.Errorf("parseObject(%q): err %v, want ok=%v", tc.in, err, tc.ok)
			continue
		}
		if err != nil && !errors.Is(err, errJSON) {
			t.Errorf("parseObject(%q): %v does not wrap errJSON", tc.in, err)
		}
		if tc.ok && len(fs) > 0 && string(fs[len(fs)-1].raw) != tc.raw {
			t.Errorf("parseObject(%q): raw %q, want %q", tc.in, fs[len(fs)-1].raw, tc.raw)
		}
	}
	if _, err := parseObject([]byte(`{"k":1,"k":2}`), true); err != nil {
		t.Errorf("allowDup: %v", err)
	}
}
