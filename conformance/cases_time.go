package conformance

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/mcaspec/mcaspec/conformance/kit"
	tf "github.com/mcaspec/mcaspec/tokenfactory"
)

func timeCases() []Case {
	return []Case{
		{ID: "TIM-001", Area: "time", Title: "Expired an hour ago", Rule: "A token whose exp is in the past MUST be refused as invalid_token.",
			Refs: []string{refRFC7519 + " exp", refSeedInvalid}, Expect: must401i, Recipe: kit.Tokens{Access: muts(tf.ExpiredBy(time.Hour))}},
		{ID: "TIM-002", Area: "time", Title: "Expired a year ago", Rule: "A token whose exp is far in the past MUST be refused as invalid_token.",
			Refs: []string{refRFC7519 + " exp", refSeedInvalid}, Expect: must401i, Recipe: kit.Tokens{Access: muts(tf.ExpiredBy(365 * 24 * time.Hour))}},
		{ID: "TIM-003", Area: "time", Title: "exp equal to now", Rule: "The current time MUST be before exp (RFC 7519 §4.1.4): exp == now is expired (a clock leeway makes this a SHOULD in mca).",
			Refs: []string{"RFC 7519 §4.1.4"}, Expect: split(exp(Should, kit.InvalidToken), exp(Must, kit.InvalidToken)), Recipe: kit.Tokens{Access: muts(tf.ExpiresIn(0))}},
		{ID: "TIM-004", Area: "time", Title: "No exp claim", Rule: "An access token without exp never dies when stolen: it MUST be refused (RFC 9068 §4); SHOULD in mca.",
			Refs: []string{refRFC9068, refSeedVerify}, Expect: split(exp(Should, kit.InvalidToken), exp(Must, kit.InvalidToken)), Recipe: kit.Tokens{Access: muts(tf.NoExp())}},
		{ID: "TIM-005", Area: "time", Title: "nbf an hour in the future", Rule: "A token MUST NOT be accepted before its nbf (RFC 7519 §4.1.5) in strict; recorded in mca.",
			Refs: []string{"RFC 7519 §4.1.5"}, Expect: split(exp(Info, kit.Observed), exp(Must, kit.InvalidToken)), Recipe: kit.Tokens{Access: muts(tf.NotYetValid(time.Hour))}},
		{ID: "TIM-006", Area: "time", Title: "iat an hour in the future", Rule: "A token issued in the future is suspicious; what the target does is recorded.",
			Refs: []string{"RFC 7519 §4.1.6"}, Expect: same(Info, kit.Observed), Recipe: kit.Tokens{Access: muts(tf.IssuedIn(time.Hour))}},
		{ID: "TIM-007", Area: "time", Title: "Clock leeway, measured", Rule: "The target's tolerance for expired tokens is measured, not assumed: tokens expired by 1 s to 5 min are sent and the largest accepted is reported.",
			Refs: []string{"RFC 7519 §4.1.4 (small leeway)"}, Expect: same(Info, kit.Observed), Recipe: leewayRecipe()},
		{ID: "TIM-008", Area: "time", Title: "A cached valid token is refused once it expires", Rule: "A token accepted (and cached) while valid MUST be refused once its exp passes: a cache TTL never outlives exp.",
			Refs: []string{refSeedCache, "RFC 7519 §4.1.4"}, Expect: must401i, Recipe: cachedExpiryRecipe()},
		{ID: "TIM-009", Area: "time", Title: "An expired id token with a valid access token", Rule: "The id token's exp is checked like the access token's: an expired id token MUST be refused as invalid_token.",
			Refs: []string{refSeedInvalid, "OIDC Core §3.1.3.7 (10)"}, Expect: must401i, Recipe: kit.Tokens{ID: muts(tf.ExpiredBy(time.Hour))}},
		{ID: "TIM-010", Area: "time", Title: "exp written as 1.7e9", Rule: "exp is a JSON number; in exponent notation (1.7e9, November 2023) it is still a NumericDate in the past: the token MUST be refused as invalid_token, never read as having no exp.",
			Refs: []string{"RFC 7519 §2 (NumericDate)", "RFC 8259 §6 (numbers)", refSeedVerify}, Expect: must401i, Recipe: kit.Tokens{Access: muts(tf.ClaimLiteral("exp", tf.ExpExponentLiteral))}},
		{ID: "TIM-011", Area: "time", Title: "exp with a fraction, an hour ago", Rule: "A NumericDate may hold a fraction (RFC 7519 §2); an expired exp written with one (…634.5) MUST be refused as invalid_token, never read as having no exp.",
			Refs: []string{"RFC 7519 §2 (NumericDate)", refSeedVerify}, Expect: must401i, Recipe: kit.Tokens{Access: muts(tf.ExpFloat(-time.Hour))}},
		{ID: "TIM-012", Area: "time", Title: "exp beyond int64", Rule: "An exp of 2^63 seconds overflows an int64 (wrapping to the past or saturating) and names a token that never expires: it MUST be refused (strict, as a missing exp is); SHOULD in mca.",
			Refs: []string{"RFC 7519 §2 (NumericDate)", refRFC9068}, Expect: split(exp(Should, kit.InvalidToken), exp(Must, kit.InvalidToken)), Recipe: kit.Tokens{Access: muts(tf.ClaimLiteral("exp", tf.ExpBeyondInt64Literal))}},
	}
}

func leewayRecipe() kit.Recipe {
	steps := []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute}
	return kit.Procedure{Doc: "access tokens expired by 1s, 2s, 5s, 15s, 30s, 1m, 2m, 5m", Fn: func(ctx context.Context, e *kit.Env) error {
		app, err := e.NewApp(ctx)
		if err != nil {
			return err
		}
		obs := e.Observation()
		largest := time.Duration(0)
		for _, d := range steps {
			p, err := app.Mint(true, muts(tf.ExpiredBy(d)), nil)
			if err != nil {
				return err
			}
			x := e.Protected(ctx, "expired by "+d.String(), app.ID, p.Header())
			if x.Status == http.StatusOK {
				largest = d
			}
		}
		if largest == 0 {
			obs.Fact("leeway", "none: a token expired by 1s is refused")
		} else {
			obs.Fact("leeway", "at least %s (a token expired by %s was accepted)", largest, largest)
		}
		i := 0
		obs.JudgedIndex = &i
		return nil
	}}
}

func cachedExpiryRecipe() kit.Recipe {
	return kit.Procedure{Doc: "a token valid for 2 more seconds is accepted, then sent again 1 s after its exp; a never-seen token expired by 1 s is the control",
		Fn: func(ctx context.Context, e *kit.Env) error {
			app, err := e.NewApp(ctx)
			if err != nil {
				return err
			}
			p, err := app.Mint(true, muts(tf.ExpiresIn(2*time.Second)), nil)
			if err != nil {
				return err
			}
			obs := e.Observation()
			obs.Want = p.Want
			obs.Token("access", p.Access)
			if !e.ExpectAccepted(ctx, "while valid", app.ID, p) {
				return nil
			}
			expAt, err := claimTime(p.Access, "exp")
			if err != nil {
				return err
			}
			if err := kit.SleepUntil(ctx, expAt.Add(1100*time.Millisecond)); err != nil {
				return err
			}
			ctl, err := app.Mint(true, muts(tf.ExpiredBy(time.Second)), nil)
			if err != nil {
				return err
			}
			if x := e.Protected(ctx, "control: never-seen token expired by 1s", app.ID, ctl.Header()); x.Status == http.StatusOK {
				return Skip("the target accepts a never-seen token expired by 1 s (clock leeway), so its cache TTL cannot be told apart; see TIM-007")
			}
			e.Protected(ctx, "same token after exp", app.ID, p.Header())
			return nil
		}}
}

func claimTime(tok, name string) (time.Time, error) {
	c, err := Claims(tok)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %w", kit.ErrSetup, err)
	}
	v, ok := c[name].(float64)
	if !ok {
		return time.Time{}, fmt.Errorf("%w: no numeric %s", kit.ErrSetup, name)
	}
	return time.Unix(int64(v), 0), nil
}
