package awstest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
)

// KMSServer speaks AWS KMS's JSON 1.1 protocol (X-Amz-Target
// TrentService.Encrypt and TrentService.Decrypt) on loopback, for symmetric
// keys it holds in memory. It really encrypts: a ciphertext blob is the
// key's ARN and an AES-GCM seal of the plaintext under that key, with the
// encryption context as additional data, so only the same key and context
// decrypt it, as in KMS. Point the real SDK client at URL through
// AWS_ENDPOINT_URL_KMS.
type KMSServer struct {
	server *httptest.Server
	keys   map[string]cipher.AEAD // by ARN

	mu       sync.Mutex
	decrypts int
}

// NewKMSServer starts a stand-in holding a fresh random key for each ARN.
func NewKMSServer(arns ...string) *KMSServer {
	s := &KMSServer{keys: map[string]cipher.AEAD{}}
	for _, arn := range arns {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			panic(err)
		}
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			panic(err)
		}
		s.keys[arn] = gcm
	}
	s.server = httptest.NewServer(jsonService{target: "TrentService.", service: "kms", dispatch: s.dispatch})
	return s
}

// URL is the endpoint to point the SDK client at.
func (s *KMSServer) URL() string { return s.server.URL }

// Close stops the server.
func (s *KMSServer) Close() { s.server.Close() }

// Decrypts counts the Decrypt calls that succeeded.
func (s *KMSServer) Decrypts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.decrypts
}

type kmsRequest struct {
	KeyID             string            `json:"KeyId"`
	Plaintext         []byte            `json:"Plaintext"`
	CiphertextBlob    []byte            `json:"CiphertextBlob"`
	EncryptionContext map[string]string `json:"EncryptionContext"`
}

func (s *KMSServer) dispatch(op string, r *http.Request) (any, *awsError) {
	var in kmsRequest
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return nil, &awsError{http.StatusBadRequest, "SerializationException", err.Error()}
	}
	switch op {
	case "Encrypt":
		return s.encrypt(in)
	case "Decrypt":
		return s.decrypt(in)
	}
	return nil, &awsError{http.StatusBadRequest, "UnknownOperationException", op + " is not an operation this KMS stand-in serves"}
}

func (s *KMSServer) encrypt(in kmsRequest) (any, *awsError) {
	gcm, ok := s.keys[in.KeyID]
	if !ok {
		return nil, notFound(in.KeyID)
	}
	if len(in.Plaintext) == 0 || len(in.Plaintext) > 4096 {
		return nil, &awsError{http.StatusBadRequest, "ValidationException", "Plaintext must be 1 to 4096 bytes"}
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	blob := binary.BigEndian.AppendUint16(nil, uint16(len(in.KeyID)))
	blob = append(append(blob, in.KeyID...), nonce...)
	blob = gcm.Seal(blob, nonce, in.Plaintext, contextAAD(in.EncryptionContext))
	return map[string]any{"CiphertextBlob": blob, "KeyId": in.KeyID, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}, nil
}

func (s *KMSServer) decrypt(in kmsRequest) (any, *awsError) {
	invalid := &awsError{http.StatusBadRequest, "InvalidCiphertextException", "The ciphertext is invalid, or the encryption context does not match."}
	b := in.CiphertextBlob
	if len(b) < 2 || len(b) < 2+int(binary.BigEndian.Uint16(b)) {
		return nil, invalid
	}
	n := int(binary.BigEndian.Uint16(b))
	arn, rest := string(b[2:2+n]), b[2+n:]
	if in.KeyID != "" && in.KeyID != arn {
		return nil, &awsError{http.StatusBadRequest, "IncorrectKeyException", "The key ID in the request does not identify a CMK that can perform this operation."}
	}
	gcm, ok := s.keys[arn]
	if !ok {
		return nil, notFound(arn)
	}
	if len(rest) < gcm.NonceSize() {
		return nil, invalid
	}
	plain, err := gcm.Open(nil, rest[:gcm.NonceSize()], rest[gcm.NonceSize():], contextAAD(in.EncryptionContext))
	if err != nil {
		return nil, invalid
	}
	s.mu.Lock()
	s.decrypts++
	s.mu.Unlock()
	return map[string]any{"Plaintext": plain, "KeyId": arn, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}, nil
}

func notFound(arn string) *awsError {
	return &awsError{http.StatusBadRequest, "NotFoundException", "Key '" + arn + "' does not exist"}
}

// contextAAD is the encryption context as JSON, whose object keys
// encoding/json sorts: one form whatever order the caller's map gave.
func contextAAD(ctx map[string]string) []byte {
	if len(ctx) == 0 {
		return nil
	}
	b, _ := json.Marshal(ctx) // a map of strings always marshals
	return b
}
