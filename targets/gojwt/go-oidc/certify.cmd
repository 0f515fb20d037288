bin/gojwt go-oidc
