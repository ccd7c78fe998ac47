package configrepo

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluice-gitops/sluice/internal/envconfig"
)

func TestLoad(t *testing.T) {
	const url = "https://github.com/mamezou-tech/task-tool-cluster-config"
	tests := []struct {
		name    string
		env     map[string]string
		remote  bool
		want    Repository
		wantErr []string
	}{
		{name: "default branch", env: map[string]string{EnvURL: url, EnvConfigPath: "clusters/prod"},
			want: Repository{URL: url, Branch: "main", ConfigPath: "clusters/prod"}},
		{name: "branch set", env: map[string]string{EnvURL: url, EnvBranch: "prod", EnvConfigPath: "clusters/prod"},
			want: Repository{URL: url, Branch: "prod", ConfigPath: "clusters/prod"}},
		{name: "remote only needs no path", remote: true, env: map[string]string{EnvURL: url},
			want: Repository{URL: url, Branch: "main"}},
		{name: "nothing set", env: map[string]string{},
			wantErr: []string{"SLUICE_GIT_URL is required", "SLUICE_CONFIG_PATH is required"}},
		{name: "not a repository", env: map[string]string{EnvURL: "ftp://example.com/r", EnvConfigPath: "c"},
			wantErr: []string{`SLUICE_GIT_URL: repository URL "ftp://example.com/r": unsupported scheme "ftp"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := envconfig.New(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }, nil)
			var got Repository
			if tt.remote {
				got = LoadRemote(env)
			} else {
				got = Load(env)
			}
			err := env.Err()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("Repository (-want +got):\n%s", diff)
				}
				return
			}
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v does not say %q", err, w)
				}
			}
		})
	}
}

// TestCredentialsInURLStayHidden: a token written into SLUICE_GIT_URL is in
// no configuration error, log line or identity.
func TestCredentialsInURLStayHidden(t *testing.T) {
	const secret = "ghp_s3cret"
	for _, url := range []string{
		"https://x-access-token:" + secret + "@github.com/o/r",
		"https://" + secret + "@github.com/o/r",
		"ftp://u:" + secret + "@github.com/o/r",       // refused: scheme
		"https://u:" + secret + "@github.com:bad/o/r", // refused: does not parse
	} {
		env := envconfig.New(func(k string) (string, bool) {
			v, ok := map[string]string{EnvURL: url, EnvConfigPath: "c"}[k]
			return v, ok
		}, nil)
		r := Load(env)
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("ready", "repo", r)
		for what, s := range map[string]string{"log line": buf.String(), "ID": r.ID(), "Source": r.Source()} {
			if strings.Contains(s, secret) {
				t.Errorf("%s: %s shows the token: %s", url, what, s)
			}
		}
		if err := env.Err(); err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error shows the token: %v", url, err)
		}
		if !strings.Contains(buf.String(), "github.com") {
			t.Errorf("log line does not name the host: %s", buf.String())
		}
	}
}
