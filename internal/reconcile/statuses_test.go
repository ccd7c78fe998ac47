package reconcile

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/sluice-gitops/sluice/internal/envconfig"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/gittest"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/kubetest"
	"github.com/sluice-gitops/sluice/internal/queue"
)

// TestStatusToken: the Git token sets commit statuses only on the GitHub
// whose Git host it is for; SLUICE_GITHUB_TOKEN is used wherever it is given.
func TestStatusToken(t *testing.T) {
	tests := []struct {
		name, gitURL, apiURL, githubToken, gitToken string
		want, why                                   string
	}{
		{name: "github.com", gitURL: "https://github.com/o/r", gitToken: "git", want: "git"},
		{name: "github.com, API given", gitURL: "https://GitHub.com/o/r.git", apiURL: "https://api.github.com/", gitToken: "git", want: "git"},
		{name: "GitHub Enterprise Server", gitURL: "https://ghe.example.com/o/r", apiURL: "https://ghe.example.com/api/v3", gitToken: "git", want: "git"},
		{name: "GHE.com", gitURL: "https://acme.ghe.com/o/r", apiURL: "https://api.acme.ghe.com", gitToken: "git", want: "git"},
		{name: "GitLab", gitURL: "https://gitlab.com/g/r", gitToken: "git", why: "the Git token is for gitlab.com, and the GitHub API is api.github.com"},
		{name: "CodeCommit", gitURL: "https://git-codecommit.us-east-1.amazonaws.com/v1/repos/r", gitToken: "git", why: "git-codecommit.us-east-1.amazonaws.com"},
		{name: "Enterprise API, github.com remote", gitURL: "https://github.com/o/r", apiURL: "https://ghe.example.com/api/v3", gitToken: "git", why: "is ghe.example.com"},
		{name: "a look-alike host", gitURL: "https://evilgithub.com/o/r", gitToken: "git", why: "evilgithub.com"},
		{name: "GitLab with a GitHub token", gitURL: "https://gitlab.com/g/r", githubToken: "gh", gitToken: "git", want: "gh"},
		{name: "no token", gitURL: "https://github.com/o/r", why: "no token"},
		{name: "ssh", gitURL: "ssh://git@github.com/o/r", why: "no token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := statusToken(tt.gitURL, tt.apiURL, tt.githubToken, tt.gitToken)
			if got != tt.want {
				t.Errorf("token = %q, want %q", got, tt.want)
			}
			if (why == "") != (tt.why == "") || !strings.Contains(why, tt.why) {
				t.Errorf("why = %q, want it to say %q", why, tt.why)
			}
		})
	}
}

// statusStandIn is the GitHub REST API's commit statuses, recording the
// Authorization header of every request it gets.
type statusStandIn struct {
	srv  *httptest.Server
	mu   sync.Mutex
	auth []string
}

func newStatusStandIn(t *testing.T) *statusStandIn {
	s := &statusStandIn{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.auth = append(s.auth, r.Header.Get("Authorization"))
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"id":1,"state":"success"}`))
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *statusStandIn) authorizations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auth...)
}

// TestGitTokenStaysWithItsHost runs a reconcile configured as the function
// is (LoadConfig, NewStatuses) against a Git server whose host is not the
// GitHub API's: the GitHub stand-in gets no request carrying the Git token.
// The same setup on the API's host does send it, so the check can fail.
func TestGitTokenStaysWithItsHost(t *testing.T) {
	srv, err := gittest.Start("x-access-token", "t0ken")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	ns := "status-token"
	if err := kubetest.CreateNamespace(context.Background(), env.Config, ns); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		host        string // the Git URL's host; the stand-in is on 127.0.0.1
		githubToken string
		want        string // the Authorization the stand-in gets; "" for no request
	}{
		{name: "another host: nothing sent", host: "localhost"},
		{name: "another host, GitHub token given", host: "localhost", githubToken: "gh-t0ken", want: "Bearer gh-t0ken"},
		{name: "the API's host: the Git token", host: "127.0.0.1", want: "Bearer t0ken"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newStatusStandIn(t)
			name := fmt.Sprintf("group/app%d.git", i)
			url := strings.Replace(srv.URL(name), "127.0.0.1", tt.host, 1)
			seedOneConfigMap(t, srv, name, url, ns, i)
			vars := map[string]string{"SLUICE_GIT_URL": url, "SLUICE_CONFIG_PATH": "clusters/prod",
				"SLUICE_GIT_TOKEN": "t0ken", "SLUICE_GITHUB_API_URL": api.srv.URL, "SLUICE_GITHUB_TOKEN": tt.githubToken}
			cfg, err := LoadConfig(context.Background(), envconfig.New(func(k string) (string, bool) { v, ok := vars[k]; return v, ok }, nil))
			if err != nil {
				t.Fatal(err)
			}
			statuses, err := NewStatuses(cfg)
			if err != nil {
				t.Fatal(err)
			}
			git, err := gitrepo.New(cfg.Repo.URL, cfg.Git)
			if err != nil {
				t.Fatal(err)
			}
			cluster, err := kube.New(env.Config)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := New(cfg.Repo, git, cluster, statuses).Reconcile(context.Background(),
				queue.Reconcile{Repository: cfg.Repo.ID(), Branch: "main", Reason: queue.ReasonPush}); err != nil {
				t.Fatal(err)
			}
			got := api.authorizations()
			for _, a := range got {
				if strings.Contains(a, "t0ken") && a != tt.want {
					t.Errorf("the stand-in got %q", a)
				}
			}
			if tt.want == "" && len(got) != 0 {
				t.Errorf("%d requests reached the GitHub stand-in: %q", len(got), got)
			}
			if tt.want != "" && (len(got) == 0 || got[0] != tt.want) {
				t.Errorf("the stand-in got %q, want %q", got, tt.want)
			}
			if tt.want == "" && cfg.StatusesOff == "" {
				t.Error("no reason logged for sending no statuses")
			}
		})
	}
}

// seedOneConfigMap pushes a config repository whose one Kustomization applies
// one ConfigMap into ns.
func seedOneConfigMap(t *testing.T, srv *gittest.Server, name, url, ns string, i int) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"clusters/prod/app.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: app, namespace: flux-system}
spec: {interval: 1m, url: "` + url + `", ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: status-token-` + strconv.Itoa(i) + `, namespace: flux-system}
spec: {interval: 1m, path: ./app, prune: true, targetNamespace: ` + ns + `, sourceRef: {kind: GitRepository, name: app}}
`,
		"app/kustomization.yaml": "resources: [cm.yaml]\n",
		"app/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-" + strconv.Itoa(i) + "}\n",
	}
	for f, content := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := srv.Seed(name, "main", dir, nil); err != nil {
		t.Fatal(err)
	}
}
