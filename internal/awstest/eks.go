package awstest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
)

// EKSAccountID is the AWS account the EKS stand-in puts in the ARNs it returns.
const EKSAccountID = "111122223333"

// EKSCluster is a cluster the EKS stand-in describes.
type EKSCluster struct {
	// Name is the cluster name, as DescribeCluster takes it.
	Name string
	// Endpoint is the URL of the cluster's API server; without one the
	// cluster is reported as still CREATING.
	Endpoint string
	// CAData is the PEM certificate authority that signed the API server's
	// certificate; DescribeCluster returns it base64-encoded, as EKS does.
	CAData []byte
	// Version is the Kubernetes minor version reported (default "1.37").
	Version string
}

// EKSServer speaks the EKS REST-JSON protocol for DescribeCluster
// (GET /clusters/{name}) on loopback. Point the real SDK client at URL
// through AWS_ENDPOINT_URL_EKS or eks.Options.BaseEndpoint.
type EKSServer struct {
	server *httptest.Server

	mu       sync.Mutex
	clusters map[string]EKSCluster
	denied   map[string]bool
	requests int
}

// NewEKSServer starts an EKS stand-in that knows clusters. Close it when done.
func NewEKSServer(clusters ...EKSCluster) *EKSServer {
	s := &EKSServer{clusters: map[string]EKSCluster{}, denied: map[string]bool{}}
	for _, c := range clusters {
		s.clusters[c.Name] = c
	}
	s.server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the base endpoint of the stand-in.
func (s *EKSServer) URL() string { return s.server.URL }

// Close stops the stand-in.
func (s *EKSServer) Close() { s.server.Close() }

// AddCluster makes the stand-in describe c (replacing a cluster of the same name).
func (s *EKSServer) AddCluster(c EKSCluster) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clusters[c.Name] = c
}

// DenyAccessKey makes requests signed with the access key id fail with
// AccessDeniedException, as EKS answers a principal whose IAM policy lacks
// eks:DescribeCluster.
func (s *EKSServer) DenyAccessKey(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[id] = true
}

// Requests is how many DescribeCluster requests the stand-in has answered.
func (s *EKSServer) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

func (s *EKSServer) serve(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.EscapedPath(), "/clusters/")
	if !ok || r.Method != http.MethodGet || name == "" || strings.Contains(name, "/") {
		eksError(w, http.StatusNotFound, "UnknownOperationException", "", fmt.Sprintf("%s %s is not an operation this EKS stand-in serves", r.Method, r.URL.Path))
		return
	}
	name, err := url.PathUnescape(name)
	if err != nil {
		eksError(w, http.StatusBadRequest, "InvalidParameterException", "", "malformed cluster name in path")
		return
	}
	accessKey, region, ok := eksCredentialScope(r.Header.Get("Authorization"))
	if !ok {
		eksError(w, http.StatusForbidden, "MissingAuthenticationTokenException", "", "Missing Authentication Token")
		return
	}

	s.mu.Lock()
	s.requests++
	c, found := s.clusters[name]
	denied := s.denied[accessKey]
	s.mu.Unlock()

	arn := fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", region, EKSAccountID, name)
	switch {
	case denied:
		eksError(w, http.StatusForbidden, "AccessDeniedException", "",
			fmt.Sprintf("User: arn:aws:iam::%s:user/%s is not authorized to perform: eks:DescribeCluster on resource: %s", EKSAccountID, accessKey, arn))
	case !found:
		eksError(w, http.StatusNotFound, "ResourceNotFoundException", name, fmt.Sprintf("No cluster found for name: %s.", name))
	default:
		eksDescribe(w, c, arn)
	}
}

// eksCredentialScope reads the access key id and region from a SigV4
// Authorization header: "AWS4-HMAC-SHA256 Credential=AKID/date/region/eks/aws4_request, ...".
func eksCredentialScope(auth string) (accessKey, region string, ok bool) {
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 Credential=")
	if !ok {
		return "", "", false
	}
	scope, _, _ := strings.Cut(rest, ",")
	parts := strings.Split(scope, "/")
	if len(parts) != 5 || parts[3] != "eks" || parts[4] != "aws4_request" {
		return "", "", false
	}
	return parts[0], parts[2], true
}

func eksDescribe(w http.ResponseWriter, c EKSCluster, arn string) {
	version := c.Version
	if version == "" {
		version = "1.37"
	}
	// EKS sets the endpoint and CA once the cluster is ACTIVE.
	status := "ACTIVE"
	if c.Endpoint == "" {
		status = "CREATING"
	}
	type certificate struct {
		Data string `json:"data"`
	}
	type cluster struct {
		Name                 string      `json:"name"`
		Arn                  string      `json:"arn"`
		Version              string      `json:"version"`
		Endpoint             string      `json:"endpoint"`
		Status               string      `json:"status"`
		CertificateAuthority certificate `json:"certificateAuthority"`
		PlatformVersion      string      `json:"platformVersion"`
	}
	body := struct {
		Cluster cluster `json:"cluster"`
	}{cluster{
		Name:                 c.Name,
		Arn:                  arn,
		Version:              version,
		Endpoint:             c.Endpoint,
		Status:               status,
		CertificateAuthority: certificate{Data: base64.StdEncoding.EncodeToString(c.CAData)},
		PlatformVersion:      "eks.1",
	}}
	eksWriteJSON(w, http.StatusOK, body)
}

// eksError writes a REST-JSON error as EKS does: the code in the
// X-Amzn-ErrorType header, the message (and the cluster, when one is named)
// in the body.
func eksError(w http.ResponseWriter, status int, code, clusterName, message string) {
	w.Header().Set("X-Amzn-ErrorType", code)
	body := map[string]string{"message": message}
	if clusterName != "" {
		body["clusterName"] = clusterName
	}
	eksWriteJSON(w, status, body)
}

func eksWriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-RequestId", "00000000-0000-4000-8000-000000000000")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
