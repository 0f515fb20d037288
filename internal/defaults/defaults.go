// Package defaults fills in the unset numeric fields of a configuration:
// the one way the module's Config types apply their Default* values.
package defaults

// Set sets *p to d when *p is zero or negative.
func Set[T ~int | ~int64 | ~float64](p *T, d T) {
	if *p <= 0 {
		*p = d
	}
}
