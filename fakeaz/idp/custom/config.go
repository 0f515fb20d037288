package custom

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mcaspec/mcaspec/internal/fileio"
)

// Defaults of the custom IdP simulator.
const (
	// DefaultRealm is the realm of DefaultConfig.
	DefaultRealm = "customRealm"
	// DefaultMessage is the first challenge's message when a realm sets none.
	DefaultMessage = "Enter username and password"
	// DefaultPINMessage is the second challenge's message for users with a PIN.
	DefaultPINMessage = "Enter your PIN"
	// DefaultStateTTL is how long a stateId stays usable.
	DefaultStateTTL = 2 * time.Minute
)

// Config is the simulator's data: realms and their users. It loads from JSON
// (LoadConfig, ParseConfig) with the field names shown in the tags.
type Config struct {
	// Realms maps a realm name (the {realm} path segment) to its users.
	Realms map[string]Realm `json:"realms"`
	// StateTTLSeconds bounds the life of a stateId (0: DefaultStateTTL).
	StateTTLSeconds int `json:"stateTtlSeconds,omitempty"`
}

// Realm is one custom realm.
type Realm struct {
	// Apps, when non-empty, restricts the realm to these app ids; other
	// apps get 404 (a misconfigured AZ).
	Apps []string `json:"apps,omitempty"`
	// Message is the first challenge's "message" (default DefaultMessage).
	Message string `json:"message,omitempty"`
	// PINMessage is the second challenge's "message" (default DefaultPINMessage).
	PINMessage string `json:"pinMessage,omitempty"`
	Users      []User `json:"users"`
}

// User is one account of a realm.
type User struct {
	UserName    string `json:"userName"`
	Password    string `json:"password"`
	DisplayName string `json:"displayName,omitempty"`
	// PIN, when set, adds a second step: after a correct password the IdP
	// answers with a PIN challenge and a stateId, and the answer must be
	// {"pin": PIN} sent with that stateId.
	PIN string `json:"pin,omitempty"`
	// AlwaysFail makes every login of this user fail, even with the right
	// password (an account that is locked or disabled).
	AlwaysFail bool           `json:"alwaysFail,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

// DefaultConfig returns realm "customRealm" with three users:
// alice/alice123 (one step), bob/bob123 then PIN 4321 (two steps), and
// mallory/mallory123 (always fails).
func DefaultConfig() Config {
	return Config{Realms: map[string]Realm{DefaultRealm: {Users: []User{
		{UserName: "alice", Password: "alice123", DisplayName: "Alice Example", Attributes: map[string]any{"email": "alice@example.com", "role": "admin"}},
		{UserName: "bob", Password: "bob123", DisplayName: "Bob Example", PIN: "4321", Attributes: map[string]any{"email": "bob@example.com"}},
		{UserName: "mallory", Password: "mallory123", DisplayName: "Mallory Locked", AlwaysFail: true},
	}}}}
}

// ParseConfig decodes and validates a JSON config.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		return Config{}, fmt.Errorf("custom idp config: invalid JSON: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// LoadConfig reads and validates a JSON config file.
func LoadConfig(path string) (Config, error) {
	data, err := fileio.ReadFile(path, 16<<20)
	if err != nil {
		return Config{}, fmt.Errorf("custom idp config: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ErrConfig is wrapped by every config validation error.
var ErrConfig = errors.New("custom idp config")

// Validate checks that realm and user names are non-empty and unique.
func (c Config) Validate() error {
	if len(c.Realms) == 0 {
		return fmt.Errorf("%w: no realms; add at least one under \"realms\"", ErrConfig)
	}
	if c.StateTTLSeconds < 0 {
		return fmt.Errorf("%w: stateTtlSeconds %d is negative", ErrConfig, c.StateTTLSeconds)
	}
	for name, r := range c.Realms {
		if name == "" {
			return fmt.Errorf("%w: empty realm name", ErrConfig)
		}
		seen := map[string]bool{}
		for i, u := range r.Users {
			if err := u.validate(); err != nil {
				return fmt.Errorf("%w: realm %q user #%d: %w", ErrConfig, name, i, err)
			}
			if seen[u.UserName] {
				return fmt.Errorf("%w: realm %q: user %q appears twice", ErrConfig, name, u.UserName)
			}
			seen[u.UserName] = true
		}
	}
	return nil
}

func (u User) validate() error {
	if u.UserName == "" {
		return errors.New("empty userName")
	}
	return nil
}

func (c Config) stateTTL() time.Duration {
	if c.StateTTLSeconds > 0 {
		return time.Duration(c.StateTTLSeconds) * time.Second
	}
	return DefaultStateTTL
}

// clone deep-copies the realms map and user slices so the server owns them.
func (c Config) clone() Config {
	out := Config{StateTTLSeconds: c.StateTTLSeconds, Realms: make(map[string]Realm, len(c.Realms))}
	for name, r := range c.Realms {
		r.Apps = append([]string(nil), r.Apps...)
		r.Users = append([]User(nil), r.Users...)
		out.Realms[name] = r
	}
	return out
}
