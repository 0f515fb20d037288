package custom

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/mcaspec/mcaspec/fakeaz/idp"
	"github.com/mcaspec/mcaspec/fakeaz/idp/internal/sim"
)

// Reply statuses.
const (
	StatusChallenge = "challenge"
	StatusSuccess   = "success"
	StatusFailure   = "failure"
)

// Reply is the custom identity provider's answer to both calls.
type Reply struct {
	// Status is "challenge", "success" or "failure".
	Status string `json:"status"`
	// StateID, when set, must be sent back with the answer to Challenge.
	StateID string `json:"stateId,omitempty"`
	// Challenge is what the AZ forwards to the device (status "challenge").
	Challenge json.RawMessage `json:"challenge,omitempty"`
	// UserIdentity is the logged-in user (status "success").
	UserIdentity *idp.Identity `json:"userIdentity,omitempty"`
}

// Client calls a custom identity provider (this package's Server or a real
// one) as the AZ does. BaseURL is the IdP's URL without a trailing path
// (e.g. Server.URL()); HTTP nil means http.DefaultClient.
//
// Errors wrap idp.ErrUnavailable (no answer, 5xx, context ended) or
// idp.ErrProtocol (4xx, or a 200 whose body breaks the contract). A
// "failure" reply is not an error.
type Client struct {
	BaseURL string
	HTTP    *http.Client
}

type startRequest struct {
	Headers map[string]string `json:"headers"`
}

type answerRequest struct {
	Headers         map[string]string `json:"headers"`
	StateID         string            `json:"stateId,omitempty"`
	ChallengeAnswer json.RawMessage   `json:"challengeAnswer"`
}

// StartAuthorization calls POST {BaseURL}/apps/{appID}/{realm}/startAuthorization
// with body {"headers": headers}.
func (c *Client) StartAuthorization(ctx context.Context, appID, realm string, headers map[string]string) (*Reply, error) {
	if headers == nil {
		headers = map[string]string{}
	}
	return c.call(ctx, appID, realm, "startAuthorization", startRequest{Headers: headers})
}

// HandleChallengeAnswer calls POST {BaseURL}/apps/{appID}/{realm}/handleChallengeAnswer
// with body {"headers", "stateId", "challengeAnswer"}; stateID "" is left
// out, a nil answer is sent as null.
func (c *Client) HandleChallengeAnswer(ctx context.Context, appID, realm string, headers map[string]string, stateID string, answer json.RawMessage) (*Reply, error) {
	if headers == nil {
		headers = map[string]string{}
	}
	if len(answer) == 0 {
		answer = json.RawMessage("null")
	}
	return c.call(ctx, appID, realm, "handleChallengeAnswer", answerRequest{Headers: headers, StateID: stateID, ChallengeAnswer: answer})
}

func (c *Client) call(ctx context.Context, appID, realm, op string, body any) (*Reply, error) {
	what := "custom idp " + op
	if appID == "" || realm == "" {
		return nil, fmt.Errorf("%s: empty app id or realm", what)
	}
	if c.BaseURL == "" {
		return nil, fmt.Errorf("%s: Client.BaseURL is empty; set it to the IdP's URL", what)
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("%s: encoding the request: %w", what, err)
	}
	u := strings.TrimRight(c.BaseURL, "/") + "/apps/" + url.PathEscape(appID) + "/" + url.PathEscape(realm) + "/" + op
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("%s: bad BaseURL %q: %w", what, c.BaseURL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	status, raw, err := sim.Call(ctx, c.HTTP, req, what)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("%w: %s: HTTP %d (want 200): %s", idp.ErrProtocol, what, status, sim.Excerpt(raw))
	}
	var r Reply
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("%w: %s: reply is not the contract's JSON object: %w: %s", idp.ErrProtocol, what, err, sim.Excerpt(raw))
	}
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", idp.ErrProtocol, what, err)
	}
	return &r, nil
}

// check enforces the contract on a decoded reply.
func (r *Reply) check() error {
	switch r.Status {
	case StatusChallenge:
		if len(r.Challenge) == 0 || string(r.Challenge) == "null" {
			return fmt.Errorf("status %q without a challenge", r.Status)
		}
	case StatusSuccess:
		if r.UserIdentity == nil || r.UserIdentity.UserName == "" {
			return fmt.Errorf("status %q without userIdentity.userName", r.Status)
		}
	case StatusFailure:
	default:
		return fmt.Errorf("status %q is not one of challenge, success, failure", r.Status)
	}
	return nil
}
