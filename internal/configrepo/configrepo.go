// Package configrepo reads where the config repository is (SLUICE_GIT_URL,
// SLUICE_GIT_BRANCH, SLUICE_CONFIG_PATH), the one way every function reads it,
// so that webhook, reconcile, image-update and drift cannot disagree on which
// repository, branch and folder they serve. It links no Git or Kubernetes
// code: the webhook uses it too.
package configrepo

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"path"

	"github.com/sluice-gitops/sluice/internal/envconfig"
	"github.com/sluice-gitops/sluice/internal/repoid"
)

// The variables Load reads.
const (
	EnvURL        = "SLUICE_GIT_URL"
	EnvBranch     = "SLUICE_GIT_BRANCH"
	EnvConfigPath = "SLUICE_CONFIG_PATH"
)

// DefaultBranch is the config branch when SLUICE_GIT_BRANCH is unset.
const DefaultBranch = "main"

// Repository is the config repository Sluice serves: its URL as configured,
// its branch, and the folder in it that holds the Flux objects.
type Repository struct {
	URL        string
	Branch     string
	ConfigPath string
}

// Load reads the repository, branch and config path, recording in env every
// variable that is missing or malformed.
func Load(env *envconfig.Env) Repository {
	r := LoadRemote(env)
	r.ConfigPath = env.Required(EnvConfigPath)
	return r
}

// LoadRemote reads the repository and branch only: what the webhook needs to
// recognise a push, which has no use for the config path.
func LoadRemote(env *envconfig.Env) Repository {
	r := Repository{
		URL:    env.Required(EnvURL),
		Branch: env.Optional(EnvBranch, DefaultBranch),
	}
	if r.URL != "" {
		if _, err := repoid.Parse(r.URL); err != nil {
			env.Fail("%s: %v", EnvURL, err)
		}
	}
	return r
}

// ID is the repository's identity (repoid): host and path, with no scheme or
// credentials. A URL that does not parse (Load refuses one) is its own ID,
// redacted.
func (r Repository) ID() string {
	id, err := repoid.Parse(r.URL)
	if err != nil {
		return repoid.Redact(r.URL)
	}
	return id
}

// Source is the inventory source of the repository's branch.
func (r Repository) Source() string { return r.ID() + "@" + r.Branch }

// Path is the config folder, cleaned, as inventories record it.
func (r Repository) Path() string { return path.Clean("./" + r.ConfigPath) }

// Installation is the id of this repository + branch + config path: the
// inventories, ApplySets and member labels of one installation carry it, so
// installations sharing a cluster never touch each other's objects. Ten
// bytes of SHA-256, hex: a valid label value and ConfigMap name part.
func (r Repository) Installation() string {
	sum := sha256.Sum256([]byte(r.Source() + ":" + r.Path()))
	return hex.EncodeToString(sum[:10])
}

// LogValue shows the URL without any credentials written into it.
func (r Repository) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("url", repoid.Redact(r.URL)), slog.String("branch", r.Branch)}
	if r.ConfigPath != "" {
		attrs = append(attrs, slog.String("configPath", r.ConfigPath))
	}
	return slog.GroupValue(attrs...)
}
