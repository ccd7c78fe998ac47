package gitrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sshServer is OpenSSH's sshd on a loopback port, run by the test with its
// own configuration: Ed25519, ECDSA and RSA host keys, one authorized client
// key, logins as the current user, and git-upload-pack/git-receive-pack run
// through the user's shell as on any Git host.
type sshServer struct {
	port     int
	user     string
	hostKeys map[string][]byte // "ed25519", "ecdsa", "rsa" → the .pub line
	key      []byte            // the client's private key
	repo     string            // a bare repository with a main branch
	logs     *bytes.Buffer
}

// url is the repository's ssh:// URL, logging in as user.
func (s *sshServer) url(user string) string {
	return fmt.Sprintf("ssh://%s@127.0.0.1:%d%s", user, s.port, s.repo)
}

// knownHosts is a known_hosts file holding the host's lines of the given types.
func (s *sshServer) knownHosts(types ...string) []byte {
	var b bytes.Buffer
	for _, t := range types {
		fmt.Fprintf(&b, "[127.0.0.1]:%d %s", s.port, s.hostKeys[t])
	}
	return b.Bytes()
}

// findSSHD returns sshd's absolute path (sshd re-executes itself by it). CI
// installs it (.ci/run), so there its absence fails the test; elsewhere the
// test is skipped, saying how to install it.
func findSSHD(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"sshd", "/usr/sbin/sshd"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("sshd not found: .ci/run installs openssh-server; the SSH tests must run in CI")
	}
	t.Skip("sshd not found: install OpenSSH's server (Debian: apt-get install openssh-server) to run the SSH tests")
	return ""
}

func startSSHD(t *testing.T) *sshServer {
	t.Helper()
	sshd := findSSHD(t)
	dir := t.TempDir()
	s := &sshServer{hostKeys: map[string][]byte{}, logs: &bytes.Buffer{}}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	s.user = u.Username
	for _, typ := range []string{"ed25519", "ecdsa", "rsa"} {
		path := filepath.Join(dir, "host_"+typ)
		run(t, "", "ssh-keygen", "-q", "-t", typ, "-N", "", "-C", "", "-f", path)
		s.hostKeys[typ] = readFile(t, path+".pub")
	}
	run(t, "", "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "sluice-test", "-f", filepath.Join(dir, "client"))
	s.key = readFile(t, filepath.Join(dir, "client"))
	writeFile(t, filepath.Join(dir, "authorized_keys"), readFile(t, filepath.Join(dir, "client.pub")))
	s.repo = seedBareRepo(t, dir)
	s.port = freePort(t)
	// sshd (9.x) always separates privileges; as root it needs this folder.
	if os.Geteuid() == 0 {
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatal(err)
		}
	}
	config := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %[2]s/host_ed25519
HostKey %[2]s/host_ecdsa
HostKey %[2]s/host_rsa
AuthorizedKeysFile %[2]s/authorized_keys
PidFile %[2]s/sshd.pid
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
LogLevel VERBOSE
`, s.port, dir)
	writeFile(t, filepath.Join(dir, "sshd_config"), []byte(config))
	cmd := exec.Command(sshd, "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("sshd's log:\n%s", s.logs)
		}
	})
	// Wait for the listener, not for a time: sshd binds before it serves.
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)))
		if err == nil {
			c.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd did not listen on port %d: %v\n%s", s.port, err, s.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// seedBareRepo makes dir/config.git, a bare repository whose main branch has
// one commit, with the system git, as a Git host would hold it.
func seedBareRepo(t *testing.T, dir string) string {
	t.Helper()
	bare, work := filepath.Join(dir, "config.git"), filepath.Join(dir, "work")
	run(t, "", "git", "init", "-q", "--bare", "-b", "main", bare)
	run(t, "", "git", "init", "-q", "-b", "main", work)
	writeFile(t, filepath.Join(work, "README.md"), []byte("config\n"))
	run(t, work, "git", "add", ".")
	run(t, work, "git", "-c", "user.name=seed", "-c", "user.email=seed@example.com", "commit", "-q", "-m", "seed")
	run(t, work, "git", "push", "-q", bare, "main")
	return bare
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSSHCloneAndPush: against sshd offering Ed25519, ECDSA and RSA host
// keys, a known_hosts holding any one of them (plain or hashed) is enough to
// clone and to push as image-update does, logging in as the user the URL
// names (not git).
func TestSSHCloneAndPush(t *testing.T) {
	s := startSSHD(t)
	tests := []struct {
		name   string
		types  []string
		hashed bool
	}{
		{name: "ed25519 only", types: []string{"ed25519"}},
		{name: "ecdsa only", types: []string{"ecdsa"}},
		{name: "rsa only", types: []string{"rsa"}},
		{name: "ed25519 only, hashed", types: []string{"ed25519"}, hashed: true},
		{name: "all three", types: []string{"rsa", "ed25519", "ecdsa"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			known := s.knownHosts(tt.types...)
			if tt.hashed {
				path := filepath.Join(t.TempDir(), "known_hosts")
				writeFile(t, path, known)
				run(t, "", "ssh-keygen", "-q", "-H", "-f", path)
				known = readFile(t, path)
				if bytes.Contains(known, []byte("127.0.0.1")) {
					t.Fatalf("ssh-keygen -H left the host in clear: %s", known)
				}
			}
			repo, err := New(s.url(s.user), Credentials{SSHKey: s.key, KnownHosts: known})
			if err != nil {
				t.Fatal(err)
			}
			co, err := repo.Clone(ctx, "main")
			if err != nil {
				t.Fatalf("clone: %v", err)
			}
			defer co.Close()
			writeFile(t, filepath.Join(co.Dir, fmt.Sprintf("update-%d.yaml", i)), []byte("tag: 1.1.1\n"))
			sha, err := co.CommitAll("image update", Signature{Name: "sluice", Email: "sluice@example.com"})
			if err != nil || sha == "" {
				t.Fatalf("commit = %q, %v", sha, err)
			}
			if err := co.Push(ctx, "main"); err != nil {
				t.Fatalf("push: %v", err)
			}
			if head := strings.TrimSpace(run(t, s.repo, "git", "rev-parse", "main")); head != sha {
				t.Errorf("the server's main is %s, want the pushed %s", head, sha)
			}
		})
	}
}

// TestSSHWrongHostKey: a known_hosts line for the host with another key is
// refused, and the error names the host and how to fetch its right line.
func TestSSHWrongHostKey(t *testing.T) {
	s := startSSHD(t)
	dir := t.TempDir()
	run(t, "", "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", filepath.Join(dir, "other"))
	known := fmt.Appendf(nil, "[127.0.0.1]:%d %s", s.port, readFile(t, filepath.Join(dir, "other.pub")))
	tests := []struct {
		name  string
		known []byte
		want  []string
	}{
		{name: "another key", known: known, want: []string{"host key of 127.0.0.1:" + strconv.Itoa(s.port), "ssh-keyscan -p " + strconv.Itoa(s.port) + " 127.0.0.1"}},
		{name: "another host", known: []byte("github.com " + string(s.hostKeys["ed25519"])),
			want: []string{"host 127.0.0.1:" + strconv.Itoa(s.port) + " is not in known_hosts", "ssh-keyscan -p " + strconv.Itoa(s.port) + " 127.0.0.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo, err := New(s.url(s.user), Credentials{SSHKey: s.key, KnownHosts: tt.known})
			if err != nil {
				t.Fatal(err)
			}
			_, err = repo.Clone(context.Background(), "main")
			if err == nil {
				t.Fatal("cloned from a host whose key known_hosts does not hold")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q: %v", w, err)
				}
			}
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				t.Errorf("unexpected process error: %v", err)
			}
		})
	}
}
