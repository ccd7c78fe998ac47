package awstest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
)

// SecretsManagerServer speaks Secrets Manager's AWS JSON 1.1 protocol
// (X-Amz-Target secretsmanager.GetSecretValue) on loopback, over secrets
// held in memory. Point the real SDK client at URL through
// AWS_ENDPOINT_URL_SECRETS_MANAGER or secretsmanager.Options.BaseEndpoint.
type SecretsManagerServer struct {
	server  *httptest.Server
	mu      sync.Mutex
	secrets map[string]string
}

// NewSecretsManagerServer starts a stand-in holding secrets (id → value).
func NewSecretsManagerServer(secrets map[string]string) *SecretsManagerServer {
	s := &SecretsManagerServer{secrets: map[string]string{}}
	for k, v := range secrets {
		s.secrets[k] = v
	}
	s.server = httptest.NewServer(jsonService{target: "secretsmanager.", service: "secretsmanager", dispatch: s.dispatch})
	return s
}

// URL is the endpoint to point the SDK client at.
func (s *SecretsManagerServer) URL() string { return s.server.URL }

// Close stops the server.
func (s *SecretsManagerServer) Close() { s.server.Close() }

func (s *SecretsManagerServer) dispatch(op string, r *http.Request) (any, *awsError) {
	if op != "GetSecretValue" {
		return nil, &awsError{http.StatusBadRequest, "UnknownOperationException", op + " is not an operation this Secrets Manager stand-in serves"}
	}
	var in struct {
		SecretID string `json:"SecretId"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.SecretID == "" {
		return nil, &awsError{http.StatusBadRequest, "InvalidParameterException", "SecretId is required"}
	}
	s.mu.Lock()
	v, ok := s.secrets[in.SecretID]
	s.mu.Unlock()
	if !ok {
		return nil, &awsError{http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret."}
	}
	return map[string]any{
		"ARN":          "arn:aws:secretsmanager:us-east-1:111122223333:secret:" + in.SecretID + "-AbCdEf",
		"Name":         in.SecretID,
		"SecretString": v,
		"VersionId":    "00000000-0000-4000-8000-000000000001",
	}, nil
}
