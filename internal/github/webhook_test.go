package github

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"hash"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const testSecret = "sluice-test-secret"

func mac(newHash func() hash.Hash, prefix, secret, body string) string {
	m := hmac.New(newHash, []byte(secret))
	m.Write([]byte(body))
	return prefix + hex.EncodeToString(m.Sum(nil))
}

func sign(body string) string { return mac(sha256.New, "sha256=", testSecret, body) }

func TestNewVerifier(t *testing.T) {
	for _, secret := range []string{"", "  \n"} {
		if _, err := NewVerifier(secret); err == nil {
			t.Errorf("NewVerifier(%q) accepted an empty secret", secret)
		}
	}
}

func TestVerify(t *testing.T) {
	const payload = `{"zen":"Keep it logically awesome.","hook_id":1}`
	form := url.Values{"payload": {payload}}.Encode()
	tests := []struct {
		name        string
		contentType string
		signature   string
		body        string
		want        string
		wantErr     error
	}{
		{name: "json", contentType: "application/json", signature: sign(payload), body: payload, want: payload},
		{name: "json with charset", contentType: "application/json; charset=utf-8", signature: sign(payload), body: payload, want: payload},
		{name: "form", contentType: "application/x-www-form-urlencoded", signature: sign(form), body: form, want: payload},
		{name: "form signed over the payload only", contentType: "application/x-www-form-urlencoded", signature: sign(payload), body: form, wantErr: ErrSignature},
		{name: "missing signature", contentType: "application/json", body: payload, wantErr: ErrSignature},
		{name: "sha1 signature refused", contentType: "application/json", signature: mac(sha1.New, "sha1=", testSecret, payload), body: payload, wantErr: ErrSignature},
		{name: "sha512 signature refused", contentType: "application/json", signature: mac(sha512.New, "sha512=", testSecret, payload), body: payload, wantErr: ErrSignature},
		{name: "wrong secret", contentType: "application/json", signature: mac(sha256.New, "sha256=", "other", payload), body: payload, wantErr: ErrSignature},
		{name: "tampered body", contentType: "application/json", signature: sign(payload), body: payload + " ", wantErr: ErrSignature},
		{name: "not hex", contentType: "application/json", signature: "sha256=zz", body: payload, wantErr: ErrSignature},
		{name: "short digest", contentType: "application/json", signature: "sha256=abcd", body: payload, wantErr: ErrSignature},
		{name: "unsupported content type, signed", contentType: "text/plain", signature: sign(payload), body: payload, wantErr: ErrMalformed},
		{name: "unsupported content type, unsigned", contentType: "text/plain", signature: sign("x"), body: payload, wantErr: ErrSignature},
		{name: "missing content type", signature: sign(payload), body: payload, wantErr: ErrMalformed},
		{name: "bad form, signed", contentType: "application/x-www-form-urlencoded", signature: sign("payload=%zz"), body: "payload=%zz", wantErr: ErrMalformed},
	}
	v, err := NewVerifier(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Verify(tt.contentType, tt.signature, []byte(tt.body))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("payload (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVerifyErrorKeepsSecretOut(t *testing.T) {
	v, _ := NewVerifier(testSecret)
	_, err := v.Verify("application/json", sign("a"), []byte("b"))
	if err == nil || strings.Contains(err.Error(), testSecret) {
		t.Fatalf("error = %v", err)
	}
}
