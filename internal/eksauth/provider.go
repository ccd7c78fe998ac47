package eksauth

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Errors callers can tell apart with errors.Is.
var (
	// ErrClusterNotFound: EKS has no cluster of that name in the region.
	ErrClusterNotFound = errors.New("EKS cluster not found")
	// ErrNoCredentials: the default AWS credential chain found no credentials.
	ErrNoCredentials = errors.New("no AWS credentials")
	// ErrAccessDenied: AWS refused the identity an action it needs.
	ErrAccessDenied = errors.New("access denied")
)

// EKSAPI is the part of the EKS client the Provider uses (*eks.Client).
type EKSAPI interface {
	DescribeCluster(ctx context.Context, in *eks.DescribeClusterInput, optFns ...func(*eks.Options)) (*eks.DescribeClusterOutput, error)
}

// STSPresignAPI is the part of the STS presign client the Provider uses
// (*sts.PresignClient).
type STSPresignAPI interface {
	PresignGetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

var (
	_ EKSAPI        = (*eks.Client)(nil)
	_ STSPresignAPI = (*sts.PresignClient)(nil)
)

// Provider reaches one EKS cluster with the caller's IAM identity: it
// describes the cluster once and keeps a bearer token, refreshed before it
// expires. Make one per process (a Lambda container) and share it: it is safe
// for concurrent use.
type Provider struct {
	cluster string
	region  string
	eks     EKSAPI
	sts     STSPresignAPI
	// creds is checked before presigning so that missing credentials are
	// reported as such; nil when both clients were given.
	creds  aws.CredentialsProvider
	awsCfg *aws.Config
	now    func() time.Time

	mu    sync.Mutex // guards token; held while presigning, so one caller refreshes and the rest wait for it
	token cachedToken

	clusterMu sync.Mutex // guards endpoint and caData
	endpoint  string
	caData    []byte
}

// Option changes how New builds a Provider.
type Option func(*Provider) error

// WithAWSConfig uses cfg (region, credentials, endpoints, HTTP client)
// instead of the default AWS configuration chain.
func WithAWSConfig(cfg aws.Config) Option {
	return func(p *Provider) error {
		p.awsCfg = &cfg
		return nil
	}
}

// WithEKSClient uses c for DescribeCluster instead of a client made from the
// AWS configuration.
func WithEKSClient(c EKSAPI) Option {
	return func(p *Provider) error {
		if c == nil {
			return errors.New("WithEKSClient: nil client")
		}
		p.eks = c
		return nil
	}
}

// WithSTSPresignClient uses c to presign tokens instead of a client made from
// the AWS configuration.
func WithSTSPresignClient(c STSPresignAPI) Option {
	return func(p *Provider) error {
		if c == nil {
			return errors.New("WithSTSPresignClient: nil client")
		}
		p.sts = c
		return nil
	}
}

// WithClock makes the Provider sign tokens at, and judge their age by, now()
// instead of the wall clock.
func WithClock(now func() time.Time) Option {
	return func(p *Provider) error {
		if now == nil {
			return errors.New("WithClock: nil clock")
		}
		p.now = now
		return nil
	}
}

// clusterNamePattern is what EKS allows in a cluster name (1 to 100 characters).
var clusterNamePattern = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$`)

// New returns a Provider for the EKS cluster clusterName. Clients not given
// as options are made from the AWS configuration: WithAWSConfig's, else the
// default chain (AWS_REGION, the Lambda role's credentials,
// AWS_ENDPOINT_URL_EKS and AWS_ENDPOINT_URL_STS, shared config files).
// New makes no AWS calls.
func New(ctx context.Context, clusterName string, opts ...Option) (*Provider, error) {
	if !clusterNamePattern.MatchString(clusterName) {
		return nil, fmt.Errorf("invalid EKS cluster name %q: want 1-100 letters, digits, '-' or '_', starting with a letter or digit", clusterName)
	}
	p := &Provider{cluster: clusterName, now: time.Now}
	for _, opt := range opts {
		if err := opt(p); err != nil {
			return nil, err
		}
	}
	if p.eks != nil && p.sts != nil {
		return p, nil
	}
	cfg := p.awsCfg
	if cfg == nil {
		loaded, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("loading AWS configuration for EKS cluster %q: %w", clusterName, err)
		}
		cfg = &loaded
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("no AWS region for EKS cluster %q: set AWS_REGION", clusterName)
	}
	p.region = cfg.Region
	p.creds = cfg.Credentials
	if p.eks == nil {
		p.eks = eks.NewFromConfig(*cfg)
	}
	if p.sts == nil {
		// The SDK resolves the regional STS endpoint (sts.<region>.amazonaws.com),
		// which aws-iam-authenticator accepts, unless AWS_ENDPOINT_URL_STS says otherwise.
		p.sts = sts.NewPresignClient(sts.NewFromConfig(*cfg))
	}
	return p, nil
}

// ClusterName is the name of the EKS cluster the Provider reaches.
func (p *Provider) ClusterName() string { return p.cluster }
