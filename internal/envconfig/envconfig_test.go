package envconfig

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

type secretMap map[string]string

func (m secretMap) GetSecret(_ context.Context, id string) (string, error) {
	v, ok := m[id]
	if !ok {
		return "", errors.New("secret not found")
	}
	return v, nil
}

func lookup(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func TestEnvReportsEveryProblem(t *testing.T) {
	e := New(lookup(map[string]string{
		"SLUICE_DRIFT_MODE":     "fix",
		"SLUICE_GITHUB_API_URL": "not a url",
		"SLUICE_TIMEOUT":        "soon",
		"SLUICE_A":              "x",
		"SLUICE_A_SECRET_ID":    "y",
	}), secretMap{})
	e.Required("SLUICE_GIT_URL")
	e.OneOf("SLUICE_DRIFT_MODE", "correct", "correct", "detect")
	e.URL("SLUICE_GITHUB_API_URL", false)
	e.Duration("SLUICE_TIMEOUT", time.Second)
	e.Secret(context.Background(), "SLUICE_A", false)
	e.Secret(context.Background(), "SLUICE_WEBHOOK_SECRET", true)
	err := e.Err()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"SLUICE_GIT_URL is required", `SLUICE_DRIFT_MODE="fix"`, "SLUICE_GITHUB_API_URL", "SLUICE_TIMEOUT", "not both", "SLUICE_WEBHOOK_SECRET or SLUICE_WEBHOOK_SECRET_ID is required"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestSecret(t *testing.T) {
	store := secretMap{"sluice/webhook": "s3cret", "sluice/blank": " "}
	tests := []struct {
		name    string
		vars    map[string]string
		want    string
		wantErr string
	}{
		{name: "direct", vars: map[string]string{"S": "direct"}, want: "direct"},
		{name: "from store", vars: map[string]string{"S_SECRET_ID": "sluice/webhook"}, want: "s3cret"},
		{name: "unknown id", vars: map[string]string{"S_SECRET_ID": "nope"}, wantErr: "secret not found"},
		{name: "blank secret", vars: map[string]string{"S_SECRET_ID": "sluice/blank"}, wantErr: "is empty"},
		{name: "missing", vars: map[string]string{}, wantErr: "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(lookup(tt.vars), store)
			got := e.Secret(context.Background(), "S", true)
			err := e.Err()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Fatal("error leaks the secret")
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Secret = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
