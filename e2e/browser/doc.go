// Package browser checks the HTML reports in a real browser: its tests
// drive headless Chromium (Debian's chromium) with chromedp over a fresh
// bench report and the committed example conformance report
// (docs/example-report.html): no console errors, every chart drawn with
// one series per target, legends present; screenshots go to out/browser/.
// Without Chromium the tests skip, saying so, except in CI (CI=true),
// where a missing Chromium fails them.
package browser
