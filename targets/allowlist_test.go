package targets_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/internal/downstream"
)

// checkScript runs common/contract.js's parseAllowList and checkTo on the
// lists and URLs read from stdin (no connection, no DNS lookup) and prints
// the results as JSON.
const checkScript = `
const c = require('./common/contract.js');
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const { lists, urls } = JSON.parse(input);
  const out = lists.map((l) => {
    let a;
    try {
      a = c.parseAllowList(l);
    } catch (e) {
      return { error: e.message };
    }
    return { text: a.text, ok: urls.map((u) => !c.checkTo(u, a).error) };
  });
  process.stdout.write(JSON.stringify(out));
});
`

// The Node shims check MCA_DOWNSTREAM_HOSTS and to= exactly as the Go
// targets do (internal/downstream): the same lists parse or fail, print the
// same, and allow the same URLs.
func TestContractJSAllowListMatchesGo(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	lists := []string{
		"", " ", "loopback", "LOOPBACK, sink.internal", "sink.internal:9001", "Sink.Internal.:9001",
		"10.0.0.7", "10.0.0.7:80,[fd00::7]:8080", "fd00::9", "::ffff:10.0.0.7", "[::1]", "127.0.0.1:9001",
		"a,,b,", "my_host-1.svc.cluster.local:65535", "localhost:9001",
		// errors
		",", "http://sink:9001", "sink:9001/x", "user@sink", "10.0.0.0/24", "sink:0", "sink:65536", "sink:http",
		"sink:08", "sink:", "[fd00::7", "[sink]:80", "fd00::zz", "0.0.0.0", "[::]:80", "*", "*.example.com",
		".sink", "a..b", "fe80::1%eth0", "10.0.0", "10.0.0.7.", "0.0.0.0.", "sink:+80", "[fd00::7]:",
	}
	urls := []string{
		"http://127.0.0.1:9/x", "http://127.9.8.7/", "http://localhost/", "http://LOCALHOST:1234/", "http://localhost.:9001/",
		"http://[::1]:80/a?b=c", "http://[::ffff:127.0.0.1]/", "http://10.0.0.1/", "http://example.com/", "http://0.0.0.0:9/",
		"http://localhost.example.com/", "http://sink.internal:9001/", "http://SINK.internal.:9001/echo", "http://sink.internal/",
		"http://10.0.0.7/", "http://10.0.0.7:80/", "http://10.0.0.7:1/", "http://[::ffff:10.0.0.7]:80/", "http://[fd00::7]:8080/",
		"http://[fd00::7]/", "http://[fd00::9]:5/", "http://127.0.0.1:9001/", "http://localhost:9001/", "http://a/", "http://b:3/",
		"http://my_host-1.svc.cluster.local:65535/", "", "https://127.0.0.1/", "http://user:pw@127.0.0.1/", "http://user@10.0.0.7/",
		"ftp://127.0.0.1/", "/relative", "::",
	}
	in, err := json.Marshal(map[string]any{"lists": lists, "urls": urls})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "-e", checkScript)
	cmd.Dir = "." // targets/, where common/ is
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var js []struct {
		Error string `json:"error"`
		Text  string `json:"text"`
		OK    []bool `json:"ok"`
	}
	if err := json.Unmarshal(out, &js); err != nil || len(js) != len(lists) {
		t.Fatalf("node output %s: %v", out, err)
	}
	for i, l := range lists {
		a, err := downstream.ParseAllowList(l)
		if (err != nil) != (js[i].Error != "") {
			t.Errorf("list %q: Go error %v, JS error %q", l, err, js[i].Error)
			continue
		}
		if err != nil {
			continue
		}
		if js[i].Text != a.String() {
			t.Errorf("list %q: Go prints %q, JS %q", l, a.String(), js[i].Text)
		}
		for j, u := range urls {
			_, err := a.Check(u)
			if goOK := err == nil; goOK != js[i].OK[j] {
				t.Errorf("list %q, to=%q: Go allows %v, JS %v", l, u, goOK, js[i].OK[j])
			}
		}
	}
}
