package webhook

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluice-gitops/sluice/internal/configrepo"
	"github.com/sluice-gitops/sluice/internal/envconfig"
)

// secretStore is a SecretGetter holding secrets by id.
type secretStore map[string]string

func (s secretStore) GetSecret(_ context.Context, id string) (string, error) {
	v, ok := s[id]
	if !ok {
		return "", errors.New("secret not found")
	}
	return v, nil
}

func TestLoadConfig(t *testing.T) {
	full := map[string]string{
		"SLUICE_GIT_URL":             fixtureURL,
		"SLUICE_WEBHOOK_SECRET":      testSecret,
		"SLUICE_RECONCILE_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/111122223333/sluice-reconcile.fifo",
	}
	with := func(changes map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range full {
			m[k] = v
		}
		for k, v := range changes {
			if v == "" {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr []string
	}{
		{
			name: "direct secret, default branch",
			env:  full,
			want: Config{Repo: configrepo.Repository{URL: fixtureURL, Branch: "main"}, Secret: testSecret, QueueURL: full["SLUICE_RECONCILE_QUEUE_URL"]},
		},
		{
			name: "secret from Secrets Manager, branch set",
			env:  with(map[string]string{"SLUICE_WEBHOOK_SECRET": "", "SLUICE_WEBHOOK_SECRET_ID": "sluice/webhook", "SLUICE_GIT_BRANCH": "prod"}),
			want: Config{Repo: configrepo.Repository{URL: fixtureURL, Branch: "prod"}, Secret: "from-secrets-manager", QueueURL: full["SLUICE_RECONCILE_QUEUE_URL"]},
		},
		{
			name:    "nothing set: every variable named",
			env:     map[string]string{},
			wantErr: []string{"SLUICE_GIT_URL is required", "SLUICE_WEBHOOK_SECRET or SLUICE_WEBHOOK_SECRET_ID is required", "SLUICE_RECONCILE_QUEUE_URL is required"},
		},
		{
			name:    "invalid values",
			env:     with(map[string]string{"SLUICE_GIT_URL": "ftp://example.com/r", "SLUICE_RECONCILE_QUEUE_URL": "sluice-reconcile.fifo"}),
			wantErr: []string{"SLUICE_GIT_URL: ", `unsupported scheme "ftp"`, "SLUICE_RECONCILE_QUEUE_URL=\"sluice-reconcile.fifo\" is not an absolute URL"},
		},
		{
			name:    "missing secret id",
			env:     with(map[string]string{"SLUICE_WEBHOOK_SECRET": "", "SLUICE_WEBHOOK_SECRET_ID": "nope"}),
			wantErr: []string{"SLUICE_WEBHOOK_SECRET_ID: secret not found"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			env := envconfig.New(lookup, secretStore{"sluice/webhook": "from-secrets-manager"})
			got, err := LoadConfig(context.Background(), env)
			if len(tt.wantErr) == 0 && err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			for _, want := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error %v does not say %q", err, want)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigLogValueHidesSecret(t *testing.T) {
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("config", "config", Config{Repo: configrepo.Repository{URL: fixtureURL, Branch: "main"}, Secret: testSecret})
	if strings.Contains(b.String(), testSecret) || !strings.Contains(b.String(), fixtureURL) {
		t.Errorf("log line = %q", b.String())
	}
	b.Reset()
	withToken := strings.Replace(fixtureURL, "https://", "https://x-access-token:ghp_inurl@", 1)
	slog.New(slog.NewTextHandler(&b, nil)).Info("config", "config", Config{Repo: configrepo.Repository{URL: withToken, Branch: "main"}, Secret: testSecret})
	if strings.Contains(b.String(), "ghp_inurl") || withToken == fixtureURL {
		t.Errorf("log line with a token in the URL = %q", b.String())
	}
}
