bin/gojwt -hardened go-oidc
