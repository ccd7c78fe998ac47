package imageupdate

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluice-gitops/sluice/internal/envconfig"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
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
	const url = "ssh://git@github.com/mamezou-tech/task-tool-cluster-config"
	const httpsURL = "https://github.com/mamezou-tech/task-tool-cluster-config"
	repo := Repository{URL: url, Branch: "main", ConfigPath: "clusters/prod"}
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr []string
	}{
		{
			name: "ssh key with known_hosts, default branch",
			env:  map[string]string{"SLUICE_GIT_URL": url, "SLUICE_CONFIG_PATH": "clusters/prod", "SLUICE_GIT_SSH_KEY": "KEY", "SLUICE_GIT_KNOWN_HOSTS": "github.com ssh-ed25519 AAAA"},
			want: Config{Repo: repo, Git: gitrepo.Credentials{SSHKey: []byte("KEY"), KnownHosts: []byte("github.com ssh-ed25519 AAAA")}},
		},
		{
			name: "token from Secrets Manager, branch set",
			env:  map[string]string{"SLUICE_GIT_URL": httpsURL, "SLUICE_CONFIG_PATH": "clusters/prod", "SLUICE_GIT_BRANCH": "prod", "SLUICE_GIT_TOKEN_SECRET_ID": "sluice/git"},
			want: Config{Repo: Repository{URL: httpsURL, Branch: "prod", ConfigPath: "clusters/prod"}, Git: gitrepo.Credentials{Password: "ghp_fromsm"}},
		},
		{
			name: "anonymous",
			env:  map[string]string{"SLUICE_GIT_URL": httpsURL, "SLUICE_CONFIG_PATH": "clusters/prod"},
			want: Config{Repo: Repository{URL: httpsURL, Branch: "main", ConfigPath: "clusters/prod"}},
		},
		{
			name:    "everything missing at once",
			env:     map[string]string{"SLUICE_GIT_SSH_KEY": "KEY"},
			wantErr: []string{"SLUICE_GIT_URL is required", "SLUICE_CONFIG_PATH is required", "SLUICE_GIT_KNOWN_HOSTS is required"},
		},
		{
			name:    "token and key",
			env:     map[string]string{"SLUICE_GIT_URL": url, "SLUICE_CONFIG_PATH": "c", "SLUICE_GIT_TOKEN": "t", "SLUICE_GIT_SSH_KEY": "k", "SLUICE_GIT_KNOWN_HOSTS": "h"},
			wantErr: []string{"set SLUICE_GIT_TOKEN or SLUICE_GIT_SSH_KEY, not both"},
		},
		{
			name:    "not a repository URL",
			env:     map[string]string{"SLUICE_GIT_URL": "ftp://example.com/r", "SLUICE_CONFIG_PATH": "c"},
			wantErr: []string{`SLUICE_GIT_URL: repository URL "ftp://example.com/r": unsupported scheme "ftp"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			got, err := LoadConfig(context.Background(), envconfig.New(lookup, secretStore{"sluice/git": "ghp_fromsm"}))
			if len(tt.wantErr) > 0 {
				for _, w := range tt.wantErr {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Errorf("error %v; want it to say %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigLogValueHidesCredentials(t *testing.T) {
	var buf bytes.Buffer
	cfg := Config{Repo: Repository{URL: "https://github.com/o/r", Branch: "main", ConfigPath: "c"}, Git: gitrepo.Credentials{Password: "ghp_secret"}}
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("ready", "config", cfg)
	if strings.Contains(buf.String(), "ghp_secret") || !strings.Contains(buf.String(), `"gitAuth":"https token"`) {
		t.Errorf("log line %s", buf.String())
	}
	buf.Reset()
	cfg = Config{Repo: Repository{URL: "https://x-access-token:ghp_inurl@github.com/o/r", Branch: "main", ConfigPath: "c"}}
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("ready", "config", cfg)
	if strings.Contains(buf.String(), "ghp_inurl") || !strings.Contains(buf.String(), "github.com/o/r") {
		t.Errorf("log line with a token in the URL: %s", buf.String())
	}
}
