package github

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"strings"

	gh "github.com/google/go-github/v50/github"
)

// Headers GitHub sends with every webhook delivery. Lambda Function URLs
// deliver header names lower-cased; look them up without regard to case.
const (
	// SignatureHeader carries "sha256=" + hex(HMAC-SHA256(secret, body)).
	SignatureHeader = gh.SHA256SignatureHeader
	// SHA1SignatureHeader carries the legacy HMAC-SHA1 signature, which is
	// refused: SHA-1 alone is not accepted as proof of origin.
	SHA1SignatureHeader = gh.SHA1SignatureHeader
	// EventHeader names the event type, such as "push" or "ping".
	EventHeader = gh.EventTypeHeader
	// DeliveryHeader is the delivery's unique id; a redelivery keeps it.
	DeliveryHeader = gh.DeliveryIDHeader
)

// Event types this package parses.
const (
	EventPush = "push"
	EventPing = "ping"
)

// Sentinel errors the webhook handler maps to HTTP status codes.
var (
	// ErrSignature means the delivery is not proven to come from someone who
	// knows the secret: missing, malformed, SHA-1-only or wrong signature.
	ErrSignature = errors.New("webhook signature is not valid")
	// ErrMalformed means a correctly signed delivery could not be read.
	ErrMalformed = errors.New("webhook payload is malformed")
)

// sha256Prefix is the only signature scheme accepted.
const sha256Prefix = "sha256="

// Verifier checks webhook signatures against one secret.
type Verifier struct {
	secret []byte
}

// NewVerifier returns a Verifier for secret. An empty secret is an error:
// go-github skips verification when it gets none, and a webhook that accepts
// every caller must never be configured by accident.
func NewVerifier(secret string) (*Verifier, error) {
	if strings.TrimSpace(secret) == "" {
		return nil, errors.New("webhook secret is empty")
	}
	return &Verifier{secret: []byte(secret)}, nil
}

// Verify checks signature (the X-Hub-Signature-256 value) against the raw
// body and returns the JSON payload: the body itself for application/json, the
// "payload" form field for application/x-www-form-urlencoded. Errors wrap
// ErrSignature or ErrMalformed. A bad signature is reported before any
// problem with the body, so an unauthenticated caller learns nothing of how
// the body is read.
func (v *Verifier) Verify(contentType, signature string, body []byte) ([]byte, error) {
	if err := checkSignatureForm(signature); err != nil {
		return nil, err
	}
	mediaType := contentType
	if mt, _, err := mime.ParseMediaType(contentType); err == nil {
		mediaType = mt // drops "; charset=utf-8"
	}
	payload, err := gh.ValidatePayloadFromBody(mediaType, bytes.NewReader(body), signature, v.secret)
	if err == nil {
		return payload, nil
	}
	// ValidatePayloadFromBody reports content type, form and signature
	// problems alike; the signature over the raw body tells them apart.
	if sigErr := gh.ValidateSignature(signature, body, v.secret); sigErr != nil {
		return nil, fmt.Errorf("%w: %v", ErrSignature, sigErr)
	}
	return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
}

// checkSignatureForm refuses anything but a well-formed SHA-256 signature
// before go-github sees it, since go-github would also accept sha1= and sha512=.
func checkSignatureForm(signature string) error {
	if signature == "" {
		return fmt.Errorf("%w: %s header is missing", ErrSignature, SignatureHeader)
	}
	hexSum, ok := strings.CutPrefix(signature, sha256Prefix)
	if !ok {
		return fmt.Errorf("%w: %s does not start with %q", ErrSignature, SignatureHeader, sha256Prefix)
	}
	if sum, err := hex.DecodeString(hexSum); err != nil || len(sum) != 32 {
		return fmt.Errorf("%w: %s is not a hex SHA-256 digest", ErrSignature, SignatureHeader)
	}
	return nil
}
