package reference

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// maxJSONDepth bounds the nesting of a token's header or claims.
const maxJSONDepth = 32

// jsonField is one top-level member of a JSON object.
type jsonField struct {
	key  []byte // unescaped
	kind byte   // 's' string, 'n' number, 'o' object, 'a' array, 'b' bool, 'z' null
	str  string // decoded value of a string
	raw  []byte // the value's JSON text, exactly as in the input
}

var errJSON = errors.New("not a valid JSON object")

// parseObject parses data as one JSON object (RFC 8259, strictly) and
// returns its top-level members in order. It rejects invalid UTF-8,
// anything but an object, trailing data, nesting deeper than maxJSONDepth
// and duplicate keys at any level (encoding/json would silently keep the
// last one; keys are compared after unescaping). It is a hand-written
// single-pass scanner: encoding/json's token API costs as much as an RSA
// verification on a typical token.
func parseObject(data []byte, allowDup bool) ([]jsonField, error) {
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%w: invalid UTF-8", errJSON)
	}
	p := parser{data: data, allowDup: allowDup}
	p.ws()
	if p.i >= len(data) || data[p.i] != '{' {
		return nil, fmt.Errorf("%w: top level is not an object", errJSON)
	}
	fields := make([]jsonField, 0, 16)
	var index map[string]struct{}
	p.i++
	p.ws()
	if p.peek() == '}' {
		p.i++
	} else {
		for {
			p.ws()
			key, err := p.key()
			if err != nil {
				return nil, err
			}
			if !allowDup && seen(fields, &index, key) {
				return nil, fmt.Errorf("%w: duplicate key %q", errJSON, key)
			}
			if err := p.colon(); err != nil {
				return nil, err
			}
			start := p.i
			kind, str, err := p.value(1, true)
			if err != nil {
				return nil, err
			}
			fields = append(fields, jsonField{key: key, kind: kind, str: str, raw: data[start:p.i]})
			p.ws()
			c := p.peek()
			p.i++
			if c == '}' {
				break
			}
			if c != ',' {
				return nil, p.fail("expected , or } after a member")
			}
		}
	}
	p.ws()
	if p.i != len(data) {
		return nil, p.fail("trailing data after the object")
	}
	return fields, nil
}

type parser struct {
	data     []byte
	i        int
	allowDup bool
	// sdata is data as a string, made on the first top-level string value:
	// the decoded strings are slices of it (one allocation per object, not
	// one per string).
	sdata string
}

func (p *parser) fail(msg string) error {
	return fmt.Errorf("%w: %s at offset %d", errJSON, msg, p.i)
}

func (p *parser) peek() byte {
	if p.i < len(p.data) {
		return p.data[p.i]
	}
	return 0
}

func (p *parser) ws() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) colon() error {
	p.ws()
	if p.peek() != ':' {
		return p.fail("expected :")
	}
	p.i++
	p.ws()
	return nil
}

// key reads an object key and returns it unescaped (a slice of the input
// when it has no escapes).
func (p *parser) key() ([]byte, error) {
	if p.peek() != '"' {
		return nil, p.fail("expected a string key")
	}
	raw, escaped, err := p.str()
	if err != nil {
		return nil, err
	}
	if !escaped {
		return raw[1 : len(raw)-1], nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("%w: %w", errJSON, err)
	}
	return []byte(s), nil
}

// str scans a string starting at the opening quote; raw includes the quotes.
func (p *parser) str() (raw []byte, escaped bool, err error) {
	start := p.i
	p.i++
	for p.i < len(p.data) {
		c := p.data[p.i]
		switch {
		case c == '"':
			p.i++
			return p.data[start:p.i], escaped, nil
		case c == '\\':
			escaped = true
			p.i++
			switch p.peek() {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i++
			case 'u':
				if p.i+5 > len(p.data) {
					return nil, false, p.fail("short \\u escape")
				}
				for _, h := range p.data[p.i+1 : p.i+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return nil, false, p.fail("bad \\u escape")
					}
				}
				p.i += 5
			default:
				return nil, false, p.fail("bad escape")
			}
		case c < 0x20:
			return nil, false, p.fail("control character in a string")
		default:
			p.i++
		}
	}
	return nil, false, p.fail("unterminated string")
}

// value scans one value. For top-level strings (top) it returns the decoded string.
func (p *parser) value(depth int, top bool) (kind byte, s string, err error) {
	switch c := p.peek(); {
	case c == '{':
		return 'o', "", p.object(depth + 1)
	case c == '[':
		return 'a', "", p.array(depth + 1)
	case c == '"':
		start := p.i
		raw, escaped, err := p.str()
		if err != nil || !top {
			return 's', "", err
		}
		if !escaped {
			if p.sdata == "" {
				p.sdata = string(p.data)
			}
			return 's', p.sdata[start+1 : p.i-1], nil
		}
		var dec string // declared here: only escaped strings pay its allocation
		if err := json.Unmarshal(raw, &dec); err != nil {
			return 0, "", fmt.Errorf("%w: %w", errJSON, err)
		}
		return 's', dec, nil
	case c == '-' || '0' <= c && c <= '9':
		return 'n', "", p.number()
	case c == 't':
		return 'b', "", p.literal("true")
	case c == 'f':
		return 'b', "", p.literal("false")
	case c == 'n':
		return 'z', "", p.literal("null")
	default:
		return 0, "", p.fail("expected a value")
	}
}

func (p *parser) literal(lit string) error {
	if !bytes.HasPrefix(p.data[p.i:], []byte(lit)) {
		return p.fail("bad literal")
	}
	p.i += len(lit)
	return nil
}

// number scans a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *parser) number() error {
	if p.peek() == '-' {
		p.i++
	}
	switch c := p.peek(); {
	case c == '0':
		p.i++
	case '1' <= c && c <= '9':
		p.digits()
	default:
		return p.fail("bad number")
	}
	if p.peek() == '.' {
		p.i++
		if p.digits() == 0 {
			return p.fail("bad fraction")
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.i++
		if c := p.peek(); c == '+' || c == '-' {
			p.i++
		}
		if p.digits() == 0 {
			return p.fail("bad exponent")
		}
	}
	return nil
}

func (p *parser) digits() int {
	n := 0
	for p.i < len(p.data) && '0' <= p.data[p.i] && p.data[p.i] <= '9' {
		p.i++
		n++
	}
	return n
}

func (p *parser) object(depth int) error {
	if empty, err := p.open(depth, '}'); empty || err != nil {
		return err
	}
	var small [linearKeys][]byte
	keys := small[:0]
	var index map[string]struct{}
	for {
		p.ws()
		key, err := p.key()
		if err != nil {
			return err
		}
		if !p.allowDup {
			var dup bool
			if keys, dup = dupKey(keys, &index, key); dup {
				return fmt.Errorf("%w: duplicate key %q", errJSON, key)
			}
		}
		if err := p.colon(); err != nil {
			return err
		}
		if _, _, err := p.value(depth, false); err != nil {
			return err
		}
		if done, err := p.next('}'); done || err != nil {
			return err
		}
	}
}

func (p *parser) array(depth int) error {
	if empty, err := p.open(depth, ']'); empty || err != nil {
		return err
	}
	for {
		p.ws()
		if _, _, err := p.value(depth, false); err != nil {
			return err
		}
		if done, err := p.next(']'); done || err != nil {
			return err
		}
	}
}

// open enters an object or array at depth, skipping its opening byte, and
// reports whether it is empty (its closing byte follows, and is skipped).
func (p *parser) open(depth int, closing byte) (empty bool, err error) {
	if depth > maxJSONDepth {
		return false, p.fail(fmt.Sprintf("nested deeper than %d levels", maxJSONDepth))
	}
	p.i++ // '{' or '['
	p.ws()
	if p.peek() == closing {
		p.i++
		return true, nil
	}
	return false, nil
}

// next reads what follows a member or element: the closing byte (done) or
// a comma; anything else is an error.
func (p *parser) next(closing byte) (done bool, err error) {
	p.ws()
	c := p.peek()
	p.i++
	if c == closing {
		return true, nil
	}
	if c != ',' {
		return false, p.fail("expected , or " + string(closing))
	}
	return false, nil
}

const linearKeys = 16

// dupKey records key among keys (a map beyond linearKeys) and reports
// whether it was there already.
func dupKey(keys [][]byte, index *map[string]struct{}, key []byte) ([][]byte, bool) {
	if *index == nil && len(keys) < linearKeys {
		for _, k := range keys {
			if bytes.Equal(k, key) {
				return keys, true
			}
		}
		return append(keys, key), false
	}
	if *index == nil {
		*index = make(map[string]struct{}, 2*linearKeys)
		for _, k := range keys {
			(*index)[string(k)] = struct{}{}
		}
	}
	if _, ok := (*index)[string(key)]; ok {
		return keys, true
	}
	(*index)[string(key)] = struct{}{}
	return keys, false
}

// seen is dupKey for the top-level fields.
func seen(fields []jsonField, index *map[string]struct{}, key []byte) bool {
	if *index == nil && len(fields) < linearKeys {
		for i := range fields {
			if bytes.Equal(fields[i].key, key) {
				return true
			}
		}
		return false
	}
	if *index == nil {
		*index = make(map[string]struct{}, 2*linearKeys)
		for i := range fields {
			(*index)[string(fields[i].key)] = struct{}{}
		}
	}
	if _, ok := (*index)[string(key)]; ok {
		return true
	}
	(*index)[string(key)] = struct{}{}
	return false
}

func field(fs []jsonField, key string) (*jsonField, bool) {
	for i := range fs {
		if string(fs[i].key) == key {
			return &fs[i], true
		}
	}
	return nil, false
}
