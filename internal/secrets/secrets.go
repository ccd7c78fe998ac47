// Package secrets reads credentials from AWS Secrets Manager: Sluice's own
// settings given as secret ids, and the secrets that Flux objects name with
// secretRef.
package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// API is the part of the Secrets Manager client used here.
type API interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// ErrNotFound is returned when a secret does not exist.
var ErrNotFound = errors.New("secret not found")

// Manager reads secrets from Secrets Manager. Its client is made on first use
// from the default AWS configuration, so a function given every secret
// directly never loads AWS configuration for it.
type Manager struct {
	once   sync.Once
	client API
	err    error
}

// New returns a Manager that uses client, or, when client is nil, the real
// Secrets Manager client made from the default AWS configuration.
func New(client API) *Manager {
	m := &Manager{client: client}
	if client != nil {
		m.once.Do(func() {})
	}
	return m
}

func (m *Manager) api(ctx context.Context) (API, error) {
	m.once.Do(func() {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			m.err = fmt.Errorf("loading AWS configuration for Secrets Manager: %w", err)
			return
		}
		m.client = secretsmanager.NewFromConfig(cfg)
	})
	return m.client, m.err
}

// GetSecret returns the string value of the secret id.
func (m *Manager) GetSecret(ctx context.Context, id string) (string, error) {
	c, err := m.api(ctx)
	if err != nil {
		return "", err
	}
	out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		var nf *smtypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			return "", fmt.Errorf("reading secret %q: %w", id, ErrNotFound)
		}
		return "", fmt.Errorf("reading secret %q: %w", id, err)
	}
	v := string(out.SecretBinary)
	if out.SecretString != nil {
		v = *out.SecretString
	}
	// `aws secretsmanager create-secret --secret-string file://token.txt`, as
	// the deployment guide has it, stores the file's final newline: a token
	// with it makes an invalid Authorization header. No secret Sluice reads
	// (token, key, known_hosts, webhook secret) ends in one on purpose.
	return strings.TrimRight(v, "\r\n"), nil
}

// FluxSecret is what a Flux secretRef names, with Flux's keys.
type FluxSecret struct {
	Username    string `json:"username"`
	Password    string `json:"password"`
	BearerToken string `json:"bearerToken"`
	Identity    string `json:"identity"`
	KnownHosts  string `json:"known_hosts"`
}

// FluxSecretID is the Secrets Manager id that holds the Flux secretRef name in
// namespace ns: "sluice/<ns>/<name>".
func FluxSecretID(ns, name string) string { return "sluice/" + ns + "/" + name }

// GetFluxSecret reads the secret a Flux object's secretRef names. Its value is
// a JSON object with Flux's keys.
func (m *Manager) GetFluxSecret(ctx context.Context, ns, name string) (FluxSecret, error) {
	id := FluxSecretID(ns, name)
	v, err := m.GetSecret(ctx, id)
	if err != nil {
		return FluxSecret{}, err
	}
	var s FluxSecret
	if err := json.Unmarshal([]byte(strings.TrimSpace(v)), &s); err != nil {
		// The value itself is never in the error: it is a credential.
		return FluxSecret{}, fmt.Errorf("secret %q is not a JSON object with Flux's keys (username, password, bearerToken, identity, known_hosts)", id)
	}
	return s, nil
}

// GetFluxSecretData reads the secret a Flux object's secretRef names as
// all its keys (a JSON object of strings), for the callers whose key names
// vary, such as the "*.agekey" keys of spec.decryption.
func (m *Manager) GetFluxSecretData(ctx context.Context, ns, name string) (map[string]string, error) {
	id := FluxSecretID(ns, name)
	v, err := m.GetSecret(ctx, id)
	if err != nil {
		return nil, err
	}
	var data map[string]string
	if err := json.Unmarshal([]byte(strings.TrimSpace(v)), &data); err != nil {
		// The value itself is never in the error: it is a credential.
		return nil, fmt.Errorf("secret %q is not a JSON object of strings, with Flux's key names", id)
	}
	return data, nil
}
