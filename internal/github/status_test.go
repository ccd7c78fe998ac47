package github

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// basePath is where the test server mounts the API, as GitHub Enterprise
// does, so a client that drops or doubles the base path fails.
const basePath = "/api/v3"

type statusRequest struct {
	Method, Path, Auth, UserAgent string
	Body                          map[string]string
}

// statusServer serves the create-commit-status call under basePath and
// records every request; anything else is a 404 that fails the test.
func statusServer(t *testing.T, reply func(w http.ResponseWriter)) (string, func() []statusRequest) {
	t.Helper()
	var mu sync.Mutex
	var got []statusRequest
	mux := http.NewServeMux()
	mux.HandleFunc("POST /repos/{owner}/{repo}/statuses/{sha}", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err != nil {
			t.Errorf("status request body %q: %v", b, err)
		}
		mu.Lock()
		got = append(got, statusRequest{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), UserAgent: r.Header.Get("User-Agent"), Body: body})
		mu.Unlock()
		reply(w)
	})
	root := http.NewServeMux()
	root.Handle(basePath+"/", http.StripPrefix(basePath, mux))
	root.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the API base path: %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	srv := httptest.NewServer(root)
	t.Cleanup(srv.Close)
	return srv.URL, func() []statusRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]statusRequest(nil), got...)
	}
}

func created(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprint(w, `{"id":1,"state":"success","context":"sluice/flux-system/task-tool"}`)
}

func TestSetStatus(t *testing.T) {
	long := strings.Repeat("é", 200)
	tests := []struct {
		name    string
		baseURL string // appended to the server URL
		repoURL string
		status  Status
		want    statusRequest
	}{
		{
			name:    "success, base without trailing slash",
			baseURL: basePath,
			repoURL: "https://github.com/mamezou-tech/task-tool-cluster-config",
			status:  Status{Kustomization: "flux-system/task-tool", State: StateSuccess, Description: "applied 9 objects"},
			want: statusRequest{
				Method: "POST", Path: "/repos/mamezou-tech/task-tool-cluster-config/statuses/" + commitID,
				Body: map[string]string{"state": "success", "context": "sluice/flux-system/task-tool", "description": "applied 9 objects"},
			},
		},
		{
			name:    "failure over ssh URL, base with slash, target URL",
			baseURL: basePath + "/",
			repoURL: "git@github.com:Mamezou-Tech/task-tool-cluster-config.git",
			status:  Status{Kustomization: "prod/app", State: StateFailure, Description: "Issuer/prod/prod-letsencrypt-issuer:\n no matches for kind", TargetURL: "https://console.aws.amazon.com/cloudwatch"},
			want: statusRequest{
				Method: "POST", Path: "/repos/mamezou-tech/task-tool-cluster-config/statuses/" + commitID,
				Body: map[string]string{"state": "failure", "context": "sluice/prod/app", "description": "Issuer/prod/prod-letsencrypt-issuer: no matches for kind", "target_url": "https://console.aws.amazon.com/cloudwatch"},
			},
		},
		{
			name:    "pending, description trimmed to 140 characters",
			baseURL: basePath,
			repoURL: "ssh://git@github.com/o/r",
			status:  Status{Kustomization: "a/b", State: StatePending, Description: long},
			want: statusRequest{
				Method: "POST", Path: "/repos/o/r/statuses/" + commitID,
				Body: map[string]string{"state": "pending", "context": "sluice/a/b", "description": strings.Repeat("é", 139) + "…"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, requests := statusServer(t, created)
			s, err := NewStatusSetter(url+tt.baseURL, "ghp_test")
			if err != nil {
				t.Fatal(err)
			}
			if err := s.SetStatus(context.Background(), tt.repoURL, commitID, tt.status); err != nil {
				t.Fatalf("SetStatus: %v", err)
			}
			tt.want.Auth, tt.want.UserAgent = "Bearer ghp_test", "sluice"
			if diff := cmp.Diff([]statusRequest{tt.want}, requests()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			if d := requests()[0].Body["description"]; utf8.RuneCountInString(d) > maxDescription {
				t.Errorf("description has %d characters", utf8.RuneCountInString(d))
			}
		})
	}
}

func TestSetStatusErrors(t *testing.T) {
	tests := []struct {
		name    string
		reply   func(http.ResponseWriter)
		repoURL string
		sha     string
		status  Status
		wantErr string
	}{
		{
			name: "GitHub refuses",
			reply: func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnprocessableEntity)
				fmt.Fprint(w, `{"message":"Validation Failed","errors":[{"resource":"Status","code":"custom","message":"This SHA and context has reached the maximum number of statuses."}]}`)
			},
			repoURL: "https://github.com/o/r", sha: commitID, status: Status{Kustomization: "a/b", State: StateSuccess},
			wantErr: "setting commit status sluice/a/b=success on o/r@" + commitID + ": POST",
		},
		{name: "not a commit id", repoURL: "https://github.com/o/r", sha: "main", status: Status{Kustomization: "a/b", State: StateSuccess}, wantErr: `"main" is not a full commit id`},
		{name: "not owner/repo", repoURL: "https://gitlab.com/g/sub/r", sha: commitID, status: Status{Kustomization: "a/b", State: StateSuccess}, wantErr: "is not <host>/<owner>/<repo>"},
		{name: "bad repository URL", repoURL: "", sha: commitID, status: Status{Kustomization: "a/b", State: StateSuccess}, wantErr: "repository URL is empty"},
		{name: "bad kustomization", repoURL: "https://github.com/o/r", sha: commitID, status: Status{Kustomization: "b", State: StateSuccess}, wantErr: "not <namespace>/<name>"},
		{name: "bad state", repoURL: "https://github.com/o/r", sha: commitID, status: Status{Kustomization: "a/b", State: "ok"}, wantErr: `state "ok"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply := tt.reply
			if reply == nil {
				reply = func(w http.ResponseWriter) {
					t.Error("invalid status reached GitHub")
					created(w)
				}
			}
			url, _ := statusServer(t, reply)
			s, err := NewStatusSetter(url+basePath, "t")
			if err != nil {
				t.Fatal(err)
			}
			err = s.SetStatus(context.Background(), tt.repoURL, tt.sha, tt.status)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("SetStatus error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewStatusSetter(t *testing.T) {
	tests := []struct {
		name, apiURL, token string
		wantBase            string
		wantErr             string
	}{
		{name: "default", token: "t", wantBase: DefaultAPIURL},
		{name: "enterprise used as given", apiURL: "https://ghe.example.com/api/v3", token: "t", wantBase: "https://ghe.example.com/api/v3/"},
		{name: "no token", apiURL: "https://ghe.example.com/api/v3", wantErr: "token is empty"},
		{name: "relative URL", apiURL: "ghe.example.com/api/v3", token: "t", wantErr: "not an absolute http(s) URL"},
		{name: "other scheme", apiURL: "ftp://ghe.example.com/", token: "t", wantErr: "not an absolute http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewStatusSetter(tt.apiURL, tt.token)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.client.BaseURL.String(); got != tt.wantBase {
				t.Errorf("BaseURL = %q, want %q", got, tt.wantBase)
			}
		})
	}
}

func TestWithHTTPClientKeepsToken(t *testing.T) {
	url, requests := statusServer(t, created)
	var used bool
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used = true
		return http.DefaultTransport.RoundTrip(r)
	})}
	s, err := NewStatusSetter(url+basePath, "tok", WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetStatus(context.Background(), "https://github.com/o/r", commitID, Status{Kustomization: "a/b", State: StateError}); err != nil {
		t.Fatal(err)
	}
	if !used || requests()[0].Auth != "Bearer tok" {
		t.Errorf("client used = %v, requests = %+v", used, requests())
	}
	if _, ok := hc.Transport.(roundTripFunc); !ok {
		t.Errorf("the caller's client was modified: transport %T", hc.Transport)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestServesGit(t *testing.T) {
	tests := []struct {
		api, git string
		want     bool
	}{
		{"api.github.com", "github.com", true},
		{"API.GitHub.com", "github.com", true},
		{"ghe.example.com", "ghe.example.com", true},
		{"api.acme.ghe.com", "acme.ghe.com", true},
		{"api.github.com", "gitlab.com", false},
		{"api.github.com", "evilgithub.com", false},
		{"api.github.com", "api.github.com.evil.com", false},
		{"ghe.example.com", "github.com", false},
		{"api.github.com", "", false},
	}
	for _, tt := range tests {
		if got := ServesGit(tt.api, tt.git); got != tt.want {
			t.Errorf("ServesGit(%q, %q) = %v, want %v", tt.api, tt.git, got, tt.want)
		}
	}
}
