package registry

import (
	"fmt"
	"regexp"
	"strings"
)

// ecrHost matches the private ECR registry hosts: the regional
// <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn] and the dual-stack
// <account>.dkr-ecr[-fips].<region>.on.aws.
var ecrHost = regexp.MustCompile(`^([0-9]{12})\.(?:dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?|dkr-ecr(?:-fips)?\.([a-z0-9-]+)\.on\.aws)$`)

// ecrRepoName is ECR's rule for repository names.
var ecrRepoName = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

// ECRRepository is an ECR repository as an image reference names it.
type ECRRepository struct {
	// Host is the registry host, e.g. 111122223333.dkr.ecr.ap-northeast-1.amazonaws.com.
	Host string
	// AccountID is the registry id, the 12-digit account that owns it.
	AccountID string
	// Region is the AWS region of the registry, where its API is called.
	Region string
	// Name is the repository name, e.g. mamezou-tech/task-service.
	Name string
}

// String returns the image reference without tag: host/name.
func (r ECRRepository) String() string {
	return r.Host + "/" + r.Name
}

// ParseECRRepository parses an ImageRepository's spec.image, such as
// 111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/mamezou-tech/task-service.
// An image of another registry, or one with a tag or digest, is an error.
func ParseECRRepository(image string) (ECRRepository, error) {
	host, name, ok := strings.Cut(strings.TrimSpace(image), "/")
	if !ok || name == "" {
		return ECRRepository{}, fmt.Errorf("image %q is not <account>.dkr.ecr.<region>.amazonaws.com/<repository>", image)
	}
	host = strings.ToLower(host)
	m := ecrHost.FindStringSubmatch(host)
	if m == nil {
		return ECRRepository{}, fmt.Errorf("image %q is not in an Amazon ECR private registry (<account>.dkr.ecr.<region>.amazonaws.com)", image)
	}
	if strings.ContainsAny(name, "@:") {
		return ECRRepository{}, fmt.Errorf("image %q names a tag or digest; an image repository is named without one", image)
	}
	if !ecrRepoName.MatchString(name) || len(name) < 2 || len(name) > 256 {
		return ECRRepository{}, fmt.Errorf("image %q: %q is not a valid ECR repository name", image, name)
	}
	region := m[2]
	if region == "" {
		region = m[3]
	}
	return ECRRepository{Host: host, AccountID: m[1], Region: region, Name: name}, nil
}
