// Package e2e holds the end-to-end tests of the whole MCA chain, run in one
// process on loopback: a simulated device (fakedevice) registers and logs in
// at the fake authorization server (fakeaz), answering the challenge of each
// realm kind through the identity-provider simulators (fakeaz/idp/...), then
// calls the reference target (reference/target), which propagates the
// device's header, or its own client-credentials service token, to a second
// reference target of the same app.
//
// The package has no API; it holds tests and the fleet benchmark only. See
// README.md beside this file for what is covered, the benchmark figures and
// how to run the same flow from the command line.
package e2e
