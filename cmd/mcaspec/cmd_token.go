package main

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mcaspec/mcaspec/internal/fileio"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

func runToken(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("token", `Mints an MCA access token and id token signed RS256, as the authorization server
does, optionally broken by named mutations (see --list). Prints the Authorization
header value ("Bearer <access> <id>") unless --kind or --decode says otherwise.

Examples:
  mcaspec token --app-id 7c1f5a4e-0b6d-4e8a-9a53-1d2f3e4a5b6c --write-key az.pem
  mcaspec token --key az.pem --app-id ... --mutate expired-by/1h0m0s --kind access
  mcaspec token --list`, stderr)
	var (
		keyFile     = fs.String("key", "", "PEM RSA private key to sign with (PKCS#1 or PKCS#8); default: a fresh key")
		writeKey    = fs.String("write-key", "", "write the signing key (PKCS#1 PEM, mode 0600) to this new file, to reuse with --key (an existing file is kept unless --force)")
		force       = fs.Bool("force", false, "let --write-key replace an existing file")
		appID       = fs.String("app-id", "", "app id (the aud claim); required unless --list")
		clientID    = fs.String("client-id", "mcaspec-client", "client id (prn, and the end of sub)")
		issuer      = fs.String("issuer", tokenfactory.DefaultIssuer, "iss claim (fakeaz uses its serverUrl)")
		lifetime    = fs.Duration("lifetime", tokenfactory.DefaultLifetime, "exp - iat")
		kind        = fs.String("kind", "header", "what to print: header, access, id")
		userID      = fs.String("user", "", "user id for imf.user (empty: anonymous id token)")
		realm       = fs.String("realm", "customRealm", "imf.user.authBy when --user is set")
		noJPK       = fs.Bool("no-jpk", false, "leave the jpk header out")
		decode      = fs.Bool("decode", false, "print header and claims of each token as JSON instead")
		list        = fs.Bool("list", false, "list the named mutations and exit")
		publicKey   = fs.Bool("public-key", false, "print the publickey endpoint body ({kty,n,e}) of the signing key and exit")
		mutateNames listFlag
	)
	fs.Var(&mutateNames, "mutate", "apply a named mutation to the access token (repeatable; see --list)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	key, err := signingKey(*keyFile, *writeKey, *force)
	if err != nil {
		return err
	}
	attacker, err := tokenfactory.GenerateKey(0, nil)
	if err != nil {
		return err
	}
	all, err := tokenfactory.All(tokenfactory.Params{Attacker: attacker})
	if err != nil {
		return err
	}
	if *list {
		for _, m := range all {
			fmt.Fprintf(stdout, "%-40s %s\n", m.Name, m.Doc)
		}
		return nil
	}
	if *publicKey {
		return json.NewEncoder(stdout).Encode(tokenfactory.NewPublicKeyJSON(&key.PublicKey))
	}
	if *appID == "" {
		return fmt.Errorf("%w: --app-id is required (the app id the target expects in aud)", errUsage)
	}
	muts, err := findMutations(all, mutateNames)
	if err != nil {
		return err
	}
	access, id, err := mintPair(key, tokenSpec{issuer: *issuer, lifetime: *lifetime, jpk: !*noJPK,
		appID: *appID, clientID: *clientID, userID: *userID, realm: *realm}, muts)
	if err != nil {
		return err
	}
	return printTokens(stdout, *kind, *decode, access, id)
}

// signingKey reads the key in keyFile (or makes a fresh one) and, when
// writeKey is set, writes it there: a new file unless force.
func signingKey(keyFile, writeKey string, force bool) (*rsa.PrivateKey, error) {
	var key *rsa.PrivateKey
	var err error
	if writeKey != "" {
		if err := checkNewKeyFile(writeKey, keyFile, force); err != nil {
			return nil, err
		}
	}
	if keyFile != "" {
		if key, err = readPrivateKey(keyFile); err != nil {
			return nil, err
		}
	} else if key, err = tokenfactory.GenerateKey(0, nil); err != nil {
		return nil, err
	}
	if writeKey != "" {
		b := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
		write := fileio.CreateExclusive
		if force {
			write = fileio.WriteFile // atomic rename: replaces a symlink, never writes through it
		}
		if err := write(writeKey, b, 0o600); err != nil {
			if errors.Is(err, fileio.ErrExists) {
				return nil, fmt.Errorf("%w: --write-key %s exists (or is a link): it is kept; add --force to replace it", errUsage, writeKey)
			}
			return nil, fmt.Errorf("write key: %w", err)
		}
	}
	return key, nil
}

// findMutations looks up the named mutations in all.
func findMutations(all []tokenfactory.Mutation, names []string) ([]tokenfactory.Mutation, error) {
	var muts []tokenfactory.Mutation
	for _, n := range names {
		m, ok := tokenfactory.Find(all, n)
		if !ok {
			return nil, fmt.Errorf("%w: unknown mutation %q (mcaspec token --list shows them)", errUsage, n)
		}
		muts = append(muts, m)
	}
	return muts, nil
}

// tokenSpec is what the token command's flags say about the two tokens.
type tokenSpec struct {
	issuer                         string
	lifetime                       time.Duration
	jpk                            bool
	appID, clientID, userID, realm string
}

// mintPair mints the access token (with muts applied) and the id token.
func mintPair(key *rsa.PrivateKey, sp tokenSpec, muts []tokenfactory.Mutation) (string, string, error) {
	f, err := tokenfactory.New(key, tokenfactory.WithIssuer(sp.issuer), tokenfactory.WithLifetime(sp.lifetime), tokenfactory.WithJPK(sp.jpk))
	if err != nil {
		return "", "", err
	}
	access, err := f.AccessToken(tokenfactory.Access{AppID: sp.appID, ClientID: sp.clientID}, muts...)
	if err != nil {
		return "", "", err
	}
	idSpec := tokenfactory.ID{AppID: sp.appID, ClientID: sp.clientID,
		Device:      tokenfactory.Device{ID: "mcaspec-device", Platform: "iOSnative", Model: "iPhone", OSVersion: "17.0"},
		Application: tokenfactory.Application{ID: "com.example.mcaspec", Version: "1.0"}}
	if sp.userID != "" {
		idSpec.User = &tokenfactory.User{ID: sp.userID, AuthBy: sp.realm, DisplayName: sp.userID}
	}
	id, err := f.IDToken(idSpec)
	if err != nil {
		return "", "", err
	}
	return access, id, nil
}

// printTokens prints the tokens --kind asks for, decoded if --decode.
func printTokens(stdout io.Writer, kind string, decode bool, access, id string) error {
	var toks []string
	switch kind {
	case "header":
		if !decode {
			fmt.Fprintf(stdout, "Bearer %s %s\n", access, id)
			return nil
		}
		toks = []string{access, id}
	case "access":
		toks = []string{access}
	case "id":
		toks = []string{id}
	default:
		return fmt.Errorf("%w: --kind must be header, access or id, not %q", errUsage, kind)
	}
	for _, t := range toks {
		if decode {
			fmt.Fprintln(stdout, decodeToken(t))
		} else {
			fmt.Fprintln(stdout, t)
		}
	}
	return nil
}

// decodeToken renders a compact JWS's header and payload as JSON for people,
// tolerating broken tokens.
func decodeToken(tok string) string {
	in := tokenfactory.Inspect(tok)
	out := map[string]any{"segments": in.Segments}
	for name, p := range map[string]tokenfactory.Part{"header": in.Header, "payload": in.Payload} {
		var v any
		switch {
		case !p.Present():
		case p.Err != nil:
			out[name] = "not base64: " + p.Raw
		case json.Unmarshal(p.Bytes, &v) != nil:
			out[name] = "not JSON: " + string(p.Bytes)
		default:
			out[name] = v
		}
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	return string(b)
}

// maxKeyFile caps a PEM key file read (an RSA-16384 key is under 13 KiB).
const maxKeyFile = 1 << 20

// checkNewKeyFile refuses, before a key is made, a --write-key that would
// replace an existing file (without --force), that is the --key being
// read, or whose folder does not exist.
func checkNewKeyFile(path, readFrom string, force bool) error {
	if err := fileio.CheckDir(path); err != nil {
		return fmt.Errorf("%w: --write-key: %w", errUsage, err)
	}
	if readFrom != "" && fileio.Same(path, readFrom) {
		return fmt.Errorf("%w: --write-key %s is the --key being read: it already holds the key", errUsage, path)
	}
	if _, err := os.Lstat(path); err == nil && !force {
		return fmt.Errorf("%w: --write-key %s exists: it is kept; add --force to replace it", errUsage, path)
	}
	return nil
}

func readPrivateKey(path string) (*rsa.PrivateKey, error) {
	b, err := fileio.ReadFile(path, maxKeyFile)
	if err != nil {
		return nil, fmt.Errorf("%w: read key: %w", errUsage, err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%w: %s holds no PEM block (want an RSA private key)", errUsage, path)
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not an RSA private key: %w", errUsage, path, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: %s holds a %T, want an RSA key", errUsage, path, k)
	}
	return rk, nil
}
