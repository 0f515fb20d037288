package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/internal/fileio"
	"github.com/mcaspec/mcaspec/internal/listen"
)

// adminTokenEnv is the environment variable holding the admin token when no flag gives one.
const adminTokenEnv = "MCASPEC_ADMIN_TOKEN"

// publicURLFromRequest is the --public-url value that derives the serverUrl from each request.
const publicURLFromRequest = "from-request"

// adminTokenFlags are --admin-token and --admin-token-file, shared by fakeaz and idp.
type adminTokenFlags struct{ token, file *string }

func addAdminTokenFlags(fs *flag.FlagSet) adminTokenFlags {
	return adminTokenFlags{
		token: fs.String("admin-token", "", "`secret` the admin API requires as \"Authorization: Bearer <secret>\" (visible in ps: prefer --admin-token-file or $"+adminTokenEnv+")"),
		file:  fs.String("admin-token-file", "", "`file` holding the admin token (surrounding whitespace ignored)"),
	}
}

// resolve returns the admin token from the flags, else $MCASPEC_ADMIN_TOKEN, else "".
func (f adminTokenFlags) resolve() (string, error) {
	switch {
	case *f.token != "" && *f.file != "":
		return "", fmt.Errorf("%w: give --admin-token or --admin-token-file, not both", errUsage)
	case *f.token != "":
		if err := presentable(*f.token); err != nil {
			return "", fmt.Errorf("%w: --admin-token: %w", errUsage, err)
		}
		return *f.token, nil
	case *f.file != "":
		b, err := fileio.ReadFile(*f.file, maxAdminTokenFile)
		if err != nil {
			return "", fmt.Errorf("%w: --admin-token-file: %w", errUsage, err)
		}
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return "", fmt.Errorf("%w: --admin-token-file %s is empty", errUsage, *f.file)
		}
		return tok, nil
	}
	return strings.TrimSpace(os.Getenv(adminTokenEnv)), nil
}

// maxAdminTokenFile caps --admin-token-file (a secret is a line).
const maxAdminTokenFile = 64 << 10

// presentable refuses an admin token a client can never send back: HTTP
// trims the spaces around a header value, and a header cannot carry
// control characters. The token is refused rather than trimmed, so that
// the secret in force is exactly the one the user typed.
func presentable(tok string) error {
	if strings.TrimSpace(tok) != tok {
		return fmt.Errorf("the secret %q starts or ends with white space, which HTTP drops from the Authorization header: no client could present it; remove the spaces", tok)
	}
	for _, r := range tok {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("the secret holds a control character (%q), which an HTTP header cannot carry", r)
		}
	}
	return nil
}

func runFakeAZ(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("fakeaz", "Runs the fake MCA authorization server until interrupted.\n"+
		"AZ endpoints: {serverUrl}/authorization/v1/apps/{appId}/...; admin API (JSON): /admin/ (see fakeaz/README.md).\n"+
		"On a non-loopback --listen address the admin API needs --admin-token (or --admin-token-file, $"+adminTokenEnv+")\n"+
		"or its own loopback listener (--admin-listen).\n\n"+
		"Examples:\n"+
		"  mcaspec fakeaz --listen 127.0.0.1:9080\n"+
		"  mcaspec fakeaz --listen 0.0.0.0:9080 --public-url http://fakeaz.bench.svc:9080/imf-authserver --admin-token-file /run/secrets/admin\n"+
		"  mcaspec fakeaz --listen 0.0.0.0:9080 --public-url from-request --admin-listen 127.0.0.1:9081 --key az.pem", stderr)
	addr := fs.String("listen", fakeaz.DefaultListen, "`host:port` to listen on (127.0.0.1:0 picks a free port; 0.0.0.0:9080 every interface)")
	publicURL := fs.String("public-url", "", "the serverUrl clients use (iss of the tokens), e.g. http://fakeaz.bench.svc:9080/imf-authserver, or \"from-request\" to take it from each request's Host / X-Forwarded-* / Forwarded headers (default: the --listen URL)")
	keyFile := fs.String("key", "", "PEM `file` with the RSA signing key (PKCS#1 or PKCS#8, at least 2048 bits) every app starts with, so several fakeaz processes share one identity")
	writeKey := fs.String("write-key", "", "create a fresh RSA-2048 signing key in `file` (mode 0600; an existing file is not overwritten) and serve with it")
	adminListen := fs.String("admin-listen", "", "serve the admin API on its own `host:port` instead of --listen (e.g. 127.0.0.1:9081)")
	tokenFlags := addAdminTokenFlags(fs)
	config := fs.String("config", "", "JSON `file` with apps to register at start (see fakeaz.Config)")
	codeTTL := fs.Duration("code-lifetime", fakeaz.DefaultCodeLifetime, "lifetime of authorization codes")
	tokenTTL := fs.Duration("token-lifetime", fakeaz.DefaultTokenLifetime, "lifetime of minted tokens")
	quiet := fs.Bool("quiet", false, "do not log one line per request")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := fakeaz.CheckListen(*addr); err != nil {
		return fmt.Errorf("%w: --listen: %w", errUsage, err)
	}
	if *codeTTL <= 0 || *tokenTTL <= 0 {
		return fmt.Errorf("%w: --code-lifetime and --token-lifetime must be positive", errUsage)
	}
	opts := []fakeaz.Option{fakeaz.WithCodeLifetime(*codeTTL), fakeaz.WithTokenLifetime(*tokenTTL)}
	addrOpts, err := addressOptions(*publicURL, *adminListen)
	if err != nil {
		return err
	}
	opts = append(opts, addrOpts...)
	token, err := tokenFlags.resolve()
	if err != nil {
		return err
	}
	if token != "" {
		opts = append(opts, fakeaz.WithAdminToken(token))
	}
	if !*quiet {
		opts = append(opts, fakeaz.WithLogger(slog.New(slog.NewTextHandler(stderr, nil))))
	}
	if *config != "" {
		c, err := fakeaz.LoadConfig(*config)
		if err != nil {
			return fmt.Errorf("%w: --config: %w", errUsage, err)
		}
		opts = append(opts, fakeaz.WithConfig(c))
	}
	keyOpt, err := signingKeyOption(*keyFile, *writeKey, stdout)
	if err != nil {
		return err
	}
	if keyOpt != nil {
		opts = append(opts, keyOpt)
	}
	s, err := fakeaz.New(opts...)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Start(*addr); err != nil {
		if errors.Is(err, fakeaz.ErrListen) || errors.Is(err, fakeaz.ErrAdminExposed) {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		return err
	}
	printFakeAZStart(stdout, stderr, s, *adminListen != "", *publicURL == publicURLFromRequest, token != "")
	<-ctx.Done()
	return s.Close()
}

// addressOptions are the options --public-url and --admin-listen ask for
// (none for flags not given).
func addressOptions(publicURL, adminListen string) ([]fakeaz.Option, error) {
	var opts []fakeaz.Option
	if publicURL != "" {
		o, err := publicURLOption(publicURL)
		if err != nil {
			return nil, err
		}
		opts = append(opts, o)
	}
	if adminListen != "" {
		if err := fakeaz.CheckListen(adminListen); err != nil {
			return nil, fmt.Errorf("%w: --admin-listen: %w", errUsage, err)
		}
		opts = append(opts, fakeaz.WithAdminListen(adminListen))
	}
	return opts, nil
}

// publicURLOption is the option --public-url asks for: the serverUrl from
// each request, or the one given.
func publicURLOption(publicURL string) (fakeaz.Option, error) {
	if publicURL == publicURLFromRequest {
		return fakeaz.WithPublicURLFromRequest(), nil
	}
	u, err := fakeaz.ParsePublicURL(publicURL)
	if err != nil {
		return nil, fmt.Errorf("%w: --public-url: %w (or --public-url %s)", errUsage, err, publicURLFromRequest)
	}
	return fakeaz.WithPublicURL(u), nil
}

// signingKeyOption is the option --key or --write-key asks for (nil for
// neither): an existing key loaded, or a new one written and announced.
func signingKeyOption(keyFile, writeKey string, stdout io.Writer) (fakeaz.Option, error) {
	switch {
	case keyFile != "" && writeKey != "":
		return nil, fmt.Errorf("%w: give --key FILE (an existing key) or --write-key FILE (a new one), not both", errUsage)
	case keyFile != "":
		k, err := fakeaz.LoadKey(keyFile)
		if err != nil {
			return nil, fmt.Errorf("%w: --key: %w", errUsage, err)
		}
		return fakeaz.WithSigningKey(k), nil
	case writeKey != "":
		k, err := fakeaz.WriteKey(writeKey)
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("%w: --write-key: %s exists; use --key %s to serve with it", errUsage, writeKey, writeKey)
		}
		if err != nil {
			return nil, fmt.Errorf("--write-key: %w", err)
		}
		fmt.Fprintf(stdout, "signing key: wrote %s\n", writeKey)
		return fakeaz.WithSigningKey(k), nil
	}
	return nil, nil
}

// printFakeAZStart tells where the started server listens: the exposure
// warnings on stderr, the serverUrl, admin API and apps on stdout.
func printFakeAZStart(stdout, stderr io.Writer, s *fakeaz.Server, adminListen, fromRequest, protectedAdmin bool) {
	if line := listen.Exposure("fakeaz", s.Addr()); line != "" {
		fmt.Fprintln(stderr, line)
	}
	if adminListen {
		if line := listen.Exposure("fakeaz admin API", s.AdminAddr()); line != "" {
			fmt.Fprintln(stderr, line)
		}
	}
	fmt.Fprintf(stdout, "serverUrl: %s\n", s.URL())
	if fromRequest {
		fmt.Fprintln(stdout, "serverUrl of each request: from its Forwarded, X-Forwarded-* or Host headers")
	}
	protected := ""
	if protectedAdmin {
		protected = " (Authorization: Bearer <admin token>)"
	}
	fmt.Fprintf(stdout, "admin API: %s/%s\n", s.AdminURL(), protected)
	for _, a := range s.Apps() {
		fmt.Fprintf(stdout, "app: %s bundle=%q realm=%s\n", a.ID, a.BundleID, realmLabel(a.Realm))
	}
}

func realmLabel(r fakeaz.Realm) string {
	if n := r.RealmName(); n != "" {
		return n
	}
	return "anonymous"
}
