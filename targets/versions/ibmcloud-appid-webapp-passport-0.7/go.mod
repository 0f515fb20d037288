// Not Go code. This go.mod keeps node_modules (some npm packages ship .go
// files) out of the main module's ./... patterns.
module github.com/mcaspec/mcaspec/targets/versions/ibmcloud-appid-webapp-passport-0.7

go 1.26
