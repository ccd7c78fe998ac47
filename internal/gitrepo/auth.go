package gitrepo

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
)

// Credentials authenticate to a repository: a token or username and password
// over HTTPS, or a private key with known_hosts over SSH. The zero value is
// anonymous access.
type Credentials struct {
	// Username defaults to "x-access-token" when only a token is given, as
	// GitHub expects for app and fine-grained tokens.
	Username string
	Password string // or token
	// SSHKey is a PEM private key; KnownHosts is required with it.
	SSHKey     []byte
	KnownHosts []byte
}

// String never shows secrets, so Credentials can be logged.
func (c Credentials) String() string {
	switch {
	case len(c.SSHKey) > 0:
		return "ssh key"
	case c.Password != "":
		return "https token"
	default:
		return "anonymous"
	}
}

// isSSH reports whether rawURL is reached over SSH: ssh://, or Git's
// scp-like user@host:path.
func isSSH(rawURL string) bool {
	return strings.HasPrefix(rawURL, "ssh://") || (!strings.Contains(rawURL, "://") && strings.Contains(rawURL, "@"))
}

// takeCredentials moves credentials written into an http(s) URL
// (https://user:token@host/...) out of it, so that the URL kept, and every
// message that names it (go-git's included), holds no secret. It returns the
// URL without them and the HTTPS auth they make, or nil when there were none.
// An SSH URL keeps its user, which is the SSH login, but may not hold a
// password: Sluice authenticates to SSH with a key.
func takeCredentials(rawURL string, creds Credentials) (string, transport.AuthMethod, error) {
	u, err := url.Parse(rawURL)
	if !strings.Contains(rawURL, "://") || err != nil || u.User == nil {
		return rawURL, nil, nil
	}
	pass, hasPass := u.User.Password()
	switch strings.ToLower(u.Scheme) {
	case "ssh":
		if hasPass {
			u.User = url.User(u.User.Username())
			return "", nil, fmt.Errorf("%s: an SSH URL cannot carry a password; Sluice signs in to SSH with a key (SLUICE_GIT_SSH_KEY)", u)
		}
		return rawURL, nil, nil
	case "http", "https":
		user := u.User.Username()
		u.User = nil
		if creds.Password != "" || len(creds.SSHKey) > 0 {
			return "", nil, fmt.Errorf("%s: the URL carries credentials and a token or key is configured too: give one", u)
		}
		// A token alone in the user's place (https://<token>@host) is sent
		// with an empty password, as git and go-git send it.
		return u.String(), &githttp.BasicAuth{Username: user, Password: pass}, nil
	}
	return rawURL, nil, nil
}

func (c Credentials) method(rawURL string) (transport.AuthMethod, error) {
	ssh := isSSH(rawURL)
	switch {
	case ssh && len(c.SSHKey) == 0:
		return nil, fmt.Errorf("%s is an SSH URL: an SSH key (SLUICE_GIT_SSH_KEY) and known_hosts are required", rawURL)
	case ssh:
		return c.sshMethod(rawURL)
	case len(c.SSHKey) > 0:
		return nil, fmt.Errorf("an SSH key is configured but %s is not an SSH URL", rawURL)
	case c.Password != "":
		user := c.Username
		if user == "" {
			user = "x-access-token"
		}
		return &githttp.BasicAuth{Username: user, Password: c.Password}, nil
	}
	return nil, nil
}

// sshMethod signs in as the user the URL names (git when it names none, as
// ssh://github.com/o/r means git@github.com), checking the server's host key
// against known_hosts and offering the server only the key types known_hosts
// holds for that host: otherwise the server picks its preferred type (GitHub
// prefers ECDSA to the Ed25519 line users are told to keep) and a good host
// is refused.
func (c Credentials) sshMethod(rawURL string) (transport.AuthMethod, error) {
	if len(bytes.TrimSpace(c.KnownHosts)) == 0 {
		return nil, errors.New("known_hosts is required with an SSH key (SLUICE_GIT_KNOWN_HOSTS): host keys are never accepted blindly")
	}
	ep, err := transport.NewEndpoint(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parsing SSH URL %s: %w", rawURL, err)
	}
	user := ep.User
	if user == "" {
		user = "git"
	}
	keys, err := gitssh.NewPublicKeys(user, c.SSHKey, "")
	if err != nil {
		return nil, fmt.Errorf("parsing the SSH private key: %w", err)
	}
	known, err := parseKnownHosts(c.KnownHosts)
	if err != nil {
		return nil, err
	}
	port := ep.Port
	if port == 0 {
		port = 22
	}
	keys.HostKeyCallback = known.callback()
	keys.HostKeyAlgorithms = known.algorithms(ep.Host, port)
	return keys, nil
}
