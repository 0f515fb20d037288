package fakedevice

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// Realms with a fixed name in the protocol.
const (
	RealmFacebook = "wl_facebookRealm"
	RealmGoogle   = "wl_googleRealm"
)

// Handler answers the challenge of one realm, like the challenge handlers an
// app registers with the SDK. challenge is the realm's object from the
// server's {"challenges": {...}}; the answer is sent back as raw JSON in
// `Authorization: Bearer {"<realm>": <answer>}`.
type Handler interface {
	Answer(ctx context.Context, realm string, challenge json.RawMessage) (json.RawMessage, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, realm string, challenge json.RawMessage) (json.RawMessage, error)

// Answer calls f.
func (f HandlerFunc) Answer(ctx context.Context, realm string, challenge json.RawMessage) (json.RawMessage, error) {
	return f(ctx, realm, challenge)
}

// Credentials answers a custom realm's challenges. By default every
// challenge gets {"username": ..., "password": ...}. For multi-step flows,
// Answers maps a question key to a whole answer: when the challenge object
// has a string field "question", "step", "type" or "message" (looked up in
// that order) whose value is a key of Answers, the answer is Answers[key]
// marshalled as JSON. PIN, when set, answers {"pin": PIN} to a challenge
// whose "message" mentions a PIN (the second step of the custom IdP
// simulator). Step, when set, is consulted first and wins when it returns ok.
type Credentials struct {
	Username, Password string
	Answers            map[string]any
	PIN                string
	Step               func(ctx context.Context, challenge json.RawMessage) (answer any, ok bool, err error)
}

// CustomCredentials returns a handler answering a custom realm's challenge
// with the given username and password.
func CustomCredentials(username, password string) *Credentials {
	return &Credentials{Username: username, Password: password}
}

// WithAnswers adds answers for multi-step flows (question key → answer) and
// returns c.
func (c *Credentials) WithAnswers(m map[string]any) *Credentials {
	c.Answers = m
	return c
}

// WithPIN sets the PIN answered to a PIN challenge and returns c.
func (c *Credentials) WithPIN(pin string) *Credentials {
	c.PIN = pin
	return c
}

// WithStep sets a function consulted before anything else and returns c.
func (c *Credentials) WithStep(f func(ctx context.Context, challenge json.RawMessage) (any, bool, error)) *Credentials {
	c.Step = f
	return c
}

// questionKeys are the challenge fields Credentials looks at, in order, to
// pick an answer from Credentials.Answers.
var questionKeys = [...]string{"question", "step", "type", "message"}

// Answer implements Handler.
func (c *Credentials) Answer(ctx context.Context, realm string, challenge json.RawMessage) (json.RawMessage, error) {
	if c.Step != nil {
		a, ok, err := c.Step(ctx, challenge)
		if err != nil {
			return nil, err
		}
		if ok {
			return marshalAnswer(a)
		}
	}
	var fields map[string]any
	_ = json.Unmarshal(challenge, &fields)
	for _, k := range questionKeys {
		q, _ := fields[k].(string)
		if a, ok := c.Answers[q]; ok && q != "" {
			return marshalAnswer(a)
		}
	}
	if msg, _ := fields["message"].(string); c.PIN != "" && strings.Contains(strings.ToUpper(msg), "PIN") {
		return marshalAnswer(map[string]string{"pin": c.PIN})
	}
	return marshalAnswer(map[string]string{"username": c.Username, "password": c.Password})
}

func marshalAnswer(a any) (json.RawMessage, error) {
	if raw, ok := a.(json.RawMessage); ok {
		return raw, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // the SDKs' JSON writers left <, > and & alone
	if err := enc.Encode(a); err != nil {
		return nil, fmt.Errorf("answer is not JSON-encodable: %w", err)
	}
	return bytes.TrimSpace(buf.Bytes()), nil
}

// TokenFunc returns a provider token for the provider app id the challenge
// names (facebookAppId or gClientId); plug in the IdP simulators here.
type TokenFunc func(ctx context.Context, providerAppID string) (string, error)

// Facebook answers realm wl_facebookRealm with {"accessToken": token}, token
// coming from tokenFunc with the challenge's facebookAppId.
func Facebook(tokenFunc TokenFunc) Handler {
	return providerHandler(tokenFunc, func(c providerChallenge) string { return c.FacebookAppID }, "accessToken")
}

// Google answers realm wl_googleRealm, token coming from tokenFunc with the
// challenge's gClientId: {"idToken": token} on iOS (PlatformIOS) and
// {"accessToken": token} on Android, as the two SDKs did.
func Google(tokenFunc TokenFunc, platform Platform) Handler {
	return providerHandler(tokenFunc, func(c providerChallenge) string { return c.GClientID }, sdkOf(platform).googleField)
}

// providerChallenge holds the provider app ids a Facebook or Google realm's
// challenge names.
type providerChallenge struct {
	FacebookAppID string `json:"facebookAppId"`
	GClientID     string `json:"gClientId"`
}

// providerHandler answers {field: token}, token coming from tokenFunc with
// the provider app id that appID picks from the challenge.
func providerHandler(tokenFunc TokenFunc, appID func(providerChallenge) string, field string) Handler {
	return HandlerFunc(func(ctx context.Context, _ string, challenge json.RawMessage) (json.RawMessage, error) {
		var c providerChallenge
		_ = json.Unmarshal(challenge, &c)
		tok, err := tokenFunc(ctx, appID(c))
		if err != nil {
			return nil, err
		}
		return marshalAnswer(map[string]string{field: tok})
	})
}
