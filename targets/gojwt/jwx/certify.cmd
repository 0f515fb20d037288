bin/gojwt jwx
