package alerting

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/secrets"
)

// target reads p's secrets into what a delivery needs. The secretRef's
// keys are Flux's: address, token, username, password, headers, proxy.
func (d *Dispatcher) target(ctx context.Context, p fluxconfig.Provider) (target, error) {
	t := target{kind: p.Type, address: p.Address, channel: p.Channel, username: p.Username,
		proxy: p.Proxy, uid: uid("Provider/" + p.Namespace + "/" + p.Name)}
	if p.SecretRef != "" {
		s, err := d.secret(ctx, p, p.SecretRef)
		if err != nil {
			return t, err
		}
		if v := strings.TrimSpace(s.str("address")); v != "" {
			t.address = v
		}
		t.token = strings.TrimSpace(s.str("token"))
		if v := s.str("username"); v != "" {
			t.username = v
		}
		t.password = s.str("password")
		if v := s.str("proxy"); v != "" {
			t.proxy = strings.TrimSpace(v)
		}
		if t.headers, err = s.headers(); err != nil {
			return t, fmt.Errorf("secret %s: %w", secrets.FluxSecretID(p.Namespace, p.SecretRef), err)
		}
	}
	if p.ProxySecretRef != "" {
		s, err := d.secret(ctx, p, p.ProxySecretRef)
		if err != nil {
			return t, err
		}
		u, err := url.Parse(strings.TrimSpace(s.str("address")))
		if err != nil || u.Host == "" {
			return t, fmt.Errorf("secret %s: its address is not a proxy URL", secrets.FluxSecretID(p.Namespace, p.ProxySecretRef))
		}
		if user := s.str("username"); user != "" {
			u.User = url.UserPassword(user, s.str("password"))
		}
		t.proxy = u.String()
	}
	if t.address == "" && p.Type != TypePagerDuty {
		return t, errors.New("the Provider has no address (spec.address, or address in its secretRef)")
	}
	return t, nil
}

// secretData is a secret's JSON object.
type secretData map[string]any

func (s secretData) str(k string) string {
	v, _ := s[k].(string)
	return v
}

// headers reads "headers": a JSON object, or, as Flux's Secrets hold it, a
// YAML map in a string.
func (s secretData) headers() (map[string]string, error) {
	out := map[string]string{}
	switch h := s["headers"].(type) {
	case nil:
		return nil, nil
	case string:
		if err := yaml.Unmarshal([]byte(h), &out); err != nil {
			return nil, errors.New("headers is not a map of header names to values")
		}
	case map[string]any:
		for k, v := range h {
			str, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("header %s is not a string", k)
			}
			out[k] = str
		}
	default:
		return nil, errors.New("headers is not a map of header names to values")
	}
	return out, nil
}

func (d *Dispatcher) secret(ctx context.Context, p fluxconfig.Provider, name string) (secretData, error) {
	id := secrets.FluxSecretID(p.Namespace, name)
	if d.Secrets == nil {
		return nil, fmt.Errorf("the Provider names secret %s, but this function reads no secrets", id)
	}
	v, err := d.Secrets.GetSecret(ctx, id)
	if err != nil {
		return nil, err
	}
	var s secretData
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		// Never the value: it is a credential.
		return nil, fmt.Errorf("secret %s is not a JSON object with Flux's keys", id)
	}
	return s, nil
}

// httpClient honours the Provider's proxy and certSecretRef (ca.crt, and
// tls.crt with tls.key for a client certificate; Flux's older caFile,
// certFile, keyFile too).
func (d *Dispatcher) httpClient(ctx context.Context, p fluxconfig.Provider, t target) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if t.proxy != "" {
		u, err := url.Parse(t.proxy)
		if err != nil || u.Host == "" {
			return nil, errors.New("the Provider's proxy is not a URL")
		}
		tr.Proxy = http.ProxyURL(u)
	}
	if p.CertSecretRef != "" {
		s, err := d.secret(ctx, p, p.CertSecretRef)
		if err != nil {
			return nil, err
		}
		id := secrets.FluxSecretID(p.Namespace, p.CertSecretRef)
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if ca := first(s, "ca.crt", "caFile"); ca != "" {
			pool, err := x509.SystemCertPool()
			if err != nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM([]byte(ca)) {
				return nil, fmt.Errorf("secret %s: ca.crt holds no PEM certificate", id)
			}
			cfg.RootCAs = pool
		}
		if crt, key := first(s, "tls.crt", "certFile"), first(s, "tls.key", "keyFile"); crt != "" || key != "" {
			pair, err := tls.X509KeyPair([]byte(crt), []byte(key))
			if err != nil {
				return nil, fmt.Errorf("secret %s: tls.crt and tls.key are not a certificate and its key", id)
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
		tr.TLSClientConfig = cfg
	}
	return &http.Client{Transport: tr}, nil
}

func first(s secretData, keys ...string) string {
	for _, k := range keys {
		if v := s.str(k); v != "" {
			return v
		}
	}
	return ""
}
