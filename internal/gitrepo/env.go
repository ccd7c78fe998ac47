package gitrepo

import "context"

// Env is what LoadCredentials reads settings through; *envconfig.Env has it.
// It is an interface so that this package, which every function that touches
// Git links, does not depend on how configuration is read.
type Env interface {
	Secret(ctx context.Context, name string, required bool) string
	Required(name string) string
	Fail(format string, args ...any)
}

// LoadCredentials reads the config repository's credentials, the same way in
// every function that clones it: an HTTPS token from SLUICE_GIT_TOKEN (or
// SLUICE_GIT_TOKEN_SECRET_ID), or an SSH key from SLUICE_GIT_SSH_KEY (or
// SLUICE_GIT_SSH_KEY_SECRET_ID) with SLUICE_GIT_KNOWN_HOSTS. Neither is
// anonymous access; both is an error recorded in env.
func LoadCredentials(ctx context.Context, env Env) Credentials {
	var creds Credentials
	creds.Password = env.Secret(ctx, "SLUICE_GIT_TOKEN", false)
	if key := env.Secret(ctx, "SLUICE_GIT_SSH_KEY", false); key != "" {
		creds.SSHKey = []byte(key)
		creds.KnownHosts = []byte(env.Required("SLUICE_GIT_KNOWN_HOSTS"))
		if creds.Password != "" {
			env.Fail("set SLUICE_GIT_TOKEN or SLUICE_GIT_SSH_KEY, not both")
		}
	}
	return creds
}
