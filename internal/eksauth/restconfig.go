package eksauth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// ClusterConfig returns the rest.Config Sluice reaches its cluster with:
// the EKS cluster clusterName through IAM when it is set (SLUICE_CLUSTER_NAME),
// else whatever KUBECONFIG (or ~/.kube/config) names. opts apply to EKS only.
// Call it once per process: the EKS config keeps its token fresh by itself.
func ClusterConfig(ctx context.Context, clusterName string, opts ...Option) (*rest.Config, error) {
	if clusterName == "" {
		slog.InfoContext(ctx, "no EKS cluster name: reaching the cluster through KUBECONFIG", "kubeconfig", os.Getenv(clientcmd.RecommendedConfigPathEnvVar))
		return FromKubeconfig()
	}
	p, err := New(ctx, clusterName, opts...)
	if err != nil {
		return nil, err
	}
	return p.RESTConfig(ctx)
}

// FromKubeconfig returns the rest.Config of the current context of the
// kubeconfig that KUBECONFIG names (default ~/.kube/config), for clusters
// other than EKS. Client rate limits are internal/kube's to set.
func FromKubeconfig() (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("no EKS cluster name (SLUICE_CLUSTER_NAME) and no usable kubeconfig (KUBECONFIG=%q): %w",
			os.Getenv(clientcmd.RecommendedConfigPathEnvVar), err)
	}
	return cfg, nil
}

// RESTConfig returns a rest.Config for the cluster: its endpoint and CA from
// DescribeCluster (asked once, then kept), and a transport that sends the
// Provider's current token and, when the API server answers 401, refreshes
// it and retries once. It presigns the first token before describing the
// cluster, so that missing credentials are reported as such.
func (p *Provider) RESTConfig(ctx context.Context) (*rest.Config, error) {
	if _, err := p.Token(ctx); err != nil {
		return nil, err
	}
	endpoint, caData, err := p.describe(ctx)
	if err != nil {
		return nil, err
	}
	return &rest.Config{
		Host:            endpoint,
		TLSClientConfig: rest.TLSClientConfig{CAData: caData},
		WrapTransport:   p.wrapTransport,
	}, nil
}

// describe returns the cluster's endpoint and PEM CA, from EKS the first time.
func (p *Provider) describe(ctx context.Context) (string, []byte, error) {
	p.clusterMu.Lock()
	defer p.clusterMu.Unlock()
	if p.endpoint != "" {
		return p.endpoint, p.caData, nil
	}
	out, err := p.eks.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(p.cluster)})
	if err != nil {
		return "", nil, p.describeError(err)
	}
	c := out.Cluster
	if c == nil || aws.ToString(c.Endpoint) == "" || c.CertificateAuthority == nil || aws.ToString(c.CertificateAuthority.Data) == "" {
		status := ekstypes.ClusterStatus("unknown")
		if c != nil {
			status = c.Status
		}
		return "", nil, fmt.Errorf("EKS cluster %q has no API endpoint or CA yet (status %s): EKS sets them once the cluster is ACTIVE", p.cluster, status)
	}
	endpoint := aws.ToString(c.Endpoint)
	if u, err := url.Parse(endpoint); err != nil || u.Scheme != "https" || u.Host == "" {
		return "", nil, fmt.Errorf("EKS cluster %q has an endpoint that is not an https URL: %q", p.cluster, endpoint)
	}
	caData, err := base64.StdEncoding.DecodeString(aws.ToString(c.CertificateAuthority.Data))
	if err != nil {
		return "", nil, fmt.Errorf("decoding the CA of EKS cluster %q: %w", p.cluster, err)
	}
	p.endpoint, p.caData = endpoint, caData
	slog.InfoContext(ctx, "described EKS cluster", "cluster", p.cluster, "region", p.region, "endpoint", endpoint, "status", c.Status, "version", aws.ToString(c.Version))
	return endpoint, caData, nil
}

// describeError names what made DescribeCluster fail.
func (p *Provider) describeError(err error) error {
	var notFound *ekstypes.ResourceNotFoundException
	var denied *ekstypes.AccessDeniedException
	switch {
	case errors.As(err, &notFound):
		return fmt.Errorf("%w: no EKS cluster named %q in region %s: %w", ErrClusterNotFound, p.cluster, p.region, err)
	case errors.As(err, &denied):
		return fmt.Errorf("%w: describing EKS cluster %q: the role needs eks:DescribeCluster on it: %w", ErrAccessDenied, p.cluster, err)
	default:
		return fmt.Errorf("describing EKS cluster %q: %w", p.cluster, err)
	}
}
