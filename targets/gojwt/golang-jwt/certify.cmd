bin/gojwt golang-jwt
