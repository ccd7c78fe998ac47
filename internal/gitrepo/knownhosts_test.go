package gitrepo

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"
)

func publicKey(t *testing.T, typ string) ssh.PublicKey {
	t.Helper()
	var pub any
	switch typ {
	case "ed25519":
		p, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pub = p
	case "ecdsa":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pub = &k.PublicKey
	case "rsa":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		pub = &k.PublicKey
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func line(hosts string, k ssh.PublicKey) string {
	return hosts + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))) + "\n"
}

func hashed(host string) string {
	salt := []byte("0123456789abcdefghij")
	mac := hmac.New(sha1.New, salt)
	mac.Write([]byte(host))
	return "|1|" + base64.StdEncoding.EncodeToString(salt) + "|" + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// TestKnownHostsCallback: any line for the host accepts its key, whatever its
// position; patterns are matched as OpenSSH matches them.
func TestKnownHostsCallback(t *testing.T) {
	ed, ec, rs, other := publicKey(t, "ed25519"), publicKey(t, "ecdsa"), publicKey(t, "rsa"), publicKey(t, "ed25519")
	tests := []struct {
		name     string
		file     string
		hostname string
		key      ssh.PublicKey
		wantErr  string
	}{
		{name: "second line for the host", file: line("github.com", ed) + line("github.com", ec), hostname: "github.com:22", key: ec},
		{name: "third line, after another host's", file: line("gitlab.com", ec) + line("github.com", ed) + line("github.com", rs), hostname: "github.com:22", key: rs},
		{name: "comma list", file: line("gitlab.com,github.com,140.82.121.4", ed), hostname: "github.com:22", key: ed},
		{name: "host case", file: line("GitHub.com", ed), hostname: "github.com:22", key: ed},
		{name: "port", file: line("[git.example.com]:2222", ed), hostname: "git.example.com:2222", key: ed},
		{name: "port 22 in brackets", file: line("[github.com]:22", ed), hostname: "github.com:22", key: ed},
		{name: "port line does not match port 22", file: line("[github.com]:2222", ed), hostname: "github.com:22", key: ed, wantErr: "not in known_hosts"},
		{name: "hashed", file: line(hashed("github.com"), ed), hostname: "github.com:22", key: ed},
		{name: "hashed with port", file: line(hashed("[git.example.com]:2222"), ed), hostname: "git.example.com:2222", key: ed},
		{name: "wildcard", file: line("*.example.com", ed), hostname: "git.example.com:22", key: ed},
		{name: "negation", file: line("*.example.com,!git.example.com", ed), hostname: "git.example.com:22", key: ed, wantErr: "not in known_hosts"},
		{name: "wrong key", file: line("github.com", other) + line("github.com", ec), hostname: "github.com:22", key: ed,
			wantErr: "matches none of the 2 known_hosts lines for it (SLUICE_GIT_KNOWN_HOSTS): the wrong line, or the host's key changed; fetch the current lines with `ssh-keyscan github.com`"},
		{name: "unknown host", file: line("gitlab.com", ed), hostname: "github.com:22", key: ed, wantErr: "host github.com:22 is not in known_hosts"},
		{name: "revoked", file: "@revoked * " + strings.TrimPrefix(line("", ed), " ") + line("github.com", ed), hostname: "github.com:22", key: ed, wantErr: "@revoked"},
		{name: "cert authority line is no host key", file: "@cert-authority github.com " + strings.TrimPrefix(line("", ed), " "), hostname: "github.com:22", key: ed, wantErr: "not in known_hosts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := parseKnownHosts([]byte(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			err = k.callback()(tt.hostname, nil, tt.key)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one saying %q", err, tt.wantErr)
			}
		})
	}
}

// TestKnownHostsAlgorithms: the algorithms offered are those of the host's
// lines, RSA as its SHA-2 signatures first.
func TestKnownHostsAlgorithms(t *testing.T) {
	ed, ec, rs := publicKey(t, "ed25519"), publicKey(t, "ecdsa"), publicKey(t, "rsa")
	k, err := parseKnownHosts([]byte(line("github.com", ed) + line("gitlab.com", ec) + line("[github.com]:2222", ec) + line(hashed("github.com"), rs)))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{ssh.KeyAlgoED25519, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	if diff := cmp.Diff(want, k.algorithms("github.com", 22)); diff != "" {
		t.Errorf("github.com:22 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{ssh.KeyAlgoECDSA256}, k.algorithms("github.com", 2222)); diff != "" {
		t.Errorf("github.com:2222 (-want +got):\n%s", diff)
	}
	if got := k.algorithms("bitbucket.org", 22); got != nil {
		t.Errorf("unknown host: %v, want the library's defaults", got)
	}
}
