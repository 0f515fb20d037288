bin/gojwt -hardened jwx
