package reference

import (
	"encoding/json"
	"errors"
	"fmt"
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

func TestParseObjectManyKeys(t *testing.T) {
	t.Parallel()
	obj := func(n int, dup bool) string {
		s := `{"x":{`
		for i := range n {
			s += fmt.Sprintf(`"k%d":%d,`, i, i)
		}
		if dup {
			s += `"k1":0,`
		}
		return s + `"end":1}}`
	}
	for _, n := range []int{3, linearKeys - 1, linearKeys, linearKeys + 1, 40} {
		if _, err := parseObject([]byte(obj(n, false)), false); err != nil {
			t.Errorf("%d distinct keys: %v", n, err)
		}
		if _, err := parseObject([]byte(obj(n, true)), false); err == nil {
			t.Errorf("%d keys and a duplicate: accepted", n)
		}
	}
}

// FuzzParseObject: whatever parseObject accepts, encoding/json reads the
// same top-level members, and its decoded strings are the same.
func FuzzParseObject(f *testing.F) {
	f.Add([]byte(`{"iss":"http://a/b","aud":"x","n":1.5,"o":{"k":["v",null]},"e":"\u00e9\n\"","t":true}`))
	f.Add([]byte(`{"a":"x","b":"y\\z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fs, err := parseObject(data, false)
		if err != nil {
			return
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("parseObject accepted %q, encoding/json refuses it: %v", data, err)
		}
		if len(m) != len(fs) {
			t.Fatalf("%q: %d members, encoding/json %d", data, len(fs), len(m))
		}
		for _, f := range fs {
			raw, ok := m[string(f.key)]
			if !ok {
				t.Fatalf("%q: key %q unknown to encoding/json", data, f.key)
			}
			if f.kind != 's' {
				continue
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil || s != f.str {
				t.Fatalf("%q: %q decoded as %q, encoding/json %q (%v)", data, f.key, f.str, s, err)
			}
		}
	})
}
