package gitrepo

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
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

func (c Credentials) method(url string) (transport.AuthMethod, error) {
	ssh := strings.HasPrefix(url, "ssh://") || (!strings.Contains(url, "://") && strings.Contains(url, "@"))
	switch {
	case ssh && len(c.SSHKey) == 0:
		return nil, fmt.Errorf("%s is an SSH URL: an SSH key (SLUICE_GIT_SSH_KEY) and known_hosts are required", url)
	case ssh:
		return c.sshMethod()
	case len(c.SSHKey) > 0:
		return nil, fmt.Errorf("an SSH key is configured but %s is not an SSH URL", url)
	case c.Password != "":
		user := c.Username
		if user == "" {
			user = "x-access-token"
		}
		return &githttp.BasicAuth{Username: user, Password: c.Password}, nil
	}
	return nil, nil
}

func (c Credentials) sshMethod() (transport.AuthMethod, error) {
	if len(bytes.TrimSpace(c.KnownHosts)) == 0 {
		return nil, errors.New("known_hosts is required with an SSH key (SLUICE_GIT_KNOWN_HOSTS): host keys are never accepted blindly")
	}
	user := c.Username
	if user == "" {
		user = "git"
	}
	keys, err := gitssh.NewPublicKeys(user, c.SSHKey, "")
	if err != nil {
		return nil, fmt.Errorf("parsing the SSH private key: %w", err)
	}
	cb, err := hostKeyCallback(c.KnownHosts)
	if err != nil {
		return nil, err
	}
	keys.HostKeyCallback = cb
	return keys, nil
}

// hostKeyCallback checks host keys against known_hosts given as bytes
// (x/crypto's knownhosts only reads files, and /tmp is shared by warm
// invocations, so the lines are matched here instead).
func hostKeyCallback(knownHosts []byte) (ssh.HostKeyCallback, error) {
	type entry struct {
		hosts []string
		key   ssh.PublicKey
	}
	var entries []entry
	rest := knownHosts
	for len(bytes.TrimSpace(rest)) > 0 {
		marker, hosts, key, _, next, err := ssh.ParseKnownHosts(rest)
		if err != nil {
			return nil, fmt.Errorf("parsing known_hosts: %w", err)
		}
		rest = next
		if marker == "" {
			entries = append(entries, entry{hosts, key})
		}
	}
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		addr := knownhosts.Normalize(hostname)
		for _, e := range entries {
			for _, h := range e.hosts {
				if knownhosts.Normalize(h) == addr || h == hostname {
					if bytes.Equal(e.key.Marshal(), key.Marshal()) {
						return nil
					}
					return fmt.Errorf("host key of %s does not match known_hosts", hostname)
				}
			}
		}
		return fmt.Errorf("host %s is not in known_hosts", hostname)
	}, nil
}
