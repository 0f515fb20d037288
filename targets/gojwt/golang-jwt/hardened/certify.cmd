bin/gojwt -hardened golang-jwt
