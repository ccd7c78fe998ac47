// Package eksauth reaches a Kubernetes cluster: an Amazon EKS cluster through IAM (DescribeCluster for its endpoint and CA, an STS-presigned bearer token, refreshed before it expires), or any cluster through KUBECONFIG.
package eksauth
