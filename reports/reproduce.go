package reports

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"sort"
	"strings"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// reproView is how to replay a case by hand: curl commands for its
// requests and, when the target had to fetch keys, the fakeaz command
// that serves the same keys at the same URL.
type reproView struct {
	Curl    []string
	FakeAZ  string
	KeysDir string // where FakeAZ's key is, beside the report
	Notes   []string
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// curlCommand is one exchange as a curl command against $TARGET (the
// target's base URL): the method, the path and the request headers as
// recorded.
func curlCommand(x *kit.Exchange, base string) string {
	u := x.URL
	if base != "" && strings.HasPrefix(u, base) {
		u = "${TARGET}" + strings.TrimPrefix(u, base)
	}
	var b strings.Builder
	b.WriteString("curl -i --path-as-is")
	if x.Method != "" && x.Method != "GET" {
		b.WriteString(" -X " + x.Method)
	}
	b.WriteString(` "` + strings.ReplaceAll(u, `"`, `\"`) + `"`)
	names := make([]string, 0, len(x.RequestHeader))
	for k := range x.RequestHeader {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if strings.EqualFold(k, "Host") || strings.EqualFold(k, "User-Agent") || strings.EqualFold(k, "Accept-Encoding") {
			continue
		}
		for _, v := range x.RequestHeader[k] {
			b.WriteString(" \\\n  -H " + shellQuote(k+": "+v))
		}
	}
	return b.String()
}

// buildRepro makes the reproducer of a result of a run against base whose
// AZ keys are in keysDir ("": not kept, no fakeaz command).
func buildRepro(r *conformance.Result, base, keysDir string) *reproView {
	o := r.Observed
	if o == nil || len(o.Exchanges) == 0 {
		return nil
	}
	rv := &reproView{KeysDir: keysDir}
	for i := range o.Exchanges {
		x := &o.Exchanges[i]
		if x.Method == "" || x.URL == "" {
			continue
		}
		if len(rv.Curl) == 6 {
			rv.Notes = append(rv.Notes, fmt.Sprintf("%d more requests not shown (see the exchanges)", len(o.Exchanges)-6))
			break
		}
		rv.Curl = append(rv.Curl, curlCommand(x, base))
	}
	rv.FakeAZ = fakeAZCommand(r, keysDir)
	rv.Notes = append(rv.Notes, "Set TARGET to your service's base URL (this run's: "+base+"). Header whitespace and line folds are shown as curl sends them; the recipe says what was sent byte for byte.")
	if rv.FakeAZ != "" {
		rv.Notes = append(rv.Notes, "The tokens expire (see exp): after that a replay is refused for expiry; mint fresh ones with `mcaspec token`.")
	}
	return rv
}

// fakeAZCommand names the fakeaz that signs like this case's AZ: the key
// of the case's first token (keysDir/<kid>.pem, kid as fakeaz computes
// it), its apps (from the URLs) and its serverUrl (from the token's iss).
func fakeAZCommand(r *conformance.Result, keysDir string) string {
	o := r.Observed
	var kid, iss string
	for _, role := range []string{"access", "id", "service"} {
		tok, ok := o.Tokens[role]
		if !ok {
			continue
		}
		if k := tokenKeyID(tok); k != "" && kid == "" {
			kid = k
		}
		if c, err := tokenfactory.Inspect(tok).Claims(); err == nil && iss == "" {
			iss, _ = c["iss"].(string)
		}
	}
	if !isKeyID(kid) || keysDir == "" {
		return ""
	}
	apps := map[string]bool{}
	var ids []string
	for _, x := range o.Exchanges {
		u, err := url.Parse(x.URL)
		if err != nil {
			continue
		}
		parts := strings.Split(strings.Trim(u.Path, "/"), "/")
		for i := 0; i+1 < len(parts); i++ {
			if parts[i] == "apps" && !apps[parts[i+1]] && parts[i+1] != "" {
				apps[parts[i+1]] = true
				ids = append(ids, parts[i+1])
			}
		}
	}
	type app struct {
		ID       string `json:"id"`
		BundleID string `json:"bundleId"`
	}
	cfg := struct {
		Apps []app `json:"apps"`
	}{}
	for _, id := range ids {
		cfg.Apps = append(cfg.Apps, app{ID: id, BundleID: "com.example.mcaspec"})
	}
	js, _ := json.Marshal(cfg)
	listen := "127.0.0.1:9080"
	if u, err := url.Parse(iss); err == nil && u.Host != "" {
		listen = u.Host
	}
	file := "fakeaz-" + r.ID + ".json"
	return fmt.Sprintf("cat > %s <<'EOF'\n%s\nEOF\nmcaspec fakeaz --listen %s --key %s/%s.pem --config %s",
		file, js, listen, keysDir, kid, file)
}

// tokenKeyID is the kid of the key a token names: its "kid" header, else
// the fakeaz kid of the key in its "jpk" header (MCA tokens carry the
// signer's public key). "" when neither decodes.
func tokenKeyID(tok string) string {
	head, _, ok := strings.Cut(tok, ".")
	if !ok {
		return ""
	}
	raw, err := tokenfactory.DecodeLenient(head)
	if err != nil {
		return ""
	}
	var h struct {
		Kid string `json:"kid"`
		JPK struct {
			Mod string `json:"mod"`
		} `json:"jpk"`
	}
	if json.Unmarshal(raw, &h) != nil {
		return ""
	}
	if h.Kid != "" {
		return h.Kid
	}
	mod, err := tokenfactory.DecodeLenient(h.JPK.Mod)
	if err != nil || len(mod) == 0 {
		return ""
	}
	sum := sha256.Sum256(new(big.Int).SetBytes(mod).Bytes())
	return hex.EncodeToString(sum[:8])
}

// isKeyID accepts the kids fakeaz makes (16 hex digits), so a token's
// header cannot put anything else into the command.
func isKeyID(s string) bool {
	if len(s) != 16 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
