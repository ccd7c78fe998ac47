package gitrepo

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// knownHosts is an OpenSSH known_hosts file held in memory. x/crypto's
// knownhosts reads only files, and /tmp is shared by warm invocations, so
// the lines are matched here, as OpenSSH matches them: every line for a host
// counts (a host has one line per key type), host patterns may be hashed
// (|1|salt|hash, HashKnownHosts yes), carry a port ([host]:2222), wildcards
// (* and ?) or negations (!host), and @revoked keys are refused.
type knownHosts struct {
	lines []knownHostsLine
}

type knownHostsLine struct {
	marker   string // "", "revoked" or "cert-authority" (not supported: skipped)
	patterns []string
	key      ssh.PublicKey
}

func parseKnownHosts(data []byte) (*knownHosts, error) {
	k := &knownHosts{}
	rest := data
	for n := 1; len(bytes.TrimSpace(rest)) > 0; n++ {
		marker, hosts, key, _, next, err := ssh.ParseKnownHosts(rest)
		if err != nil {
			return nil, fmt.Errorf("parsing known_hosts: %w", err)
		}
		rest = next
		k.lines = append(k.lines, knownHostsLine{marker: marker, patterns: hosts, key: key})
	}
	return k, nil
}

// forHost returns the keys of the lines whose patterns match host:port, with
// the given marker.
func (k *knownHosts) forHost(host string, port int, marker string) []ssh.PublicKey {
	addr := knownhosts.Normalize(net.JoinHostPort(strings.ToLower(host), strconv.Itoa(port)))
	var keys []ssh.PublicKey
	for _, l := range k.lines {
		if l.marker == marker && matchesHost(l.patterns, addr) {
			keys = append(keys, l.key)
		}
	}
	return keys
}

// algorithms are the host key algorithms to offer host:port: those of the
// key types known_hosts holds for it, so the server proves the key that is
// known rather than another of its keys. None known: the library's defaults
// (the callback then refuses the host, naming it).
func (k *knownHosts) algorithms(host string, port int) []string {
	var algos []string
	for _, key := range k.forHost(host, port, "") {
		types := []string{key.Type()}
		if key.Type() == ssh.KeyAlgoRSA {
			// An RSA key signs with SHA-2 on any current server; ssh-rsa
			// (SHA-1) is last, for old ones.
			types = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
		}
		for _, t := range types {
			if !slices.Contains(algos, t) {
				algos = append(algos, t)
			}
		}
	}
	return algos
}

// callback accepts a host key when any known_hosts line for the host holds
// it, and it is not revoked.
func (k *knownHosts) callback() ssh.HostKeyCallback {
	return func(hostname string, _ net.Addr, key ssh.PublicKey) error {
		host, port := hostname, 22
		if h, p, err := net.SplitHostPort(hostname); err == nil {
			host = h
			if n, err := strconv.Atoi(p); err == nil {
				port = n
			}
		}
		offered := key.Type() + " " + ssh.FingerprintSHA256(key)
		for _, revoked := range k.forHost(host, port, "revoked") {
			if bytes.Equal(revoked.Marshal(), key.Marshal()) {
				return fmt.Errorf("host key of %s (%s) is marked @revoked in known_hosts", hostname, offered)
			}
		}
		known := k.forHost(host, port, "")
		for _, want := range known {
			if bytes.Equal(want.Marshal(), key.Marshal()) {
				return nil
			}
		}
		fetch := "ssh-keyscan " + host
		if port != 22 {
			fetch = "ssh-keyscan -p " + strconv.Itoa(port) + " " + host
		}
		if len(known) == 0 {
			return fmt.Errorf("host %s is not in known_hosts (SLUICE_GIT_KNOWN_HOSTS); fetch its lines with `%s`, check them against the host's published keys, and add them", hostname, fetch)
		}
		return fmt.Errorf("host key of %s (%s) matches none of the %d known_hosts lines for it (SLUICE_GIT_KNOWN_HOSTS): "+
			"the wrong line, or the host's key changed; fetch the current lines with `%s`, check them against the host's published keys, and replace them",
			hostname, offered, len(known), fetch)
	}
}

// matchesHost reports whether the patterns of one known_hosts line match
// addr (knownhosts.Normalize'd: "host", or "[host]:port" off port 22): one
// pattern must match and no negated one, as OpenSSH has it.
func matchesHost(patterns []string, addr string) bool {
	matched := false
	for _, p := range patterns {
		negated := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		var ok bool
		if strings.HasPrefix(p, "|1|") {
			ok = matchesHashed(p, addr)
		} else {
			ok = wildcardMatch(strings.ToLower(knownhosts.Normalize(p)), addr)
		}
		switch {
		case ok && negated:
			return false
		case ok:
			matched = true
		}
	}
	return matched
}

// matchesHashed checks a hashed pattern, |1|base64(salt)|base64(HMAC-SHA1(salt, addr)).
func matchesHashed(pattern, addr string) bool {
	parts := strings.Split(pattern, "|")
	if len(parts) != 4 {
		return false
	}
	salt, err1 := base64.StdEncoding.DecodeString(parts[2])
	sum, err2 := base64.StdEncoding.DecodeString(parts[3])
	if err1 != nil || err2 != nil {
		return false
	}
	mac := hmac.New(sha1.New, salt)
	mac.Write([]byte(addr))
	return hmac.Equal(mac.Sum(nil), sum)
}

// wildcardMatch matches s against an OpenSSH pattern, where * is any run of
// characters and ? any one.
func wildcardMatch(pattern, s string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if wildcardMatch(pattern[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != pattern[0] {
				return false
			}
		}
		pattern, s = pattern[1:], s[1:]
	}
	return s == ""
}
