package conformance

//go:generate go run ../internal/gendocs -out ../docs
