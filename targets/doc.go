// Package targets holds the Node.js targets that wrap real npm validation
// strategies behind the target contract (docs/TARGET-CONTRACT.md), one folder
// each (see README.md), and a Go test that runs them against fakeaz. The test
// skips a target whose node_modules are not installed
// (npm ci --prefix targets/<name>). The launcher is in targets/launch.
package targets
