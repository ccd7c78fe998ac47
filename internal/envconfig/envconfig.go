// Package envconfig reads a function's configuration from environment
// variables, collecting every missing or malformed one into a single error.
package envconfig

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// SecretGetter fetches a secret's value by id (AWS Secrets Manager in Lambda).
type SecretGetter interface {
	GetSecret(ctx context.Context, id string) (string, error)
}

// Env reads variables and remembers what was wrong with them.
type Env struct {
	lookup  func(string) (string, bool)
	secrets SecretGetter
	errs    []error
}

// New reads from lookup (os.LookupEnv in main), resolving *_SECRET_ID
// variables through secrets, which may be nil when none are used.
func New(lookup func(string) (string, bool), secrets SecretGetter) *Env {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	return &Env{lookup: lookup, secrets: secrets}
}

func (e *Env) get(name string) string {
	v, _ := e.lookup(name)
	return strings.TrimSpace(v)
}

// Has reports whether name is set to a non-blank value.
func (e *Env) Has(name string) bool { return e.get(name) != "" }

// Required returns the value of name, recording an error when it is unset.
func (e *Env) Required(name string) string {
	v := e.get(name)
	if v == "" {
		e.errs = append(e.errs, fmt.Errorf("%s is required", name))
	}
	return v
}

// Optional returns the value of name, or def when it is unset.
func (e *Env) Optional(name, def string) string {
	if v := e.get(name); v != "" {
		return v
	}
	return def
}

// OneOf returns the value of name (def when unset), recording an error when it
// is not one of allowed.
func (e *Env) OneOf(name, def string, allowed ...string) string {
	v := e.Optional(name, def)
	if !slices.Contains(allowed, v) {
		e.errs = append(e.errs, fmt.Errorf("%s=%q is not one of %s", name, v, strings.Join(allowed, ", ")))
	}
	return v
}

// URL returns the value of name, recording an error when it is set but is not
// an absolute URL, or when required and unset.
func (e *Env) URL(name string, required bool) string {
	v := e.get(name)
	if v == "" {
		if required {
			e.errs = append(e.errs, fmt.Errorf("%s is required", name))
		}
		return ""
	}
	if u, err := url.Parse(v); err != nil || u.Scheme == "" || u.Host == "" {
		e.errs = append(e.errs, fmt.Errorf("%s=%q is not an absolute URL", name, v))
	}
	return v
}

// Duration returns the value of name parsed as a Go duration, def when unset.
func (e *Env) Duration(name string, def time.Duration) time.Duration {
	v := e.get(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		e.errs = append(e.errs, fmt.Errorf("%s=%q is not a positive duration such as 30s", name, v))
		return def
	}
	return d
}

// Secret returns a secret given either directly in name or as the id of a
// Secrets Manager secret in SecretIDVar(name). Setting both is an error, so it
// is always clear which one is in force. The value is never part of an error.
func (e *Env) Secret(ctx context.Context, name string, required bool) string {
	direct, idVar := e.get(name), SecretIDVar(name)
	id := e.get(idVar)
	switch {
	case direct != "" && id != "":
		e.errs = append(e.errs, fmt.Errorf("set %s or %s, not both", name, idVar))
		return ""
	case direct != "":
		return direct
	case id == "":
		if required {
			e.errs = append(e.errs, fmt.Errorf("%s or %s is required", name, idVar))
		}
		return ""
	case e.secrets == nil:
		e.errs = append(e.errs, fmt.Errorf("%s is set but no secret store is configured", idVar))
		return ""
	}
	v, err := e.secrets.GetSecret(ctx, id)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s: %w", idVar, err))
		return ""
	}
	if strings.TrimSpace(v) == "" {
		e.errs = append(e.errs, fmt.Errorf("%s: secret %q is empty", idVar, id))
	}
	return v
}

// SecretIDVar names the variable that holds the Secrets Manager id of the
// secret name: SLUICE_GIT_TOKEN → SLUICE_GIT_TOKEN_SECRET_ID, and
// SLUICE_WEBHOOK_SECRET → SLUICE_WEBHOOK_SECRET_ID.
func SecretIDVar(name string) string {
	if strings.HasSuffix(name, "_SECRET") {
		return name + "_ID"
	}
	return name + "_SECRET_ID"
}

// Fail records a problem found by the caller, such as two settings that
// contradict each other.
func (e *Env) Fail(format string, args ...any) {
	e.errs = append(e.errs, fmt.Errorf(format, args...))
}

// Err returns every problem found so far, joined, or nil.
func (e *Env) Err() error {
	if len(e.errs) == 0 {
		return nil
	}
	return fmt.Errorf("configuration: %w", errors.Join(e.errs...))
}
