package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	gh "github.com/google/go-github/v50/github"

	"github.com/sluice-gitops/sluice/internal/repoid"
)

// DefaultAPIURL is the REST base of github.com.
const DefaultAPIURL = "https://api.github.com/"

// maxDescription is GitHub's limit on a status description, in characters.
const maxDescription = 140

// defaultTimeout bounds one status call when the caller gives no client, so
// a slow GitHub cannot hold a reconcile to the end of its Lambda timeout.
const defaultTimeout = 15 * time.Second

// State is a commit status state.
type State string

// States GitHub accepts for a commit status.
const (
	StatePending State = "pending"
	StateSuccess State = "success"
	StateFailure State = "failure"
	StateError   State = "error"
)

// Status is one commit status about one Kustomization.
type Status struct {
	// Kustomization is "<namespace>/<name>"; the status context is
	// "sluice/<namespace>/<name>", so each Kustomization has its own check.
	Kustomization string
	State         State
	// Description is trimmed to GitHub's 140 characters.
	Description string
	// TargetURL is an optional link from the status, such as the logs.
	TargetURL string
}

// StatusSetter sets commit statuses through the GitHub REST API.
type StatusSetter struct {
	client *gh.Client
}

// StatusOption configures a StatusSetter.
type StatusOption func(*statusOptions)

type statusOptions struct {
	httpClient *http.Client
}

// WithHTTPClient makes the StatusSetter send through c (its transport gets
// the token added); by default it uses http.DefaultTransport with a timeout.
func WithHTTPClient(c *http.Client) StatusOption {
	return func(o *statusOptions) { o.httpClient = c }
}

// NewStatusSetter returns a StatusSetter that calls the REST API at apiURL
// (DefaultAPIURL when empty) with token. apiURL is used as given, GitHub
// Enterprise's ".../api/v3" included: go-github's WithEnterpriseURLs would
// append "/api/v3" to a base that already has it.
func NewStatusSetter(apiURL, token string, opts ...StatusOption) (*StatusSetter, error) {
	if strings.TrimSpace(token) == "" {
		return nil, errors.New("GitHub token is empty")
	}
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	base, err := url.Parse(apiURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("GitHub API URL %q is not an absolute http(s) URL", apiURL)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/" // go-github resolves relative paths against it
	}
	o := statusOptions{httpClient: &http.Client{Timeout: defaultTimeout}}
	for _, opt := range opts {
		opt(&o)
	}
	hc := *o.httpClient
	hc.Transport = tokenTransport{token: token, base: hc.Transport}
	client := gh.NewClient(&hc)
	client.BaseURL = base
	client.UploadURL = base
	client.UserAgent = "sluice"
	return &StatusSetter{client: client}, nil
}

// SetStatus sets st on commit sha of the repository at repoURL (any URL form
// repoid understands; its path must be <owner>/<repo>).
func (s *StatusSetter) SetStatus(ctx context.Context, repoURL, sha string, st Status) error {
	owner, repo, err := ownerRepo(repoURL)
	if err != nil {
		return err
	}
	if !isObjectID(sha) {
		return fmt.Errorf("commit status: %q is not a full commit id", sha)
	}
	statusContext, err := StatusContext(st.Kustomization)
	if err != nil {
		return err
	}
	switch st.State {
	case StatePending, StateSuccess, StateFailure, StateError:
	default:
		return fmt.Errorf("commit status: state %q is not one of pending, success, failure, error", st.State)
	}
	status := &gh.RepoStatus{
		State:       gh.String(string(st.State)),
		Context:     gh.String(statusContext),
		Description: gh.String(trimDescription(st.Description)),
	}
	if st.TargetURL != "" {
		status.TargetURL = gh.String(st.TargetURL)
	}
	if _, _, err := s.client.Repositories.CreateStatus(ctx, owner, repo, sha, status); err != nil {
		return fmt.Errorf("setting commit status %s=%s on %s/%s@%s: %w", statusContext, st.State, owner, repo, sha, err)
	}
	return nil
}

// ServesGit reports whether the GitHub REST API on apiHost is the one of the
// Git host gitHost, so that a token for one is meant for the other: the same
// host (GitHub Enterprise Server serves its API under /api/v3), or the API's
// "api." subdomain (api.github.com for github.com; GHE.com's
// api.<name>.ghe.com). Hosts compare without case and without port.
func ServesGit(apiHost, gitHost string) bool {
	apiHost, gitHost = strings.ToLower(apiHost), strings.ToLower(gitHost)
	return gitHost != "" && (apiHost == gitHost || apiHost == "api."+gitHost)
}

// StatusContext is the commit status context of the Kustomization
// "<namespace>/<name>": "sluice/<namespace>/<name>".
func StatusContext(kustomization string) (string, error) {
	ns, name, ok := strings.Cut(kustomization, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return "", fmt.Errorf("commit status: kustomization %q is not <namespace>/<name>", kustomization)
	}
	return "sluice/" + kustomization, nil
}

// ownerRepo derives the REST API's owner and repository from any URL of the
// repository, by its identity host/owner/repo.
func ownerRepo(repoURL string) (string, string, error) {
	id, err := repoid.Parse(repoURL)
	if err != nil {
		return "", "", fmt.Errorf("commit status: %w", err)
	}
	_, path, _ := strings.Cut(id, "/")
	owner, repo, ok := strings.Cut(path, "/")
	if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
		return "", "", fmt.Errorf("commit status: repository %q is not <host>/<owner>/<repo>", id)
	}
	return owner, repo, nil
}

// trimDescription fits d into GitHub's limit, cutting on a character
// boundary and marking the cut, since GitHub rejects a longer one outright.
func trimDescription(d string) string {
	d = strings.Join(strings.Fields(d), " ")
	if utf8.RuneCountInString(d) <= maxDescription {
		return d
	}
	runes := []rune(d)
	return string(runes[:maxDescription-1]) + "…"
}

// tokenTransport authenticates every request with the token.
type tokenTransport struct {
	token string
	base  http.RoundTripper
}

func (t tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context()) // a RoundTripper must not modify its request
	r.Header.Set("Authorization", "Bearer "+t.token)
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}
