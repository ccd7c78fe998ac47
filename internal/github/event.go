package github

import (
	"encoding/hex"
	"fmt"
	"strings"

	gh "github.com/google/go-github/v50/github"
)

// Repository is what a push says about the repository it went to: every URL
// form GitHub gives, since the configured URL may be any of them.
type Repository struct {
	FullName string
	CloneURL string // https://github.com/o/r.git
	SSHURL   string // git@github.com:o/r.git
	GitURL   string // git://github.com/o/r.git
	HTMLURL  string // https://github.com/o/r
}

// URLs returns the repository's non-empty URLs.
func (r Repository) URLs() []string {
	var urls []string
	for _, u := range []string{r.CloneURL, r.SSHURL, r.GitURL, r.HTMLURL} {
		if u != "" {
			urls = append(urls, u)
		}
	}
	return urls
}

// Push is the part of a push event that decides what to do with it.
type Push struct {
	Repository Repository
	// Ref is the full ref pushed, such as refs/heads/main or refs/tags/v1.
	Ref string
	// Branch is the branch name when Ref is a branch, else empty.
	Branch string
	// Tag is the tag name when Ref is a tag, else empty.
	Tag string
	// Before and After are the ref's commit before and after the push; After
	// is all zeros when the ref was deleted.
	Before, After string
	Created       bool
	Deleted       bool
	Forced        bool
}

// Ping is GitHub's test delivery, sent when a webhook is created.
type Ping struct {
	HookID int64
	Zen    string
}

// ParsePush reads a push event payload. Errors wrap ErrMalformed: a payload
// without a repository, a ref or a commit id is not something GitHub sends.
func ParsePush(payload []byte) (Push, error) {
	parsed, err := gh.ParseWebHook(EventPush, payload)
	if err != nil {
		return Push{}, fmt.Errorf("%w: push event: %v", ErrMalformed, err)
	}
	ev, ok := parsed.(*gh.PushEvent)
	if !ok || ev == nil { // the JSON literal null parses to nothing
		return Push{}, fmt.Errorf("%w: push event is not a JSON object", ErrMalformed)
	}
	p := Push{
		Ref:     ev.GetRef(),
		Before:  ev.GetBefore(),
		After:   ev.GetAfter(),
		Created: ev.GetCreated(),
		Deleted: ev.GetDeleted(),
		Forced:  ev.GetForced(),
	}
	if r := ev.GetRepo(); r != nil {
		p.Repository = Repository{
			FullName: r.GetFullName(),
			CloneURL: r.GetCloneURL(),
			SSHURL:   r.GetSSHURL(),
			GitURL:   r.GetGitURL(),
			HTMLURL:  r.GetHTMLURL(),
		}
	}
	p.Branch, _ = strings.CutPrefix(p.Ref, "refs/heads/")
	if p.Branch == p.Ref {
		p.Branch = ""
	}
	if tag, ok := strings.CutPrefix(p.Ref, "refs/tags/"); ok {
		p.Tag = tag
	}
	if err := p.validate(); err != nil {
		return Push{}, err
	}
	return p, nil
}

func (p Push) validate() error {
	var missing []string
	if len(p.Repository.URLs()) == 0 {
		missing = append(missing, "repository URLs")
	}
	if p.Ref == "" {
		missing = append(missing, "ref")
	}
	if !isObjectID(p.After) {
		missing = append(missing, "after (a commit id)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: push event has no valid %s", ErrMalformed, strings.Join(missing, ", "))
	}
	return nil
}

// isObjectID reports whether s is a full Git object id: SHA-1, or SHA-256 for
// repositories that use it.
func isObjectID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// ParsePing reads a ping event payload. Errors wrap ErrMalformed.
func ParsePing(payload []byte) (Ping, error) {
	parsed, err := gh.ParseWebHook(EventPing, payload)
	if err != nil {
		return Ping{}, fmt.Errorf("%w: ping event: %v", ErrMalformed, err)
	}
	ev, ok := parsed.(*gh.PingEvent)
	if !ok || ev == nil {
		return Ping{}, fmt.Errorf("%w: ping event is not a JSON object", ErrMalformed)
	}
	return Ping{HookID: ev.GetHookID(), Zen: ev.GetZen()}, nil
}
