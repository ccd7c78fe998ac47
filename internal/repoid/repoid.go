// Package repoid names a Git repository the same way whatever URL form points at it.
package repoid

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// defaultPorts are dropped from identities, so https://h:443/o/r and https://h/o/r are one.
var defaultPorts = map[string]string{"https": "443", "http": "80", "ssh": "22", "git": "9418"}

// Parse returns the identity of the repository that rawURL points at: host and
// path, lower-cased, without scheme, user, default port, trailing slash or
// ".git". ssh://git@github.com/o/r, git@github.com:o/r.git and
// https://github.com/o/r all have the identity "github.com/o/r". A file:// URL
// has its path as identity.
func Parse(rawURL string) (string, error) {
	s := strings.TrimSpace(rawURL)
	if s == "" {
		return "", fmt.Errorf("repository URL is empty")
	}
	var host, path string
	if scp, ok := parseSCP(s); ok {
		host, path = scp[0], scp[1]
	} else {
		u, err := url.Parse(s)
		if err != nil {
			// url.Parse's error quotes the whole URL, credentials included.
			var uerr *url.Error
			if errors.As(err, &uerr) {
				err = uerr.Err
			}
			return "", fmt.Errorf("parsing repository URL %q: %w", Redact(rawURL), err)
		}
		scheme := strings.ToLower(u.Scheme)
		switch scheme {
		case "https", "http", "ssh", "git", "file":
		default:
			return "", fmt.Errorf("repository URL %q: unsupported scheme %q", Redact(rawURL), u.Scheme)
		}
		host = u.Hostname()
		if p := u.Port(); p != "" && p != defaultPorts[scheme] {
			host += ":" + p
		}
		path = u.Path
		if scheme != "file" && host == "" {
			return "", fmt.Errorf("repository URL %q has no host", Redact(rawURL))
		}
	}
	path = strings.Trim(path, "/")
	path = strings.TrimSuffix(path, ".git")
	path = strings.TrimRight(path, "/")
	if path == "" {
		return "", fmt.Errorf("repository URL %q has no path", Redact(rawURL))
	}
	id := path
	if host != "" {
		id = host + "/" + path
	}
	return strings.ToLower(id), nil
}

// Same reports whether two URLs name one repository. A URL that does not parse
// names no repository.
func Same(a, b string) bool {
	ia, err := Parse(a)
	if err != nil {
		return false
	}
	ib, err := Parse(b)
	return err == nil && ia == ib
}

// parseSCP recognises Git's scp-like syntax, [user@]host:path, which has no
// scheme and whose path does not start with a slash after the colon's host.
func parseSCP(s string) ([2]string, bool) {
	if strings.Contains(s, "://") {
		return [2]string{}, false
	}
	colon := strings.Index(s, ":")
	if colon < 0 {
		return [2]string{}, false
	}
	if slash := strings.Index(s, "/"); slash >= 0 && slash < colon {
		return [2]string{}, false // a local path such as ./a:b
	}
	host := s[:colon]
	if at := strings.LastIndex(host, "@"); at >= 0 {
		host = host[at+1:]
	}
	if host == "" {
		return [2]string{}, false
	}
	return [2]string{host, s[colon+1:]}, true
}

// Redact returns rawURL fit for an error or a log line: credentials written
// into it (https://user:token@host/..., or a token alone as the user) are
// replaced by "***". An SSH URL keeps its user, which names an account, not a
// secret, and loses any password. It works on the text, so a URL too broken
// to parse is redacted too.
func Redact(rawURL string) string {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return rawURL // scp-like user@host:path has no place for a password
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return rawURL
	}
	userinfo := authority[:at]
	if strings.EqualFold(scheme, "ssh") {
		user, _, hasPassword := strings.Cut(userinfo, ":")
		if !hasPassword {
			return rawURL
		}
		return scheme + "://" + user + ":***" + rest[at:]
	}
	return scheme + "://***" + rest[at:]
}
