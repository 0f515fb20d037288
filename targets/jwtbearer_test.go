package targets_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/reference"
)

// headerScript runs common/jwtbearer.js's parseBearer on the header values
// read from stdin and prints {access, id} or {status, error} for each.
const headerScript = `
const { parseBearer } = require('./common/jwtbearer.js');
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  process.stdout.write(JSON.stringify(JSON.parse(input).map((h) => parseBearer(h))));
});
`

type parsedHeader struct {
	Access string `json:"access"`
	ID     string `json:"id"`
	Status int    `json:"status"`
	Error  string `json:"error"`
}

// The generic libraries' Node shim splits "Bearer <access> <id>" exactly as
// the reference does (reference.ParseHeader, which the Go shim calls): the
// same tokens, or the same status and error code. So the header cases judge
// the Node and the Go targets alike.
func TestJWTBearerJSHeaderMatchesReference(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	headers := []string{
		"Bearer a.b.c", "Bearer a.b.c d.e.f", "bearer a.b.c", "BEARER\ta\td", "Bearer  a   b", "  Bearer a  ",
		"Bearer a==.b=.c", "Bearer a~+/-_.b", "", "   ", "Basic dTpw", "Token a", "Bearer", "Bearer   ",
		"Bearer a b c", `Bearer "a"`, "Bearer {a", "Bearer a,b", "Bearer aé", "Bearer a\rb", "Bearer a\x00",
		"Bearerx a", "Bearer " + strings.Repeat("a", 17<<10),
	}
	in, _ := json.Marshal(headers)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "-e", headerScript)
	cmd.Dir = "."
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var got []parsedHeader
	if err := json.Unmarshal(out, &got); err != nil || len(got) != len(headers) {
		t.Fatalf("node printed %q: %v", out, err)
	}
	for i, h := range headers {
		var want parsedHeader
		access, id, err := reference.ParseHeader(h)
		var re *reference.Error
		switch {
		case err == nil:
			want = parsedHeader{Access: access, ID: id}
		case errors.As(err, &re):
			want = parsedHeader{Status: re.Status, Error: re.Code}
		default:
			t.Fatalf("ParseHeader(%q): %v is not a *reference.Error", h, err)
		}
		if got[i] != want {
			t.Errorf("header %.40q: jwtbearer.js %+v, reference %+v", h, got[i], want)
		}
	}
}
