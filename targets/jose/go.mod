// Not Go code. This go.mod keeps node_modules (some npm packages ship .go
// files) out of the main module's ./... patterns.
module github.com/mcaspec/mcaspec/targets/jose

go 1.26
