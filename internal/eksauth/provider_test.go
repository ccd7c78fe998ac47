package eksauth

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"

	"github.com/sluice-gitops/sluice/internal/awstest"
)

// isolateAWS empties the AWS environment for the test: no credentials, no
// shared files, no endpoint overrides, and no instance metadata service, so
// the default chain never reaches beyond loopback.
func isolateAWS(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE":                        filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE":            filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":              "true",
		"AWS_PROFILE":                            "",
		"AWS_ACCESS_KEY_ID":                      "",
		"AWS_SECRET_ACCESS_KEY":                  "",
		"AWS_SESSION_TOKEN":                      "",
		"AWS_WEB_IDENTITY_TOKEN_FILE":            "",
		"AWS_ROLE_ARN":                           "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":     "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_REGION":                             "",
		"AWS_DEFAULT_REGION":                     "",
		"AWS_ENDPOINT_URL":                       "",
		"AWS_ENDPOINT_URL_EKS":                   "",
		"AWS_ENDPOINT_URL_STS":                   "",
	} {
		t.Setenv(k, v)
	}
}

// awsEnv sets the region and static credentials in the environment, as
// Lambda does for a function's role.
func awsEnv(t *testing.T, region, keyID, secret string) {
	t.Helper()
	t.Setenv("AWS_REGION", region)
	t.Setenv("AWS_ACCESS_KEY_ID", keyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
}

var fakeCA = []byte("-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n")

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name    string
		cluster string
		opts    []Option
		region  string
		wantErr string
	}{
		{name: "empty name", cluster: "", region: unitRegion, wantErr: "invalid EKS cluster name"},
		{name: "name with a space", cluster: "my cluster", region: unitRegion, wantErr: "invalid EKS cluster name"},
		{name: "name starting with a dash", cluster: "-prod", region: unitRegion, wantErr: "invalid EKS cluster name"},
		{name: "name of 101 characters", cluster: strings.Repeat("a", 101), region: unitRegion, wantErr: "invalid EKS cluster name"},
		{name: "no region", cluster: "prod", wantErr: "set AWS_REGION"},
		{name: "nil clock", cluster: "prod", region: unitRegion, opts: []Option{WithClock(nil)}, wantErr: "nil clock"},
		{name: "nil EKS client", cluster: "prod", region: unitRegion, opts: []Option{WithEKSClient(nil)}, wantErr: "nil client"},
		{name: "valid", cluster: "prod_1-a", region: unitRegion},
		{name: "name of 100 characters", cluster: strings.Repeat("a", 100), region: unitRegion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateAWS(t)
			awsEnv(t, tt.region, unitKeyID, unitSecret)
			p, err := New(context.Background(), tt.cluster, tt.opts...)
			if tt.wantErr == "" {
				if err != nil || p == nil {
					t.Fatalf("New = %v, %v; want a Provider", p, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestRESTConfigFromEnvironment drives the default chain as Lambda sets it
// up, with AWS_ENDPOINT_URL_EKS pointing at the EKS stand-in.
func TestRESTConfigFromEnvironment(t *testing.T) {
	stand := awstest.NewEKSServer(awstest.EKSCluster{Name: unitCluster, Endpoint: "https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com", CAData: fakeCA})
	defer stand.Close()
	isolateAWS(t)
	awsEnv(t, unitRegion, unitKeyID, unitSecret)
	t.Setenv("AWS_ENDPOINT_URL_EKS", stand.URL())

	p, err := New(context.Background(), unitCluster)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		cfg, err := p.RESTConfig(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Host != "https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com" || string(cfg.CAData) != string(fakeCA) {
			t.Errorf("call %d: Host = %q, CAData = %q; want the stand-in's endpoint and CA", i, cfg.Host, cfg.CAData)
		}
		if cfg.WrapTransport == nil || cfg.BearerToken != "" {
			t.Errorf("call %d: WrapTransport set %v, BearerToken %q; want true, empty", i, cfg.WrapTransport != nil, cfg.BearerToken)
		}
	}
	if got := stand.Requests(); got != 1 {
		t.Errorf("DescribeCluster was called %d times, want 1 (kept for the life of the process)", got)
	}
}

// TestSTSEndpointFromEnvironment: AWS_ENDPOINT_URL_STS moves the presigned
// URL, as the SDK's endpoint configuration says.
func TestSTSEndpointFromEnvironment(t *testing.T) {
	isolateAWS(t)
	awsEnv(t, unitRegion, unitKeyID, unitSecret)
	t.Setenv("AWS_ENDPOINT_URL_STS", "https://sts.sluice.test")
	p, err := New(context.Background(), unitCluster)
	if err != nil {
		t.Fatal(err)
	}
	token, err := p.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if u := decodeToken(t, token); u.Host != "sts.sluice.test" {
		t.Errorf("token URL host = %q, want sts.sluice.test", u.Host)
	}
}

func TestRESTConfigErrors(t *testing.T) {
	stand := awstest.NewEKSServer(awstest.EKSCluster{Name: unitCluster, Endpoint: "https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com", CAData: fakeCA},
		awstest.EKSCluster{Name: "not-ready", Endpoint: "", CAData: nil})
	defer stand.Close()
	stand.DenyAccessKey("AKIADENIED")

	tests := []struct {
		name     string
		cluster  string
		keyID    string
		noCreds  bool
		wantIs   error
		wantText []string
	}{
		{name: "unknown cluster", cluster: "nope", keyID: unitKeyID, wantIs: ErrClusterNotFound, wantText: []string{`"nope"`, unitRegion, "ResourceNotFoundException"}},
		{name: "not allowed to describe", cluster: unitCluster, keyID: "AKIADENIED", wantIs: ErrAccessDenied, wantText: []string{"eks:DescribeCluster", "AccessDeniedException"}},
		{name: "no credentials", cluster: unitCluster, noCreds: true, wantIs: ErrNoCredentials, wantText: []string{unitCluster}},
		{name: "cluster not active yet", cluster: "not-ready", keyID: unitKeyID, wantText: []string{"no API endpoint", "CREATING"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateAWS(t)
			t.Setenv("AWS_REGION", unitRegion)
			if !tt.noCreds {
				awsEnv(t, unitRegion, tt.keyID, unitSecret)
			}
			t.Setenv("AWS_ENDPOINT_URL_EKS", stand.URL())
			_, err := ClusterConfig(context.Background(), tt.cluster)
			if err == nil {
				t.Fatal("ClusterConfig succeeded, want an error")
			}
			t.Log(err)
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q is not %v", err, tt.wantIs)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

// TestUnsignedPresignIsNoCredentials: an STS client without credentials
// presigns nothing; that is reported, not sent.
func TestUnsignedPresignIsNoCredentials(t *testing.T) {
	cfg := aws.Config{Region: unitRegion} // no Credentials
	p, err := New(context.Background(), unitCluster, WithAWSConfig(cfg),
		WithEKSClient(eks.NewFromConfig(cfg)), WithClock(func() time.Time { return unitTime }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Token(context.Background()); !errors.Is(err, ErrNoCredentials) {
		t.Fatalf("Token error = %v, want ErrNoCredentials", err)
	}
}
